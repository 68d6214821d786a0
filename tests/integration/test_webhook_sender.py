"""The sender refuses, at connection time, addresses the URL policy forbids (SSRF): literal ones, and
names that resolve to them, whatever the URL looked like when it was saved."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from loyalty.webhooks.sender import WebhookSender
from loyalty.webhooks.urls import UrlPolicy

from tests.support.webhooks import Receiver, receiver


@pytest.fixture
def crm() -> Iterator[Receiver]:
    with receiver() as running:
        yield running


def test_locally_a_receiver_on_this_machine_gets_the_post(crm: Receiver) -> None:
    result = WebhookSender(UrlPolicy.LOCAL).post(crm.url, b'{"type":"webhook.test"}', {"webhook-id": "msg_1"})
    assert result.delivered and result.status_code == 200 and result.error is None
    assert result.response_excerpt == '{"ok": true}'
    assert crm.received[0].body == b'{"type":"webhook.test"}' and crm.received[0].headers["webhook-id"] == "msg_1"


def test_in_aws_loopback_is_refused_before_anything_is_sent(crm: Receiver) -> None:
    result = WebhookSender(UrlPolicy.PUBLIC).post(crm.url, b"{}", {})
    assert result.status_code is None and not result.delivered
    assert "may not reach" in (result.error or "")
    assert crm.received == []


def test_a_public_looking_name_that_resolves_to_a_private_address_is_refused(
    crm: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = int(crm.url.split(":")[2].split("/")[0])
    real = socket.getaddrinfo

    def rebinding(host: str, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1", *args, **kwargs) if host == "crm.example.ru" else real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    result = WebhookSender(UrlPolicy.PUBLIC).post(f"http://crm.example.ru:{port}/hooks", b"{}", {})
    assert result.status_code is None and "crm.example.ru resolves to" in (result.error or "")
    assert crm.received == []


def test_redirects_are_not_followed_and_a_refused_connection_is_a_failed_attempt(crm: Receiver) -> None:
    crm.fail_next(307)
    sender = WebhookSender(UrlPolicy.LOCAL)
    redirected = sender.post(crm.url, b"{}", {})
    assert redirected.status_code == 307 and not redirected.delivered and redirected.error == "answered 307"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    refused = sender.post(f"http://127.0.0.1:{closed_port}/", b"{}", {})
    assert refused.status_code is None and refused.error == "connection refused or unreachable"


def test_a_slow_receiver_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        result = WebhookSender(UrlPolicy.LOCAL, timeout_seconds=0.5).post(f"http://127.0.0.1:{port}/", b"{}", {})
    assert result.status_code is None and result.error is not None and result.error == "no answer within 0.5 s"
    assert 400 <= result.latency_ms < 3000
