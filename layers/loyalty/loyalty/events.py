"""Domain events: what happened to a member, as the notifications and bonus workers need it.

Most events come from the ledger: every change of a member is a ledger entry, and the ledger
table's stream turns each new entry into at most one event (a transactional outbox: an event is
published if and only if its change was committed, and never slows the request that made it).
The few events that change no points (points about to expire, a gift-card order's status, a
sign-in code) are published directly by whoever notices them; a coupon used at the till comes
from the members table's stream (``from_coupon_use``), the outbox of coupon changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from loyalty.domain.coupons import Coupon
from loyalty.domain.ledger import EntryKind, LedgerEntry

SOURCE = "loyalty"


class DomainEvent(BaseModel):
    event_id: str = Field(description="unique per event: notifications dedupe on it")
    type: str
    merchant_id: str
    member_id: str | None = None
    occurred_at: datetime
    data: dict[str, Any] = Field(default_factory=dict)


def _event_types(entry: LedgerEntry) -> list[str]:
    """What a committed entry means to the notification and bonus workers."""
    details, points, kind = entry.details, entry.points, entry.kind
    simple = {
        EntryKind.REWARD: "coupon_issued",
        EntryKind.COUPON: "coupon_issued",
        EntryKind.TIER: "tier_changed",
        EntryKind.ENROLLED: None if details.get("quiet") else "welcome",  # imported quietly: no welcome message
        EntryKind.REDEEM_REVERSAL: "points_returned",
        EntryKind.EXPIRE: "points_expired",
    }
    if kind in simple:
        return [name for name in (simple[kind],) if name]
    if kind is EntryKind.REDEEM:
        return ["points_held" if details.get("mode") == "hold" else "points_redeemed"]
    if kind in (EntryKind.EARN, EntryKind.REFUND):
        return [_purchase_event(kind, points)] if kind is EntryKind.EARN or points else []
    if kind is EntryKind.BONUS:
        return _bonus_events(details.get("bonus"), details.get("role"), points)
    if kind is EntryKind.BONUS_REVERSAL and details.get("role") == "referred":
        return ["referral_reversed"]
    return []


def _purchase_event(kind: EntryKind, points: int) -> str:
    if kind is EntryKind.REFUND:
        return "refund_applied"
    # A purchase that earned nothing (below the minimum, excluded categories) is still a purchase:
    # integrations that record every purchase (outgoing webhooks) listen to both.
    return "points_earned" if points > 0 else "purchase_recorded"


def _bonus_events(bonus: object, role: object, points: int) -> list[str]:
    if bonus == "birthday":
        return ["birthday" if points else "birthday_greeting"]
    received = ["bonus_received"] if points else []
    if bonus == "referral" and role == "referred":
        return ["referral_qualified", *received]  # the bonus worker rewards the referrer
    return received


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
    "reward_id",
    "quantity",
    "store_id",
)


def from_ledger_entry(entry: LedgerEntry) -> list[DomainEvent]:
    """The events a committed ledger entry stands for (none if nobody listens to it)."""
    data: dict[str, Any] = {"points": abs(entry.points), "balance": entry.balance_after}
    data.update({key: entry.details[key] for key in DATA_FIELDS if entry.details.get(key) is not None})
    if entry.details.get("role"):
        data["role"] = entry.details["role"]
    types = _event_types(entry)
    # The first event keeps the entry's id (notifications dedupe on it); more get a suffix.
    return [
        _event(entry, entry.entry_id if n == 0 else f"{entry.entry_id}:{name}", name, data)
        for n, name in enumerate(types)
    ]


def _event(entry: LedgerEntry, event_id: str, event_type: str, data: dict[str, Any]) -> DomainEvent:
    return DomainEvent(
        event_id=event_id,
        type=event_type,
        merchant_id=entry.merchant_id,
        member_id=entry.member_id,
        occurred_at=entry.created_at,
        data=data,
    )


def from_coupon_use(before: Coupon, after: Coupon) -> DomainEvent:
    """Items of a coupon used at the till (``before`` and ``after`` are the till's copy around the
    use): one event per use, named by the coupon's version so that a repeat dedupes."""
    return DomainEvent(
        event_id=f"coupon-use:{after.merchant_id}:{after.code}:{after.version}",
        type="coupon_redeemed",
        merchant_id=after.merchant_id,
        member_id=after.member_id,
        occurred_at=after.used_at or after.issued_at,
        data={
            "coupon": after.code,
            "reward_id": after.reward_id,
            "reward_name": after.reward_name,
            "quantity": before.uses_left - after.uses_left,
            "uses_left": after.uses_left,
            "transaction_id": after.used_transaction_id,
            "store_id": after.store_id,
        },
    )
