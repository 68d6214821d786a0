"""The audit log: every change made with a merchant's credentials (an API key or a staff
member's token), and every such change refused for the caller's role or scope: who (the key or
staff id, with its scope or role then), what (the operation, its route and the ids it touched),
when, and from where (IP address and user agent, stored encrypted). The owner reads it newest
first, by time range and by actor. Entries are kept for ``RETENTION``.

Nothing in an entry names a person in clear: request bodies are not kept (they hold phones and
names), coupon and gift-card codes are shortened to their last characters, and the staff member
behind an id is found in the owner's staff list.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from loyalty.api.audit import Actor, AuditEntryView, AuditPage, AuditQuery
from loyalty.data import audit
from loyalty.data.audit import AuditEntry
from loyalty.domain.access import Principal
from loyalty.errors import InvalidRequest
from loyalty.ids import new_id
from loyalty.pii.cipher import PiiCipher

RETENTION = timedelta(days=365)
DEFAULT_WINDOW = timedelta(days=30)
SHORTENED_PARAMETERS = frozenset({"code"})  # coupon and gift-card codes are worth money to whoever has them
RESULT_IDS = (
    "member_id",
    "transaction_id",
    "refund_id",
    "redemption_id",
    "reward_id",
    "claim_id",
    "order_id",
    "campaign_id",
    "membership_id",
    "key_id",
    "staff_id",
    "partner_id",
    "merchant_id",
    "version",
)
MAX_TARGET_LENGTH = 80
MAX_USER_AGENT = 256


def _shortened(value: str) -> str:
    return f"…{value[-4:]}" if len(value) > 4 else "…"


def targets(path_parameters: Mapping[str, str], result: Mapping[str, Any] | None) -> dict[str, str]:
    found = {
        name: _shortened(str(value)) if name in SHORTENED_PARAMETERS else str(value)
        for name, value in path_parameters.items()
    }
    for name in RESULT_IDS:
        value = (result or {}).get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and name not in found:
            found[name] = str(value)
    return {name: value[:MAX_TARGET_LENGTH] for name, value in found.items()}


def _origin_context(merchant_id: str, entry_id: str) -> str:
    return f"audit:{merchant_id}:{entry_id}"


def record(
    principal: Principal,
    *,
    action: str,
    route: str,
    status: int,
    targets_touched: Mapping[str, str],
    ip: str | None,
    user_agent: str | None,
    request_id: str | None,
    now: datetime,
    cipher: PiiCipher,
) -> AuditEntry:
    entry_id = new_id("aud")
    origin = json.dumps({"ip": ip, "user_agent": (user_agent or "")[:MAX_USER_AGENT] or None})
    entry = AuditEntry(
        merchant_id=principal.merchant_id,
        entry_id=entry_id,
        at=now,
        actor_kind=principal.kind,
        actor_id=principal.actor_id,
        actor_access=str(principal.role or principal.scope or ""),
        action=action,
        route=route,
        status=status,
        expires_at=int((now + RETENTION).timestamp()),
        targets=dict(targets_touched),
        request_id=request_id,
        origin_enc=cipher.encrypt(origin, context=_origin_context(principal.merchant_id, entry_id)),
    )
    audit.record(entry)
    return entry


def _view(entry: AuditEntry, cipher: PiiCipher) -> AuditEntryView:
    origin: dict[str, Any] = {}
    if entry.origin_enc:
        origin = json.loads(
            cipher.decrypt(entry.origin_enc, context=_origin_context(entry.merchant_id, entry.entry_id))
        )
    return AuditEntryView(
        entry_id=entry.entry_id,
        at=entry.at,
        actor=Actor(kind=entry.actor_kind, id=entry.actor_id, access=entry.actor_access),
        action=entry.action,
        route=entry.route,
        status=entry.status,
        targets=entry.targets,
        ip=origin.get("ip"),
        user_agent=origin.get("user_agent"),
        request_id=entry.request_id,
    )


def page(merchant_id: str, query: AuditQuery, now: datetime, cipher: PiiCipher) -> AuditPage:
    end = query.end or now
    start = query.start or end - DEFAULT_WINDOW
    if start > end:
        raise InvalidRequest("from must not be after to", details={"fields": ["from", "to"]})
    entries, cursor = audit.page(
        merchant_id, start=start, end=end, actor_id=query.actor, limit=query.limit, cursor=query.cursor
    )
    return AuditPage(entries=[_view(entry, cipher) for entry in entries], next_cursor=cursor)
