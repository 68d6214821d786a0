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

from loyalty.data.models import LedgerEntryItem

SOURCE = "loyalty"


class DomainEvent(BaseModel):
    event_id: str = Field(description="unique per event: notifications dedupe on it")
    type: str
    merchant_id: str
    member_id: str | None = None
    occurred_at: datetime
    data: dict[str, Any] = Field(default_factory=dict)


def _details(entry: LedgerEntryItem) -> dict[str, Any]:
    return dict(entry.details or {})


def _event_type(entry: LedgerEntryItem) -> str | None:  # noqa: PLR0911 - one line per ledger kind reads best
    details = _details(entry)
    kind, points = entry.kind, int(entry.points)
    if kind == "earn":
        return "points_earned" if points > 0 else None
    if kind == "redeem":
        return "points_redeemed"
    if kind == "refund":
        return "refund_applied" if points else None
    if kind in ("reward", "coupon"):
        return "coupon_issued"
    if kind == "tier":
        return "tier_changed"
    if kind == "enrolled":
        return "welcome"
    if kind == "bonus":
        bonus, role = details.get("bonus"), details.get("role")
        if bonus == "birthday":
            return "birthday"
        if bonus == "referral" and role == "referred":
            return "referral_qualified"
    return None


def from_ledger_entry(entry: LedgerEntryItem) -> DomainEvent | None:
    """The event a committed ledger entry stands for, if anyone listens to it."""
    event_type = _event_type(entry)
    if event_type is None:
        return None
    details = _details(entry)
    data: dict[str, Any] = {"points": abs(int(entry.points)), "balance": int(entry.balance_after)}
    for key in (
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
    ):
        if details.get(key) is not None:
            data[key] = details[key]
    return DomainEvent(
        event_id=entry.entry_id,
        type=event_type,
        merchant_id=entry.merchant_id,
        member_id=entry.member_id,
        occurred_at=entry.created_at,
        data=data,
    )
