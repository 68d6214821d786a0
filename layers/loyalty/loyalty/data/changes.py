"""Writing a member's change: the member and what follows from it in every table, in the one
transaction the caller is building."""

from __future__ import annotations

from loyalty.data import ledger, members, operations
from loyalty.data.transaction import Transaction
from loyalty.domain.member import MemberChange


def stage(tx: Transaction, change: MemberChange, *, mark_welcome: bool = False) -> None:
    """The member (``Stale("member")`` if it changed since read; ``AlreadyExists("member" |
    "phone" | "card" | "referral_code")`` for a new one that collides), its ledger entries, its
    coupons, and its places in the expiry and tier-review queues."""
    after = change.after
    members.stage_change(tx, change, mark_welcome=mark_welcome)
    ledger.stage_entries(tx, change.entries)
    dates = change.expiry_dates_added
    if dates:
        operations.stage_expiry_dates(tx, after.merchant_id, after.member_id, dates)
    due = change.tier_due_added
    if due is not None:
        operations.stage_tier_due(tx, after.merchant_id, after.member_id, due)
