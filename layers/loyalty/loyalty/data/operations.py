"""The operations table: what makes a client's request happen once, the dated queues the
scheduled jobs read instead of scanning, and sign-in state.

Keys:
- operation      pk ``<merchant>#<kind>#<client ids...>``        sk ``OP``
- expiry queue   pk ``EXPQ#<expiry date>#<shard>``                sk ``<merchant>#<member>``
- tier queue     pk ``TIERQ#<due date>#<shard>``                  sk ``<merchant>#<member>``
- hold queue     pk ``HOLDQ#<hour of expiry>``                    sk ``<expiry time>#<merchant>#<redemption>``
- sign-in code   pk ``OTP#<merchant>#<phone hash>``               sk ``OTP``
- session        pk ``SESSION#<session id>``                      sk ``S``
- rate counter   pk ``RATE#<what>#<who>#<window>``                sk ``R``
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError

from loyalty.clock import isoformat
from loyalty.data.base import Item, table_base
from loyalty.data.members import member_key, shard_of
from loyalty.data.transaction import Transaction

OP_SK = "OP"
OPEN = "open"  # the status of an operation that may still be closed (``close_open``): a hold
EXPIRY_SHARDS = 16
TIER_SHARDS = 8


@table_base
class _OperationsTable(Item):
    table_env = "operations_table"

    class Meta:
        table_name = "unbound"


class OperationItem(_OperationsTable):
    kind = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    member_id = UnicodeAttribute(null=True)
    request_hash = UnicodeAttribute()
    status = UnicodeAttribute(default="done")
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    response = JSONAttribute(default=dict)
    state = JSONAttribute(default=dict)
    version = NumberAttribute(default=0)
    open_until = UTCDateTimeAttribute(null=True)  # an open operation (a hold) may be closed until then


class QueueItem(_OperationsTable):
    """A member due for a scheduled job on a date (expiry, tier review)."""


class HoldQueueItem(_OperationsTable):
    merchant_id = UnicodeAttribute()
    redemption_id = UnicodeAttribute()


class SignInCodeItem(_OperationsTable):
    member_id = UnicodeAttribute()
    code_hash = UnicodeAttribute()
    expires_at = NumberAttribute()  # epoch seconds; also the TTL
    attempts = NumberAttribute(default=0)


class SessionItem(_OperationsTable):
    merchant_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    refresh_hash = UnicodeAttribute()
    previous_refresh_hash = UnicodeAttribute(null=True)  # the spent one: presented again, it revokes
    revoked = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    refreshed_at = UTCDateTimeAttribute(null=True)
    expires_at = NumberAttribute()  # epoch seconds; also the TTL
    version = NumberAttribute(default=0)


class RateItem(_OperationsTable):
    hits = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


# ---- operations ------------------------------------------------------------------------------
@dataclass(frozen=True)
class OperationKey:
    """A client's operation: the merchant, what it is, and the ids the client gave it."""

    merchant_id: str
    kind: str
    ids: tuple[str, ...]

    @classmethod
    def of(cls, merchant_id: str, kind: str, *ids: str) -> OperationKey:
        return cls(merchant_id, kind, ids)

    @property
    def _pk(self) -> str:
        return "#".join((self.merchant_id, self.kind, *self.ids))


@dataclass(frozen=True)
class Operation:
    key: OperationKey
    request_hash: str
    created_at: datetime
    response: Mapping[str, Any] = field(default_factory=dict)
    state: Mapping[str, Any] = field(default_factory=dict)  # what later operations need of this one
    member_id: str | None = None
    status: str = "done"
    updated_at: datetime | None = None
    version: int = 0
    open_until: datetime | None = None

    def updated(
        self,
        state: Mapping[str, Any],
        now: datetime,
        response: Mapping[str, Any] | None = None,
        *,
        status: str | None = None,
    ) -> Operation:
        return replace(
            self,
            state=dict(state),
            response=dict(response if response is not None else self.response),
            updated_at=now,
            version=self.version + 1,
            status=status if status is not None else self.status,
        )


def _to_item(operation: Operation) -> OperationItem:
    key = operation.key
    return OperationItem(
        key._pk,
        OP_SK,
        kind=key.kind,
        merchant_id=key.merchant_id,
        member_id=operation.member_id,
        request_hash=operation.request_hash,
        status=operation.status,
        created_at=operation.created_at,
        updated_at=operation.updated_at,
        response=dict(operation.response),
        state=dict(operation.state),
        version=operation.version,
        open_until=operation.open_until,
    )


def get(key: OperationKey, *, consistent: bool = True) -> Operation | None:
    try:
        item = OperationItem.get(key._pk, OP_SK, consistent_read=consistent)
    except DoesNotExist:
        return None
    return _to_operation(key, item)


def close_open(key: OperationKey, status: str, now: datetime) -> Operation | None:
    """Close an open operation (a hold) in one conditional UpdateItem that returns it, without
    reading it first: only while its ``status`` is ``open`` and before ``open_until``. None when it
    was not open (closed already, never open, gone) or its time was up: read it and decide."""
    item = OperationItem(key._pk, OP_SK)
    try:
        item.update(
            actions=[OperationItem.status.set(status), OperationItem.updated_at.set(now), OperationItem.version.add(1)],
            condition=(OperationItem.status == OPEN) & (OperationItem.open_until > now),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    return _to_operation(key, item)


def _to_operation(key: OperationKey, item: OperationItem) -> Operation:
    return Operation(
        key=key,
        request_hash=item.request_hash,
        created_at=item.created_at,
        response=dict(item.response or {}),
        state=dict(item.state or {}),
        member_id=item.member_id,
        status=item.status,
        updated_at=item.updated_at,
        version=int(item.version),
        open_until=item.open_until,
    )


def stage_create(tx: Transaction, operation: Operation) -> None:
    """The operation record, which must be new: ``AlreadyExists("operation")`` is a replay."""
    tx.create(_to_item(operation), name="operation")


def stage_update(tx: Transaction, operation: Operation) -> None:
    """``operation`` as returned by ``Operation.updated``: written only if nobody changed it since
    it was read (``Stale("operation")``)."""
    tx.put(_to_item(operation), condition=OperationItem.version == operation.version - 1, name="operation")


# ---- the expiry and tier queues ----------------------------------------------------------------
def _expiry_pk(day: date, shard: int) -> str:
    return f"EXPQ#{day.isoformat()}#{shard:02d}"


def _tier_pk(day: date, shard: int) -> str:
    return f"TIERQ#{day.isoformat()}#{shard:02d}"


@dataclass(frozen=True)
class Due:
    """A member a job must look at; ``done`` removes it from its queue."""

    merchant_id: str
    member_id: str
    _item: QueueItem

    def stage_done(self, tx: Transaction) -> None:
        tx.delete(self._item)

    def done(self) -> None:
        self._item.delete()

    @property
    def position(self) -> str:
        """Where this member sits in its queue: a page that stops here goes on after it."""
        return str(self._item.sk)


@dataclass(frozen=True)
class DuePage:
    """Members of a dated queue, read a page at a time, and where the next page starts (the
    query's LastEvaluatedKey as a sort key; None: the queue ends here)."""

    due: list[Due]
    next_after: str | None


def stage_expiry_dates(tx: Transaction, merchant_id: str, member_id: str, dates: list[date]) -> None:
    key = member_key(merchant_id, member_id)
    shard = shard_of(key, EXPIRY_SHARDS)
    for day in dates:
        tx.put(QueueItem(_expiry_pk(day, shard), key))


def stage_tier_due(tx: Transaction, merchant_id: str, member_id: str, due: date) -> None:
    key = member_key(merchant_id, member_id)
    tx.put(QueueItem(_tier_pk(due, shard_of(key, TIER_SHARDS)), key))


def _as_due(item: QueueItem) -> Due:
    merchant_id, _, member_id = str(item.sk).partition("#")
    return Due(merchant_id, member_id, item)


def _due(pk: str) -> Iterator[Due]:
    for item in QueueItem.query(pk):
        yield _as_due(item)


def expiring_page(day: date, shard: int, *, limit: int, after: str | None) -> DuePage:
    """At most ``limit`` members of one expiry queue, from after ``after`` (one Query)."""
    pk = _expiry_pk(day, shard)
    start = {"pk": {"S": pk}, "sk": {"S": after}} if after else None
    results = QueueItem.query(pk, limit=limit, last_evaluated_key=start)
    due = [_as_due(item) for item in results]
    last = results.last_evaluated_key
    return DuePage(due, str(last["sk"]["S"]) if last else None)


def tier_reviews_on(day: date, shard: int) -> Iterator[Due]:
    return _due(_tier_pk(day, shard))


# ---- the hold queue ----------------------------------------------------------------------------
def _hold_item(merchant_id: str, redemption_id: str, expires_at: datetime) -> HoldQueueItem:
    return HoldQueueItem(
        f"HOLDQ#{expires_at:%Y-%m-%dT%H}",
        f"{isoformat(expires_at)}#{merchant_id}#{redemption_id}",
        merchant_id=merchant_id,
        redemption_id=redemption_id,
    )


def stage_hold(tx: Transaction, merchant_id: str, redemption_id: str, expires_at: datetime) -> None:
    tx.put(_hold_item(merchant_id, redemption_id, expires_at))


def stage_hold_closed(tx: Transaction, merchant_id: str, redemption_id: str, expires_at: datetime) -> None:
    tx.delete(_hold_item(merchant_id, redemption_id, expires_at))


@dataclass(frozen=True)
class DueHold:
    merchant_id: str
    redemption_id: str
    _item: HoldQueueItem

    def forget(self) -> None:
        self._item.delete()


def holds_due(now: datetime, lookback_hours: int) -> Iterator[DueHold]:
    """Open holds whose time is up, from the last ``lookback_hours`` hours' partitions."""
    for hours_back in range(lookback_hours, -1, -1):
        bucket = (now - timedelta(hours=hours_back)).strftime("%Y-%m-%dT%H")
        for item in HoldQueueItem.query(f"HOLDQ#{bucket}", HoldQueueItem.sk <= f"{isoformat(now)}~"):
            yield DueHold(item.merchant_id, item.redemption_id, item)


# ---- sign-in codes, sessions, rate limits ----------------------------------------------------
@dataclass(frozen=True)
class SignInCode:
    member_id: str
    code_hash: str
    expires_at: int
    attempts: int


def _code_pk(merchant_id: str, phone_hash: str) -> str:
    return f"OTP#{merchant_id}#{phone_hash}"


def save_sign_in_code(merchant_id: str, phone_hash: str, code: SignInCode) -> None:
    SignInCodeItem(
        _code_pk(merchant_id, phone_hash),
        "OTP",
        member_id=code.member_id,
        code_hash=code.code_hash,
        expires_at=code.expires_at,
        attempts=code.attempts,
    ).save()


def count_sign_in_attempt(merchant_id: str, phone_hash: str, most: int) -> SignInCode | None:
    """Count one try of the phone's current code, atomically, and return the code as it is after
    it; None when there is no code, or when it already had ``most`` tries (used up)."""
    item = SignInCodeItem(_code_pk(merchant_id, phone_hash), "OTP")
    try:
        item.update(
            actions=[SignInCodeItem.attempts.add(1)],
            condition=SignInCodeItem.pk.exists() & (SignInCodeItem.attempts < most),
        )
    except UpdateError:
        return None
    return SignInCode(item.member_id, item.code_hash, int(item.expires_at), int(item.attempts))


def sign_in_code(merchant_id: str, phone_hash: str) -> SignInCode | None:
    try:
        item = SignInCodeItem.get(_code_pk(merchant_id, phone_hash), "OTP", consistent_read=True)
    except DoesNotExist:
        return None
    return SignInCode(item.member_id, item.code_hash, int(item.expires_at), int(item.attempts))


def use_sign_in_code(merchant_id: str, phone_hash: str, code_hash: str) -> bool:
    """Delete the code if it is still this one: whoever deletes it first signs in."""
    try:
        SignInCodeItem(_code_pk(merchant_id, phone_hash), "OTP").delete(condition=SignInCodeItem.code_hash == code_hash)
    except DeleteError:
        return False
    return True


@dataclass(frozen=True)
class Session:
    session_id: str
    merchant_id: str
    member_id: str
    refresh_hash: str
    revoked: bool
    created_at: datetime
    expires_at: int
    version: int = 0
    refreshed_at: datetime | None = None
    previous_refresh_hash: str | None = None


def _session_pk(session_id: str) -> str:
    return f"SESSION#{session_id}"


def save_session(session: Session) -> None:
    SessionItem(
        _session_pk(session.session_id),
        "S",
        merchant_id=session.merchant_id,
        member_id=session.member_id,
        refresh_hash=session.refresh_hash,
        revoked=session.revoked,
        created_at=session.created_at,
        refreshed_at=session.refreshed_at,
        expires_at=session.expires_at,
        version=session.version,
    ).save()


def get_session(session_id: str, *, consistent: bool = True) -> Session | None:
    try:
        item = SessionItem.get(_session_pk(session_id), "S", consistent_read=consistent)
    except DoesNotExist:
        return None
    return Session(
        session_id,
        item.merchant_id,
        item.member_id,
        item.refresh_hash,
        bool(item.revoked),
        item.created_at,
        int(item.expires_at),
        int(item.version),
        item.refreshed_at,
        item.previous_refresh_hash,
    )


def rotate_refresh(session: Session, refresh_hash: str, now: datetime) -> bool:
    """Swap the session's refresh hash if nobody did since it was read (two refreshes with one
    token: only one wins)."""
    try:
        SessionItem(_session_pk(session.session_id), "S").update(
            actions=[
                SessionItem.refresh_hash.set(refresh_hash),
                SessionItem.previous_refresh_hash.set(session.refresh_hash),
                SessionItem.refreshed_at.set(now),
                SessionItem.version.set(session.version + 1),
            ],
            condition=(SessionItem.version == session.version) & (SessionItem.revoked == False),  # noqa: E712
        )
    except UpdateError:
        return False
    return True


def revoke_session(session_id: str) -> None:
    try:
        SessionItem(_session_pk(session_id), "S").update(
            actions=[SessionItem.revoked.set(True)], condition=SessionItem.pk.exists()
        )
    except UpdateError:
        return  # an unknown session is as ended as a revoked one


def hit_rate_limit(what: str, who: str, window: int, most: int, expires_at: int) -> bool:
    """Count one hit in the window; False (and nothing counted) once ``most`` were counted."""
    item = RateItem(f"RATE#{what}#{who}#{window}", "R")
    try:
        item.update(
            actions=[RateItem.hits.add(1), RateItem.expires_at.set(expires_at)],
            condition=RateItem.hits.does_not_exist() | (RateItem.hits < most),
        )
    except UpdateError:
        return False
    return True
