"""Our signatures check out with a receiver written from the Standard Webhooks documentation."""

from __future__ import annotations

import base64
import time

import pytest
from loyalty.webhooks import signing

from tests.support.webhooks import Rejected, verify

BODY = '{"type":"points.earned","timestamp":"2026-12-01T09:30:00.000Z","data":{"reward_name":"Латте"}}'.encode()


def test_a_secret_is_whsec_and_base64_of_32_random_bytes() -> None:
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert secret != signing.new_secret()


def test_a_delivery_signed_with_the_endpoint_secret_verifies() -> None:
    secret, now = signing.new_secret(), int(time.time())
    headers = signing.headers("msg_01abc", now, BODY, [secret])
    assert headers["webhook-id"] == "msg_01abc"
    assert headers["webhook-timestamp"] == str(now)
    assert headers["webhook-signature"].startswith("v1,")
    assert verify(headers, BODY, secret)["data"]["reward_name"] == "Латте"


def test_the_spec_example_signature_scheme_matches_byte_for_byte() -> None:
    """The signature is HMAC-SHA256 over '<id>.<timestamp>.<body>' with the base64-decoded secret."""
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    import hashlib
    import hmac

    expected = base64.b64encode(hmac.new(b"k" * 32, b"msg_1.1674087231." + BODY, hashlib.sha256).digest())
    assert signing.signature(secret, "msg_1", 1674087231, BODY) == "v1," + expected.decode()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b + b" "),  # a stray space in the body
        lambda h, b: ({**h, "webhook-id": "msg_other"}, b),
        lambda h, b: ({**h, "webhook-timestamp": str(int(h["webhook-timestamp"]) + 1)}, b),
    ],
)
def test_any_change_to_body_id_or_timestamp_breaks_the_signature(tamper: object) -> None:
    secret = signing.new_secret()
    headers = signing.headers("msg_01abc", int(time.time()), BODY, [secret])
    changed_headers, changed_body = tamper(headers, BODY)  # type: ignore[operator]
    with pytest.raises(Rejected, match="no signature"):
        verify(changed_headers, changed_body, secret)


def test_another_endpoints_secret_does_not_verify() -> None:
    headers = signing.headers("msg_01abc", int(time.time()), BODY, [signing.new_secret()])
    with pytest.raises(Rejected):
        verify(headers, BODY, signing.new_secret())


def test_during_a_rotation_both_secrets_verify() -> None:
    new, old = signing.new_secret(), signing.new_secret()
    headers = signing.headers("msg_01abc", int(time.time()), BODY, [new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verify(headers, BODY, new) == verify(headers, BODY, old)


def test_a_replayed_old_delivery_is_refused_by_the_receivers_tolerance() -> None:
    secret = signing.new_secret()
    headers = signing.headers("msg_01abc", int(time.time()) - 3600, BODY, [secret])
    with pytest.raises(Rejected, match="tolerance"):
        verify(headers, BODY, secret)


def test_an_id_with_a_dot_could_forge_the_signed_content_and_is_refused() -> None:
    with pytest.raises(ValueError, match=r"'\.'"):
        signing.signature(signing.new_secret(), "msg.1", 1, BODY)


def test_the_readmes_verification_snippet_accepts_our_deliveries_and_refuses_forgeries() -> None:
    """The README's Python snippet is what developers copy: it must verify what we send."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    snippet = re.search(r"Verifying in Python.*?```python\n(.*?)```", readme, re.S)
    assert snippet is not None, "the README lost its verification snippet"
    namespace: dict[str, object] = {}
    exec(snippet.group(1), namespace)  # noqa: S102 - our own README, on purpose
    readme_verify = namespace["verify"]
    secret, old = signing.new_secret(), signing.new_secret()
    headers = signing.headers("msg_01abc", int(time.time()), BODY, [secret, old])
    assert readme_verify(headers, BODY, secret) == readme_verify(headers, BODY, old)  # type: ignore[operator]
    with pytest.raises(ValueError, match="signature"):
        readme_verify(headers, BODY, signing.new_secret())  # type: ignore[operator]
