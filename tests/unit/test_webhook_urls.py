"""Which URLs may receive webhooks: https to public addresses in AWS, this machine locally (SSRF)."""

from __future__ import annotations

import pytest
from loyalty.errors import InvalidRequest
from loyalty.webhooks.urls import UrlPolicy, address_allowed, check_url

PUBLIC, LOCAL = UrlPolicy.PUBLIC, UrlPolicy.LOCAL


@pytest.mark.parametrize(
    "url",
    [
        "https://crm.example.ru/hooks/loyalty",
        "https://shop.example.com:8443/webhooks?token=abc",
        "https://93.184.216.34/",
    ],
)
def test_public_https_urls_are_accepted_in_aws(url: str) -> None:
    assert check_url(url, PUBLIC) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://crm.example.ru/hooks", "https"),
        ("ftp://crm.example.ru/", "https"),
        ("https://localhost/hooks", "public host"),
        ("https://intranet/hooks", "public host"),
        ("https://crm.internal/hooks", "public host"),
        ("https://127.0.0.1/", "public address"),
        ("https://10.0.0.5/", "public address"),
        ("https://172.16.3.4/", "public address"),
        ("https://192.168.1.10/", "public address"),
        ("https://169.254.169.254/latest/meta-data/", "public address"),  # the metadata service
        ("https://100.64.0.1/", "public address"),  # shared address space
        ("https://[::1]/", "public address"),
        ("https://[::ffff:127.0.0.1]/", "public address"),
        ("https://[fd00::1]/", "public address"),
        ("https://0.0.0.0/", "public address"),
        ("https://224.0.0.1/", "public address"),
        ("https://user:pass@crm.example.ru/", "credentials"),
        ("https://crm.example.ru/#frag", "fragment"),
        ("https:///no-host", "no host"),
        ("https://crm.example.ru:99999/", "valid URL"),
        ("not a url", "https"),
    ],
)
def test_unsafe_or_unusable_urls_are_refused_in_aws_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_url(url, PUBLIC)
    assert refused.value.code == "webhook_url_refused"
    assert reason in refused.value.message
    assert refused.value.details["field"] == "url"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/_local/webhook-receiver/crm",
        "http://localhost:3000/webhooks",
        "https://127.0.0.2:8443/",
        "http://[::1]:9000/",
    ],
)
def test_locally_http_to_this_machine_is_accepted(url: str) -> None:
    assert check_url(url, LOCAL) == url


@pytest.mark.parametrize(
    "url", ["http://crm.example.ru/hooks", "https://93.184.216.34/", "http://10.0.0.5/", "http://192.168.1.1/"]
)
def test_locally_nothing_off_this_machine_is_accepted(url: str) -> None:
    with pytest.raises(InvalidRequest, match="this machine"):
        check_url(url, LOCAL)


def test_connection_time_addresses_follow_the_same_policy() -> None:
    assert address_allowed("93.184.216.34", PUBLIC)
    assert address_allowed("2a00:1450:4010:c05::64", PUBLIC)
    for private in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "::ffff:10.0.0.1", "fe80::1%eth0", "bogus"):
        assert not address_allowed(private, PUBLIC), private
    assert address_allowed("127.0.0.1", LOCAL)
    assert address_allowed("::1", LOCAL)
    assert not address_allowed("93.184.216.34", LOCAL)
