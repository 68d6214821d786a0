"""Domain events: what happened to a member, as the notifications and bonus workers need it.

Most events come from the ledger: every change of a member is a ledger entry, and the ledger
table's stream turns each new entry into at most one event (a transactional outbox: an event is
published if and only if its change was committed, and never slows the request that made it).
The few events that change no points (points about to expire, a gift-card order's status, a
sign-in code) are published directly by whoever notices them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from loyalty.domain.ledger import EntryKind, LedgerEntry

SOURCE = "loyalty"


class DomainEvent(BaseModel):
    event_id: str = Field(description="unique per event: notifications dedupe on it")
    type: str
    merchant_id: str
    member_id: str | None = None
    occurred_at: datetime
    data: dict[str, Any] = Field(default_factory=dict)


def _event_type(entry: LedgerEntry) -> str | None:
    details, points = entry.details, entry.points
    simple = {
        EntryKind.REDEEM: "points_redeemed",
        EntryKind.REWARD: "coupon_issued",
        EntryKind.COUPON: "coupon_issued",
        EntryKind.TIER: "tier_changed",
        EntryKind.ENROLLED: None if details.get("quiet") else "welcome",  # imported quietly: no welcome message
    }
    if entry.kind in simple:
        return simple[entry.kind]
    if entry.kind is EntryKind.EARN:
        return "points_earned" if points > 0 else None
    if entry.kind is EntryKind.REFUND:
        return "refund_applied" if points else None
    if entry.kind is EntryKind.BONUS:
        return _bonus_event(details.get("bonus"), details.get("role"))
    if entry.kind is EntryKind.BONUS_REVERSAL and details.get("role") == "referred":
        return "referral_reversed"
    return None


def _bonus_event(bonus: object, role: object) -> str | None:
    if bonus == "birthday":
        return "birthday"
    if bonus == "referral" and role == "referred":
        return "referral_qualified"
    return None


DATA_FIELDS = (
    "transaction_id",
    "redemption_id",
    "reward_name",
    "coupon",
    "expires_on",
    "old_tier",
    "new_tier",
    "referrer_id",
    "amount_kopecks",
    "bonus",
)


def from_ledger_entry(entry: LedgerEntry) -> list[DomainEvent]:
    """The events a committed ledger entry stands for (none if nobody listens to it)."""
    events = []
    event_type = _event_type(entry)
    if event_type is not None:
        data: dict[str, Any] = {"points": abs(entry.points), "balance": entry.balance_after}
        data.update({key: entry.details[key] for key in DATA_FIELDS if entry.details.get(key) is not None})
        events.append(_event(entry, entry.entry_id, event_type, data))
    return events


def _event(entry: LedgerEntry, event_id: str, event_type: str, data: dict[str, Any]) -> DomainEvent:
    return DomainEvent(
        event_id=event_id,
        type=event_type,
        merchant_id=entry.merchant_id,
        member_id=entry.member_id,
        occurred_at=entry.created_at,
        data=data,
    )
