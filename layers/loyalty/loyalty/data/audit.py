"""The audit table: who changed what, when and from where, per merchant, newest first.

Keys:
- entry   pk ``<merchant>``   sk ``<ISO time>#<entry id>``   (GSI ``by_actor``: ``<merchant>#<actor id>``, same sk)

Entries are written once and never changed; the table's TTL removes them after the retention
period. Where the request came from (IP address and user agent) is personal data: it is stored
encrypted (``origin_enc``), and nothing else in an entry names a person.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from loyalty.clock import isoformat
from loyalty.data.base import Item, table_base
from loyalty.errors import InvalidRequest


@table_base
class _AuditTable(Item):
    table_env = "audit_table"

    class Meta:
        table_name = "unbound"


class _ByActor(GlobalSecondaryIndex["AuditItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by_actor"
        projection = AllProjection()

    actor_key = UnicodeAttribute(hash_key=True)
    sort = UnicodeAttribute(range_key=True)


class AuditItem(_AuditTable):
    entry_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    actor_kind = UnicodeAttribute()  # key | staff
    actor_id = UnicodeAttribute()
    actor_access = UnicodeAttribute()  # the key's scope or the staff member's role then
    action = UnicodeAttribute()  # the operation, e.g. post_purchase
    route = UnicodeAttribute()  # e.g. POST /v1/purchases/{transaction_id}/refunds
    status = NumberAttribute()
    targets = JSONAttribute(default=dict)  # ids the action touched (never personal data)
    request_id = UnicodeAttribute(null=True)
    origin_enc = UnicodeAttribute(null=True)
    actor_key = UnicodeAttribute()
    sort = UnicodeAttribute()
    expires_at = NumberAttribute()
    by_actor = _ByActor()


@dataclass(frozen=True)
class AuditEntry:
    merchant_id: str
    entry_id: str
    at: datetime
    actor_kind: str
    actor_id: str
    actor_access: str
    action: str
    route: str
    status: int
    expires_at: int
    targets: dict[str, str] = field(default_factory=dict)
    request_id: str | None = None
    origin_enc: str | None = None


def _sort_key(at: datetime, entry_id: str) -> str:
    return f"{isoformat(at)}#{entry_id}"


def record(entry: AuditEntry) -> None:
    sort = _sort_key(entry.at, entry.entry_id)
    AuditItem(
        entry.merchant_id,
        sort,
        entry_id=entry.entry_id,
        at=entry.at,
        actor_kind=entry.actor_kind,
        actor_id=entry.actor_id,
        actor_access=entry.actor_access,
        action=entry.action,
        route=entry.route,
        status=entry.status,
        targets=dict(entry.targets),
        request_id=entry.request_id,
        origin_enc=entry.origin_enc,
        actor_key=f"{entry.merchant_id}#{entry.actor_id}",
        sort=sort,
        expires_at=entry.expires_at,
    ).save()


def _entry(item: AuditItem) -> AuditEntry:
    return AuditEntry(
        merchant_id=str(item.pk),
        entry_id=item.entry_id,
        at=item.at,
        actor_kind=item.actor_kind,
        actor_id=item.actor_id,
        actor_access=item.actor_access,
        action=item.action,
        route=item.route,
        status=int(item.status),
        expires_at=int(item.expires_at),
        targets={str(k): str(v) for k, v in dict(item.targets or {}).items()},
        request_id=item.request_id,
        origin_enc=item.origin_enc,
    )


def page(
    merchant_id: str,
    *,
    start: datetime,
    end: datetime,
    actor_id: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[AuditEntry], str | None]:
    """Entries from ``start`` to ``end``, newest first (one Query of the table, or of the actor's
    index), and the cursor of the next page (None: the end)."""
    low, high = f"{isoformat(start)}#", f"{isoformat(end)}#~"
    sort = _decode_cursor(cursor) if cursor else None
    if actor_id is None:
        start_key = {"pk": {"S": merchant_id}, "sk": {"S": sort}} if sort else None
        results = AuditItem.query(
            merchant_id,
            AuditItem.sk.between(low, high),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start_key,
        )
    else:
        actor_key = f"{merchant_id}#{actor_id}"
        start_key = (
            {"pk": {"S": merchant_id}, "sk": {"S": sort}, "actor_key": {"S": actor_key}, "sort": {"S": sort}}
            if sort
            else None
        )
        results = AuditItem.by_actor.query(
            actor_key,
            AuditItem.sort.between(low, high),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start_key,
        )
    entries = [_entry(item) for item in results]
    last = results.last_evaluated_key
    return entries, _encode_cursor(last["sk"]["S"]) if last else None


def _encode_cursor(sort: str) -> str:
    return base64.urlsafe_b64encode(sort.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        sort = base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest("cursor is not valid", details={"field": "cursor"}) from exc
    if len(sort) > 80 or "#" not in sort:
        raise InvalidRequest("cursor is not valid", details={"field": "cursor"})
    return sort
