"""SevenDar's signed webhooks: one order's status changed.

SevenDar POSTs to the order's ``callback_url`` with headers ``X-SevenDar-Event-Id: <uuid>``,
``X-SevenDar-Timestamp: <unix seconds>`` and ``X-SevenDar-Signature: v1=<hex>``, where hex is
HMAC-SHA256 with the webhook secret over ``f"{timestamp}.{raw body}"``, and a JSON body
``{"event_id", "type": "order.status_changed", "order_id", "reference", "status", "occurred_at",
"tracking_number": str|null}``. It retries with backoff until it gets any 2xx.

``verify`` authenticates a delivery and returns its typed event. It does not remember events: the
same event arrives again on every retry, so the app must skip event ids it has already applied.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from loyalty.sevendar.client import OrderStatus

EVENT_ID_HEADER = "X-SevenDar-Event-Id"
TIMESTAMP_HEADER = "X-SevenDar-Timestamp"
SIGNATURE_HEADER = "X-SevenDar-Signature"
SIGNATURE_VERSION = "v1"
_UNIX_SECONDS = re.compile(r"^[0-9]{1,12}$")

RejectionReason = Literal["missing_headers", "stale", "bad_signature", "malformed"]


class WebhookRejected(Exception):
    """The delivery is not a valid SevenDar event; answer 4xx. ``reason`` is one of
    missing_headers (a header is absent or unreadable), stale (timestamp outside the tolerance),
    bad_signature, malformed (signed, but not an event we can read)."""

    def __init__(self, reason: RejectionReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: RejectionReason = reason
        self.detail = detail


class WebhookEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: str = Field(min_length=1)
    type: str  # only "order.status_changed" today; the app should acknowledge types it does not know
    order_id: str = Field(min_length=1)
    reference: str
    status: OrderStatus
    occurred_at: AwareDatetime
    tracking_number: str | None = None


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``X-SevenDar-Signature`` value for ``body`` sent at ``timestamp``."""
    return _signature(secret, str(timestamp), body)


def _signature(secret: bytes, timestamp: str, body: bytes) -> str:
    # Over the timestamp exactly as sent: "0017..." and "17..." are different messages.
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify(
    headers: Mapping[str, str], body: bytes, secret: bytes, now: datetime, tolerance_seconds: int = 300
) -> WebhookEvent:
    """Authenticate one delivery and parse its event, or raise ``WebhookRejected``.

    ``body`` must be the raw bytes as received: re-serialised JSON would not match the signature.
    The tolerance applies both ways, so a replay of an old delivery fails, and so does a clock far
    ahead. Use the returned ``event_id`` (it is signed), not the header, to skip repeats."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    by_name = {name.lower(): value for name, value in headers.items()}
    event_id, timestamp, signature = (
        by_name.get(name.lower(), "").strip() for name in (EVENT_ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)
    )
    if not (event_id and timestamp and signature):
        raise WebhookRejected("missing_headers", "event id, timestamp and signature headers are required")
    if not _UNIX_SECONDS.match(timestamp):
        raise WebhookRejected("missing_headers", "the timestamp header is not unix seconds")
    if abs(now.timestamp() - int(timestamp)) > tolerance_seconds:
        raise WebhookRejected("stale", f"timestamp is more than {tolerance_seconds} s away from now")
    expected = _signature(secret, timestamp, body).encode()
    if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
        raise WebhookRejected("bad_signature", "the signature does not match the body")
    try:
        event = WebhookEvent.model_validate_json(body)
    except ValidationError as exc:
        fields = sorted({".".join(str(part) for part in error["loc"]) or "body" for error in exc.errors()})
        raise WebhookRejected("malformed", f"unreadable event (fields: {', '.join(fields)})") from exc
    if event.event_id != event_id:
        raise WebhookRejected("malformed", "the event id header and body disagree")
    return event
