"""The common path of every change to a member: read the member, let the domain decide the change
once, write it with what goes with it in one transaction, and retry on a concurrent change.

A client's operation record goes into the same transaction: if it exists the request is a replay
(``services.idempotency``). A request refused by a rule (not enough points, say) is also checked
for an earlier success: a client retrying a request that did succeed gets its first answer.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from loyalty.data import changes, members, operations
from loyalty.data.transaction import AlreadyExists, Contended, Stale, Transaction
from loyalty.domain.member import Member, MemberChange
from loyalty.errors import Busy, LoyaltyError
from loyalty.services.idempotency import ClientRequest, replay

ResultT = TypeVar("ResultT", bound=BaseModel)
MAX_ATTEMPTS = 40
REDRAWN = ("coupon",)  # a random code collided with another: decide again, with new codes


@dataclass
class Decision(Generic[ResultT]):
    """What an operation decided: the member's change, the answer, what the client's operation
    record keeps for later operations, and other items written in the same transaction."""

    change: MemberChange
    result: ResultT
    state: Mapping[str, Any] = field(default_factory=dict)
    also: Callable[[Transaction], None] | None = None
    mark_welcome: bool = False
    open_until: datetime | None = None  # the client's operation stays open until then (a hold)


class Unchanged(Exception):
    """Raised by a decision when there is nothing to write; ``result`` is the answer."""

    def __init__(self, result: Any) -> None:
        super().__init__("nothing to change")
        self.result = result


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0.002, 0.01) * min(attempt + 1, 10))  # noqa: S311 - jitter, not crypto


def commit(decision: Decision[ResultT], now: datetime, client: ClientRequest | None = None) -> None:
    tx = Transaction()
    if client is not None:
        operations.stage_create(
            tx,
            client.record(
                decision.result,
                now,
                member_id=decision.change.after.member_id,
                state=decision.state,
                open_until=decision.open_until,
            ),
        )
    changes.stage(tx, decision.change, mark_welcome=decision.mark_welcome)
    if decision.also is not None:
        decision.also(tx)
    tx.commit()


def apply_change(
    merchant_id: str,
    member_id: str,
    decide: Callable[[Member], Decision[ResultT]],
    result_type: type[ResultT],
    now: datetime,
    *,
    client: ClientRequest | None = None,
) -> tuple[ResultT, bool]:
    """Run ``decide`` against a fresh read of the member until its write commits. Returns the
    answer and whether it is a replay of an earlier identical request."""
    for attempt in range(MAX_ATTEMPTS):
        member = members.get(merchant_id, member_id)
        try:
            decision = decide(member)
            commit(decision, now, client)
            return decision.result, False
        except Unchanged as nothing:
            return nothing.result, False
        except AlreadyExists as exc:
            if exc.what == "operation" and client is not None:
                return replay(client, result_type)
            if exc.what not in REDRAWN:
                raise
        except (Stale, Contended):
            _backoff(attempt)
        except LoyaltyError as refusal:
            return _earlier_answer(client, result_type, refusal)
    raise Busy("the member is being changed by many requests at once; retry")


def _earlier_answer(
    client: ClientRequest | None, result_type: type[ResultT], refusal: LoyaltyError
) -> tuple[ResultT, bool]:
    """A rule said no (not enough points, say): if this very request succeeded before, the client
    is retrying it and gets its first answer; otherwise the refusal stands."""
    previous = client.previous() if client is not None else None
    if client is None or previous is None:
        raise refusal
    return replay(client, result_type, previous)
