"""SevenDar webhook signatures: what is accepted, and why everything else is refused (pure, no I/O)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from loyalty.sevendar.webhooks import WebhookEvent, WebhookRejected, sign, verify

SECRET = b"sevendar-test-webhook-secret"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
EVENT_ID = "5d0c3f8e-8a51-4c57-9a4e-3f1b0a9d2c11"
EVENT: dict[str, Any] = {
    "event_id": EVENT_ID,
    "type": "order.status_changed",
    "order_id": "sd_0123456789",
    "reference": "gco_42",
    "status": "shipped",
    "occurred_at": "2026-11-25T11:59:30.000Z",
    "tracking_number": "RA123456789RU",
}


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode()


def delivery(
    body: bytes | None = None, *, secret: bytes = SECRET, sent_at: datetime = NOW, event_id: str = EVENT_ID
) -> tuple[dict[str, str], bytes]:
    """Headers and body as SevenDar would send them."""
    body = encode(EVENT) if body is None else body
    timestamp = int(sent_at.timestamp())
    headers = {
        "Content-Type": "application/json",
        "X-SevenDar-Event-Id": event_id,
        "X-SevenDar-Timestamp": str(timestamp),
        "X-SevenDar-Signature": sign(secret, timestamp, body),
    }
    return headers, body


def reason_of(headers: dict[str, str], body: bytes) -> str:
    with pytest.raises(WebhookRejected) as rejected:
        verify(headers, body, SECRET, NOW)
    return rejected.value.reason


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body_as_sevendar_documents() -> None:
    body = b'{"event_id": "e"}'
    expected = hmac.new(SECRET, b"1764072000." + body, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1764072000, body) == f"v1={expected}"


def test_a_signed_fresh_delivery_becomes_a_typed_event() -> None:
    event = verify(*delivery(), SECRET, NOW)
    assert event == WebhookEvent(
        event_id=EVENT_ID,
        type="order.status_changed",
        order_id="sd_0123456789",
        reference="gco_42",
        status="shipped",
        occurred_at=datetime(2026, 11, 25, 11, 59, 30, tzinfo=UTC),
        tracking_number="RA123456789RU",
    )


def test_header_names_are_case_insensitive() -> None:
    headers, body = delivery()
    assert verify({name.lower(): value for name, value in headers.items()}, body, SECRET, NOW).event_id == EVENT_ID


def test_a_tampered_body_is_refused() -> None:
    headers, _ = delivery()
    assert reason_of(headers, encode({**EVENT, "status": "delivered"})) == "bad_signature"


def test_a_signature_made_with_another_secret_is_refused() -> None:
    assert reason_of(*delivery(secret=b"someone-else")) == "bad_signature"


def test_a_signature_over_another_timestamp_is_refused() -> None:
    headers, body = delivery()
    headers["X-SevenDar-Timestamp"] = str(int(NOW.timestamp()) + 1)
    assert reason_of(headers, body) == "bad_signature"


@pytest.mark.parametrize("offset", [timedelta(seconds=-301), timedelta(seconds=301), timedelta(days=-1)])
def test_a_timestamp_outside_the_tolerance_either_way_is_stale(offset: timedelta) -> None:
    assert reason_of(*delivery(sent_at=NOW + offset)) == "stale"


@pytest.mark.parametrize("offset", [timedelta(seconds=-300), timedelta(seconds=300)])
def test_a_timestamp_at_the_edge_of_the_tolerance_is_accepted(offset: timedelta) -> None:
    assert verify(*delivery(sent_at=NOW + offset), SECRET, NOW).event_id == EVENT_ID


def test_the_tolerance_can_be_narrowed() -> None:
    with pytest.raises(WebhookRejected, match="stale"):
        verify(*delivery(sent_at=NOW - timedelta(seconds=31)), SECRET, NOW, tolerance_seconds=30)


@pytest.mark.parametrize("missing", ["X-SevenDar-Event-Id", "X-SevenDar-Timestamp", "X-SevenDar-Signature"])
def test_a_delivery_without_any_of_the_three_headers_is_refused(missing: str) -> None:
    headers, body = delivery()
    del headers[missing]
    assert reason_of(headers, body) == "missing_headers"


@pytest.mark.parametrize("timestamp", ["", "soon", "-1764072000", "1.5e9"])
def test_an_unreadable_timestamp_counts_as_a_missing_header(timestamp: str) -> None:
    headers, body = delivery()
    headers["X-SevenDar-Timestamp"] = timestamp
    assert reason_of(headers, body) == "missing_headers"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"\xff\xfe",
        encode({key: value for key, value in EVENT.items() if key != "order_id"}),
        encode({**EVENT, "status": "teleported"}),
        encode({**EVENT, "occurred_at": "yesterday"}),
        encode({**EVENT, "occurred_at": "2026-11-25T11:59:30"}),  # no offset: not an instant
    ],
    ids=["not-json", "array", "not-utf8", "no-order-id", "unknown-status", "bad-time", "naive-time"],
)
def test_a_correctly_signed_body_that_is_not_an_event_is_malformed(body: bytes) -> None:
    assert reason_of(*delivery(body)) == "malformed"


def test_the_event_id_header_must_match_the_signed_body() -> None:
    assert reason_of(*delivery(event_id="another-event")) == "malformed"


def test_a_null_tracking_number_is_fine() -> None:
    body = encode({**EVENT, "status": "in_production", "tracking_number": None})
    assert verify(*delivery(body), SECRET, NOW).tracking_number is None


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone"):
        verify(*delivery(), SECRET, NOW.replace(tzinfo=None))
