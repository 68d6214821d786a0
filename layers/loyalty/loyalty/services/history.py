"""Reading a member's ledger, newest first, with opaque cursors."""

from __future__ import annotations

import base64
import binascii

from loyalty.api.history import EntryPage, EntryView
from loyalty.data.models import LedgerEntryItem
from loyalty.errors import InvalidRequest
from loyalty.services.members import get_member

PUBLIC_DETAILS = (
    "transaction_id",
    "refund_id",
    "redemption_id",
    "amount_kopecks",
    "breakdown",
    "reward_id",
    "coupon",
    "reason",
    "store_id",
    "old_tier",
    "new_tier",
    "bonus",
    "debt_added",
)


def _decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidRequest("cursor is not valid", details={"field": "cursor"}) from exc


def entries(merchant_id: str, member_id: str, *, limit: int, cursor: str | None) -> EntryPage:
    member = get_member(merchant_id, member_id, consistent=False)
    start = {"pk": {"S": member.pk}, "sk": {"S": _decode_cursor(cursor)}} if cursor else None
    results = LedgerEntryItem.query(member.pk, scan_index_forward=False, limit=limit, last_evaluated_key=start)
    views = [
        EntryView(
            entry_id=item.entry_id,
            kind=item.kind,
            points=int(item.points),
            balance_after=int(item.balance_after),
            created_at=item.created_at,
            operation=item.operation,
            details={k: v for k, v in (item.details or {}).items() if k in PUBLIC_DETAILS and v is not None},
        )
        for item in results
    ]
    last = results.last_evaluated_key
    next_cursor = base64.urlsafe_b64encode(last["sk"]["S"].encode()).decode().rstrip("=") if last else None
    return EntryPage(entries=views, next_cursor=next_cursor)
