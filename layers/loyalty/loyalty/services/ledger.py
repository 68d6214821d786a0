"""The common path of every change to a member's points: read the member, let the use case
compute the new state, commit it in one transaction, and retry on a concurrent change.

Idempotency is permanent and lives in the same transaction: the operation record (keyed by the
merchant and the client's id) is created with attribute_not_exists. If it exists, the request is
a replay: the same body gets the stored answer, another body a 409.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from loyalty.clock import isoformat
from loyalty.data.models import ExpiryQueueItem, LedgerEntryItem, MemberItem, OperationItem
from loyalty.data.unit_of_work import MemberWrite, OperationExists, StaleMember, commit
from loyalty.domain.wallet import LotKey, Wallet
from loyalty.errors import Conflict, LoyaltyError, NotFound, Unavailable
from loyalty.ids import new_id
from loyalty.services.members import get_member, wallet_of

OP_SK = "OP"
MAX_ATTEMPTS = 40
ResultT = TypeVar("ResultT", bound=BaseModel)


def operation_pk(merchant_id: str, kind: str, *client_ids: str) -> str:
    return "#".join((merchant_id, kind, *client_ids))


def request_hash(request: BaseModel) -> str:
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def operation_record(
    pk: str, kind: str, member: MemberItem, digest: str, now: datetime, response: BaseModel, state: dict[str, Any]
) -> OperationItem:
    """The record that makes a member's operation happen once, with the answer a replay gets."""
    return OperationItem(
        pk,
        OP_SK,
        kind=kind,
        merchant_id=member.merchant_id,
        member_key=member.pk,
        request_hash=digest,
        created_at=now,
        response=response.model_dump(mode="json"),
        state=state,
    )


def get_operation(pk: str, *, consistent: bool = True) -> OperationItem | None:
    try:
        return OperationItem.get(pk, OP_SK, consistent_read=consistent)
    except DoesNotExist:
        return None


EXPIRY_SHARDS = 16


def expiry_queue_pk(expires_on: str, shard: int) -> str:
    return f"EXPQ#{expires_on}#{shard:02d}"


def shard_of(key: str, shards: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % shards


class Draft:
    """One change of a member, built up step by step and written in one transaction: the member
    item (checked against the version it was read at), its new ledger entries in order, and the
    other items of the same transaction.

    Every entry moves the running balance by its points, and ``finish`` refuses to write unless
    the wallet's balance equals the balance the entries add up to: the ledger always explains it.
    """

    def __init__(self, member: MemberItem, now: datetime) -> None:
        self.member = member
        self.now = now
        self.today = now.date()
        self.read_version = int(member.version)
        self.wallet: Wallet = wallet_of(member).matured(self.today)
        self._initial_wallet = self.wallet
        self._balance = self.wallet.balance
        self.entries: list[LedgerEntryItem] = []
        self.creates: list[Model] = []
        self.puts: list[Model] = []
        self.deletes: list[Model] = []

    @property
    def balance(self) -> int:
        return self._balance

    def entry(
        self,
        *,
        kind: str,
        points: int,
        operation: str,
        lot_key: str | None = None,
        lot_points: int | None = None,
        allocation: dict[str, int] | None = None,
        details: dict[str, Any] | None = None,
    ) -> LedgerEntryItem:
        self._balance += points
        entry_id = new_id("le")
        at = self.now + timedelta(milliseconds=len(self.entries))  # keeps entries of one change in order
        item = LedgerEntryItem(
            self.member.pk,
            f"{isoformat(at)}#{entry_id}",
            entry_id=entry_id,
            merchant_id=self.member.merchant_id,
            member_id=self.member.member_id,
            kind=kind,
            points=points,
            balance_after=self._balance,
            operation=operation,
            created_at=at,
            lot_key=lot_key,
            lot_points=lot_points,
            allocation=allocation or None,
            details=details or {},
        )
        self.entries.append(item)
        return item

    def credit(
        self, points: int, key: LotKey, *, kind: str, operation: str, details: dict[str, Any] | None = None
    ) -> LedgerEntryItem:
        """Points into a lot (debt is repaid first), with its ledger entry."""
        self.wallet, kept = self.wallet.earn(key, points) if points else (self.wallet, 0)
        return self.entry(
            kind=kind,
            points=points,
            operation=operation,
            lot_key=key.encode() if points else None,
            lot_points=kept if points else None,
            details=details,
        )

    def debit(self, points: int, *, kind: str, operation: str, details: dict[str, Any] | None = None) -> dict[str, int]:
        """Spend points, soonest-expiring first; raises InsufficientPoints and changes nothing."""
        self.wallet, allocation = self.wallet.spend(points, self.today)
        self.entry(kind=kind, points=-points, operation=operation, allocation=allocation, details=details)
        return allocation

    def finish(
        self, *, new_operation: OperationItem | None = None, updated_operation: tuple[OperationItem, int] | None = None
    ) -> MemberWrite:
        if self.wallet.balance != self._balance:
            raise AssertionError(f"ledger entries add up to {self._balance}, wallet holds {self.wallet.balance}")
        member = self.member
        member.lots, member.debt, member.balance = dict(self.wallet.lots), self.wallet.debt, self.wallet.balance
        return MemberWrite(
            member,
            self.read_version,
            entries=self.entries,
            new_operation=new_operation,
            updated_operation=updated_operation,
            creates=self.creates,
            puts=self.puts + self._expiry_queue_items(),
            deletes=self.deletes,
        )

    def _expiry_queue_items(self) -> list[Model]:
        """Queue the member for the expiry job on each expiry date it did not have a bucket for."""
        known = {LotKey.decode(raw).expires_on for raw in self._initial_wallet.lots}
        new_dates = {LotKey.decode(raw).expires_on for raw in self.wallet.lots} - known
        shard = shard_of(self.member.pk, EXPIRY_SHARDS)
        return [
            ExpiryQueueItem(expiry_queue_pk(day.isoformat(), shard), self.member.pk)
            for day in sorted(d for d in new_dates if d is not None)
        ]


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0.002, 0.01) * min(attempt + 1, 10))  # noqa: S311 - jitter, not crypto


def apply_change(
    merchant_id: str,
    member_id: str,
    build: Callable[[MemberItem], tuple[MemberWrite, ResultT]],
    result_type: type[ResultT],
    *,
    operation: tuple[str, str] | None = None,
) -> tuple[ResultT, bool]:
    """Run ``build`` against a fresh read of the member until its write commits.

    ``operation`` is (operation pk, request hash) for client-identified operations. Returns the
    result and whether it was a replay of an earlier identical request."""
    for attempt in range(MAX_ATTEMPTS):
        member = get_member(merchant_id, member_id)
        try:
            write, result = build(member)
            commit(write)
            return result, False
        except OperationExists:
            return _replay(operation, result_type)
        except StaleMember:
            _backoff(attempt)
        except LoyaltyError:
            # A rule said no (e.g. not enough points): if this very request already succeeded
            # earlier, the caller is retrying and gets the original answer instead.
            if operation is not None and get_operation(operation[0]) is not None:
                return _replay(operation, result_type)
            raise
    raise Unavailable("the member is being changed by many requests at once; retry", code="busy")


def _replay(operation: tuple[str, str] | None, result_type: type[ResultT]) -> tuple[ResultT, bool]:
    if operation is None:
        raise AssertionError("OperationExists without an operation")
    existing = get_operation(operation[0])
    if existing is None:
        raise NotFound("operation vanished")  # not expected: operation records are never deleted
    if existing.request_hash != operation[1]:
        raise Conflict("this id was already used with a different request", code="idempotency_conflict")
    return result_type.model_validate(existing.response), True
