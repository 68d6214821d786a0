"""Endpoints and deliveries as plain values (the data layer stores them; services decide)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from loyalty.ids import derived_id

MAX_ATTEMPTS_KEPT = 100  # per delivery, over all its rounds (a replay starts a round)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # queued, or waiting for its next attempt
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up: attempts used up, 410, or the endpoint was disabled or deleted


@dataclass(frozen=True)
class Endpoint:
    merchant_id: str
    endpoint_id: str
    url: str
    event_types: tuple[str, ...] | None  # None: every type, also types added later
    secret_enc: str  # the signing secret, encrypted at rest
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    alert_email_enc: str | None = None  # who is told when the endpoint is disabled
    enabled: bool = True
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    secret_rotated_at: datetime | None = None
    previous_secret_enc: str | None = None  # still signs, until previous_secret_expires_at
    previous_secret_expires_at: datetime | None = None
    failures_in_a_row: int = 0
    failing_since: datetime | None = None
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    version: int = 0

    def subscribes(self, event_type: str) -> bool:
        return self.event_types is None or event_type in self.event_types

    def encrypted_secrets(self, now: datetime) -> list[str]:
        """The secrets that sign a delivery now, newest first."""
        expires = self.previous_secret_expires_at
        previous = self.previous_secret_enc if expires is not None and now < expires else None
        return [self.secret_enc, *([previous] if previous else [])]

    def enabled_again(self, now: datetime) -> Endpoint:
        return replace(
            self,
            enabled=True,
            disabled_reason=None,
            disabled_at=None,
            failures_in_a_row=0,
            failing_since=None,
            updated_at=now,
        )

    def disabled(self, reason: str, now: datetime) -> Endpoint:
        return replace(self, enabled=False, disabled_reason=reason, disabled_at=now, updated_at=now)


@dataclass(frozen=True)
class Attempt:
    number: int  # 1, 2, ... over every round of the delivery
    at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None = None
    response: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "at": self.at.isoformat(),
            "status_code": self.status_code,
            "latency_ms": self.latency_ms,
            "error": self.error,
            "response": self.response,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Attempt:
        return cls(
            number=int(raw["number"]),
            at=datetime.fromisoformat(str(raw["at"])),
            status_code=int(raw["status_code"]) if raw.get("status_code") is not None else None,
            latency_ms=int(raw["latency_ms"]),
            error=raw.get("error"),
            response=raw.get("response"),
        )


@dataclass(frozen=True)
class Delivery:
    merchant_id: str
    endpoint_id: str
    delivery_id: str  # the webhook-id: the same on every attempt and replay
    event_type: str
    event_id: str  # the domain event it carries (test deliveries: their own id)
    occurred_at: datetime
    body: str  # exactly what is sent and signed
    created_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: Sequence[Attempt] = field(default_factory=tuple)
    queued: bool = False
    next_attempt_at: datetime | None = None
    updated_at: datetime | None = None
    failure_reason: str | None = None  # why it failed, when it did

    @property
    def attempt_count(self) -> int:
        return len(self.attempts)


def delivery_id(endpoint_id: str, event_id: str, event_type: str, occurred_at: datetime) -> str:
    """The same event to the same endpoint as the same type always has the same id (so it is
    delivered once), and ids sort by the event's time (the delivery log pages newest first).
    No '.' in it: the signed content is ``id.timestamp.body``."""
    key = f"{endpoint_id}\n{event_type}\n{event_id}".encode()
    return derived_id("msg", int(occurred_at.timestamp() * 1000), key)
