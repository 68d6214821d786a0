"""One way to write: a ``Transaction`` whose conditions have names.

Every write of more than one item is one DynamoDB TransactWriteItems built here; a single item is
written with a plain conditional write (half the capacity of a transaction). When DynamoDB refuses
it, the failure comes back named after the condition that failed, whatever the order of the
items: ``AlreadyExists("phone")`` for an item that had to be new, ``Stale("member")`` for a
condition on an existing item that no longer holds, ``Contended`` when another transaction on the
same items was in flight (retry).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from loyalty.data.base import Item, connection

MAX_ITEMS = 100  # DynamoDB's limit per transaction
_CONDITION_FAILED = "ConditionalCheckFailed"


class WriteRefused(Exception):
    """DynamoDB did not write (nothing of the transaction was written)."""


class AlreadyExists(WriteRefused):
    """An item that had to be new exists: ``what`` names it (the operation, the phone, ...)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} already exists")
        self.what = what


class Stale(WriteRefused):
    """A condition on an existing item no longer holds (it changed since it was read, or is gone)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} changed")
        self.what = what


class Contended(WriteRefused):
    """Another transaction on the same items was in flight; the same write may be retried."""


Action = Literal["create", "take", "put", "update", "delete", "check"]
# PynamoDB sends a transaction's items grouped in this order; DynamoDB's cancellation reasons
# follow it, so the writes are kept in it too, to name the one that failed.
_SENT_ORDER: dict[Action, int] = {"check": 0, "delete": 1, "create": 2, "take": 2, "put": 2, "update": 3}


@dataclass(frozen=True)
class _Write:
    action: Action
    item: Item
    condition: Condition | None
    name: str | None
    actions: tuple[Any, ...] = ()


class Transaction:
    def __init__(self) -> None:
        self._writes: list[_Write] = []

    def __len__(self) -> int:
        return len(self._writes)

    def create(self, item: Item, *, name: str) -> None:
        """Write ``item``, which must not exist yet (``AlreadyExists(name)`` otherwise)."""
        self._add(_Write("create", item, type(item).pk.does_not_exist(), name))

    def take(self, item: Item, *, free: Condition, name: str) -> None:
        """Write ``item`` if ``free`` holds of what is there: a look-up that may exist but belong to
        no one yet (a reserved card). ``AlreadyExists(name)`` when someone holds it."""
        self._add(_Write("take", item, free, name))

    def put(self, item: Item, *, condition: Condition | None = None, name: str | None = None) -> None:
        self._add(_Write("put", item, condition, self._named(condition, name)))

    def update(
        self, item: Item, actions: list[Any], *, condition: Condition | None = None, name: str | None = None
    ) -> None:
        self._add(_Write("update", item, condition, self._named(condition, name), tuple(actions)))

    def delete(self, item: Item, *, condition: Condition | None = None, name: str | None = None) -> None:
        self._add(_Write("delete", item, condition, self._named(condition, name)))

    def check(self, item: Item, condition: Condition, *, name: str) -> None:
        """Write nothing to ``item`` but require ``condition`` of it."""
        self._add(_Write("check", item, condition, name))

    def commit(self) -> None:
        if not self._writes:
            return
        if len(self._writes) > MAX_ITEMS:
            raise ValueError(f"a transaction holds at most {MAX_ITEMS} items, not {len(self._writes)}")
        if len(self._writes) == 1 and self._writes[0].action != "check":
            self._write_one(self._writes[0])
            return
        self._writes.sort(key=lambda queued: _SENT_ORDER[queued.action])  # stable: order kept within a group
        try:
            with TransactWrite(connection=connection()) as transaction:
                for write in self._writes:
                    _stage(transaction, write)
        except TransactWriteError as exc:
            raise self._failure(exc) from exc

    # ---- internals -----------------------------------------------------------------------
    @staticmethod
    def _named(condition: Condition | None, name: str | None) -> str | None:
        if condition is not None and not name:
            raise ValueError("a conditional write needs a name, so that its failure can say what failed")
        return name

    def _add(self, write: _Write) -> None:
        self._writes.append(write)

    def include(self, other: Transaction) -> None:
        """Add the writes ``other`` holds (built on its own, committed as part of this one)."""
        self._writes.extend(other._writes)

    def _failure(self, exc: TransactWriteError) -> Exception:
        reasons = exc.cancellation_reasons or []
        for write, reason in zip(self._writes, reasons, strict=False):
            if reason is not None and reason.code == _CONDITION_FAILED:
                return _refusal(write)
        codes = {reason.code for reason in reasons if reason is not None}
        if "TransactionConflict" in codes or exc.cause_response_code == "TransactionConflictException":
            return Contended("another transaction on the same items was in flight")
        return exc

    @staticmethod
    def _write_one(write: _Write) -> None:
        try:
            if write.action in ("create", "take", "put"):
                write.item.save(condition=write.condition)
            elif write.action == "update":
                write.item.update(actions=list(write.actions), condition=write.condition)
            else:
                write.item.delete(condition=write.condition)
        except (PutError, UpdateError, DeleteError) as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise _refusal(write) from exc
            if exc.cause_response_code == "TransactionConflictException":
                raise Contended("another transaction on the same item was in flight") from exc
            raise


def _refusal(write: _Write) -> WriteRefused:
    name = write.name or type(write.item).__name__
    return AlreadyExists(name) if write.action in ("create", "take") else Stale(name)


def _stage(transaction: TransactWrite, write: _Write) -> None:
    if write.action in ("create", "take", "put"):
        transaction.save(write.item, condition=write.condition)
    elif write.action == "update":
        transaction.update(write.item, actions=list(write.actions), condition=write.condition)
    elif write.action == "delete":
        transaction.delete(write.item, condition=write.condition)
    else:
        model = type(write.item)
        transaction.condition_check(model, write.item.pk, write.item.sk, condition=write.condition)
