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
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from pynamodb.exceptions import DoesNotExist

from loyalty.clock import isoformat
from loyalty.data.models import LedgerEntryItem, MemberItem, OperationItem
from loyalty.data.unit_of_work import MemberWrite, OperationExists, StaleMember, commit
from loyalty.errors import Conflict, LoyaltyError, NotFound, Unavailable
from loyalty.ids import new_id
from loyalty.services.members import get_member

OP_SK = "OP"
MAX_ATTEMPTS = 40
ResultT = TypeVar("ResultT", bound=BaseModel)


def operation_pk(merchant_id: str, kind: str, *client_ids: str) -> str:
    return "#".join((merchant_id, kind, *client_ids))


def request_hash(request: BaseModel) -> str:
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def get_operation(pk: str, *, consistent: bool = True) -> OperationItem | None:
    try:
        return OperationItem.get(pk, OP_SK, consistent_read=consistent)
    except DoesNotExist:
        return None


def new_entry(
    member: MemberItem,
    *,
    kind: str,
    points: int,
    operation: str,
    now: datetime,
    lot_key: str | None = None,
    lot_points: int | None = None,
    allocation: dict[str, int] | None = None,
    details: dict[str, Any] | None = None,
    balance_after: int | None = None,
) -> LedgerEntryItem:
    entry_id = new_id("le")
    return LedgerEntryItem(
        member.pk,
        f"{isoformat(now)}#{entry_id}",
        entry_id=entry_id,
        merchant_id=member.merchant_id,
        member_id=member.member_id,
        kind=kind,
        points=points,
        balance_after=int(member.balance) if balance_after is None else balance_after,
        operation=operation,
        created_at=now,
        lot_key=lot_key,
        lot_points=lot_points,
        allocation=allocation or None,
        details=details or {},
    )


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
