"""The ledger table: every change of a member as immutable entries, in commit order; and the
immutable facts of anonymous sales (purchases without a member), which change no member.

Keys:
- entry  pk ``<merchant>#<member>``, sk ``<sequence:012d>#<position:03d>`` — the member's version
  that the change committed, then the entry's place in it. A member's history read newest first is
  exactly the reverse order of commits, so ``balance_after`` follows from entry to entry and a
  cursor (the last sk seen) never skips an entry committed later.
- sale   pk ``SALE#<merchant>#<transaction id>``, sk ``purchase`` | ``refund:<refund id>``.

The table's stream (NEW_IMAGE) is the outbox for domain events and report counters;
``entries_from_stream`` and ``sales_from_stream`` are the only places that read its records.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from loyalty.data.base import Item, stream_records, table_base
from loyalty.data.members import member_key
from loyalty.data.transaction import Transaction
from loyalty.domain.kpis import Visit
from loyalty.domain.ledger import EntryKind, LedgerEntry
from loyalty.domain.sales import Sale
from loyalty.errors import InvalidRequest


@table_base
class _LedgerTable(Item):
    table_env = "ledger_table"

    class Meta:
        table_name = "unbound"


class LedgerEntryItem(_LedgerTable):
    entry_id = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    sequence = NumberAttribute()
    position = NumberAttribute()
    kind = UnicodeAttribute()
    points = NumberAttribute()
    balance_after = NumberAttribute()
    operation = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    lot_key = UnicodeAttribute(null=True)
    lot_points = NumberAttribute(null=True)
    allocation = JSONAttribute(null=True)
    details = JSONAttribute(default=dict)


class SaleItem(_LedgerTable):
    merchant_id = UnicodeAttribute()
    transaction_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    kpi = JSONAttribute()  # the sale's Visit


SALE_PREFIX = "SALE#"


def _sk(sequence: int, position: int) -> str:
    return f"{sequence:012d}#{position:03d}"


def _to_item(entry: LedgerEntry) -> LedgerEntryItem:
    return LedgerEntryItem(
        member_key(entry.merchant_id, entry.member_id),
        _sk(entry.sequence, entry.position),
        entry_id=entry.entry_id,
        merchant_id=entry.merchant_id,
        member_id=entry.member_id,
        sequence=entry.sequence,
        position=entry.position,
        kind=entry.kind.value,
        points=entry.points,
        balance_after=entry.balance_after,
        operation=entry.operation,
        created_at=entry.created_at,
        lot_key=entry.lot_key,
        lot_points=entry.lot_points,
        allocation=dict(entry.allocation) if entry.allocation else None,
        details=dict(entry.details),
    )


def _to_entry(item: LedgerEntryItem) -> LedgerEntry:
    return LedgerEntry(
        entry_id=item.entry_id,
        merchant_id=item.merchant_id,
        member_id=item.member_id,
        sequence=int(item.sequence),
        position=int(item.position),
        kind=EntryKind(item.kind),
        points=int(item.points),
        balance_after=int(item.balance_after),
        operation=item.operation,
        created_at=item.created_at,
        lot_key=item.lot_key,
        lot_points=int(item.lot_points) if item.lot_points is not None else None,
        allocation={key: int(value) for key, value in item.allocation.items()} if item.allocation else None,
        details=dict(item.details or {}),
    )


def stage_entries(tx: Transaction, entries: tuple[LedgerEntry, ...]) -> None:
    for entry in entries:
        tx.create(_to_item(entry), name="ledger entry")


def history(
    merchant_id: str, member_id: str, *, limit: int, cursor: str | None
) -> tuple[list[LedgerEntry], str | None]:
    """A page of the member's entries, newest first, and the cursor of the next page (None: the end)."""
    pk = member_key(merchant_id, member_id)
    start = {"pk": {"S": pk}, "sk": {"S": _decode_cursor(cursor)}} if cursor else None
    results = LedgerEntryItem.query(pk, scan_index_forward=False, limit=limit, last_evaluated_key=start)
    entries = [_to_entry(item) for item in results]
    last = results.last_evaluated_key
    return entries, base64.urlsafe_b64encode(last["sk"]["S"].encode()).decode().rstrip("=") if last else None


def all_entries(merchant_id: str, member_id: str) -> list[LedgerEntry]:
    """Every entry of a member, oldest first (checks and exports; pages through the whole history)."""
    return [_to_entry(item) for item in LedgerEntryItem.query(member_key(merchant_id, member_id))]


def _decode_cursor(cursor: str) -> str:
    try:
        sk = base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest("cursor is not valid", details={"field": "cursor"}) from exc
    if len(sk) > 64:
        raise InvalidRequest("cursor is not valid", details={"field": "cursor"})
    return sk


def stage_sale(tx: Transaction, sale: Sale) -> None:
    tx.create(
        SaleItem(
            f"{SALE_PREFIX}{sale.merchant_id}#{sale.transaction_id}",
            sale.part,
            merchant_id=sale.merchant_id,
            transaction_id=sale.transaction_id,
            created_at=sale.created_at,
            kpi=sale.visit.to_details(),
        ),
        name="sale",
    )


def _inserted(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    """New images the table's stream inserted (entries and sales are immutable: only an INSERT
    means something happened)."""
    return [
        record["dynamodb"]["NewImage"]
        for record in stream_records(event, _LedgerTable)
        if record.get("eventName") == "INSERT"
    ]


def _is_sale(image: Mapping[str, Any]) -> bool:
    return str(image["pk"]["S"]).startswith(SALE_PREFIX)


def entries_from_stream(event: Mapping[str, Any]) -> list[LedgerEntry]:
    """The member entries a batch of the ledger table's stream inserted."""
    return [_to_entry(LedgerEntryItem.from_raw_data(image)) for image in _inserted(event) if not _is_sale(image)]


def sales_from_stream(event: Mapping[str, Any]) -> list[Sale]:
    """The anonymous sales and their refunds a batch of the ledger table's stream inserted."""
    sales = []
    for image in _inserted(event):
        if not _is_sale(image):
            continue
        item = SaleItem.from_raw_data(image)
        visit = Visit.from_details(item.kpi)
        if visit is not None:
            sales.append(Sale(item.merchant_id, item.transaction_id, str(item.sk), visit, item.created_at))
    return sales
