"""Reading a member's ledger, newest first, with opaque cursors (in commit order: see
``domain.ledger``)."""

from __future__ import annotations

from loyalty.api.history import EntryPage, EntryView
from loyalty.data import ledger, members

PUBLIC_DETAILS = (
    "transaction_id",
    "refund_id",
    "redemption_id",
    "amount_kopecks",
    "breakdown",
    "reward_id",
    "reward_name",
    "coupon",
    "reason",
    "store_id",
    "old_tier",
    "new_tier",
    "bonus",
    "debt_added",
)


def entries(merchant_id: str, member_id: str, *, limit: int, cursor: str | None) -> EntryPage:
    members.get(merchant_id, member_id, consistent=False)  # 404 for an unknown member (or another merchant's)
    found, next_cursor = ledger.history(merchant_id, member_id, limit=limit, cursor=cursor)
    return EntryPage(
        entries=[
            EntryView(
                entry_id=entry.entry_id,
                kind=entry.kind.value,
                points=entry.points,
                balance_after=entry.balance_after,
                created_at=entry.created_at,
                operation=entry.operation,
                details={k: v for k, v in entry.details.items() if k in PUBLIC_DETAILS and v is not None},
            )
            for entry in found
        ],
        next_cursor=next_cursor,
    )
