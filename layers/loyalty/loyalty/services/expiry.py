"""Expiry: the scheduled job that removes what is left of each expired lot, oldest first, once;
and the warnings before it.

Lots expire at month ends. When a member first gets a bucket for an expiry date, the same write
queues the member under that date (``data.operations``), in one of ``EXPIRY_SHARDS`` shards. The
job reads only the queues of the month ends that have passed (no scan), expires each member's
remainder with an explicit ledger entry in the same transaction that removes the queue item, and
so never does the same work twice. It runs a shard of a month end at a time, a page of at most
``BATCH_MEMBERS`` members per run (``expire_shard``); what is left is the next run, from where
this one stopped (``services.expiry_runs`` carries the runs through a queue).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field

from loyalty.api.common import Request
from loyalty.clock import add_months, end_of_month
from loyalty.data import members, operations
from loyalty.data.operations import Due
from loyalty.domain.member import Member
from loyalty.domain.occasions import expire
from loyalty.errors import NotFound
from loyalty.events import DomainEvent
from loyalty.services.changes import Decision, Unchanged, apply_change
from loyalty.services.merchants import programs

LOOKBACK_MONTHS = 3
BATCH_MEMBERS = 200  # members one run reads and expires at most: the work of one message is bounded


def due_dates(today: date, lookback_months: int = LOOKBACK_MONTHS) -> list[date]:
    """Month ends before ``today`` in the look-back window, oldest first."""
    last = end_of_month(add_months(today.replace(day=1), -1))
    return sorted(end_of_month(add_months(last.replace(day=1), -back)) for back in range(lookback_months))


class ExpiryResult(BaseModel):
    points: int = 0


def expire_member(merchant_id: str, member_id: str, now: datetime, due: Due | None = None) -> int:
    """Expire everything of this member that expired before ``now``'s date; returns the points."""

    def decide(member: Member) -> Decision[ExpiryResult]:
        change = expire(member, now)
        if change is None:
            raise Unchanged(ExpiryResult())
        points = -sum(entry.points for entry in change.entries)
        return Decision(change, ExpiryResult(points=points), also=due.stage_done if due is not None else None)

    try:
        result, _ = apply_change(merchant_id, member_id, decide, ExpiryResult, now)
    except NotFound:
        result = ExpiryResult()
    if not result.points and due is not None:
        due.done()
    return result.points


class ShardRun(Request):
    """One run of the expiry job: a shard of a month end's queue, from after ``after`` (None: its
    start), expiring as of ``as_of`` (the scheduled time, so the job can run as of any time)."""

    day: date
    shard: int = Field(ge=0, lt=operations.EXPIRY_SHARDS)
    as_of: datetime
    after: str | None = Field(default=None, min_length=1)


class ShardOutcome(BaseModel):
    members: int = 0
    points: int = 0
    next_run: ShardRun | None = None  # the same shard from where this run stopped; None: it is done


def shard_runs(now: datetime, lookback_months: int = LOOKBACK_MONTHS) -> list[ShardRun]:
    """The fan-out: one run per shard of every month end due."""
    return [
        ShardRun(day=day, shard=shard, as_of=now)
        for day in due_dates(now.date(), lookback_months)
        for shard in range(operations.EXPIRY_SHARDS)
    ]


def expire_shard(
    run: ShardRun, *, batch: int | None = None, time_left: Callable[[], bool] | None = None
) -> ShardOutcome:
    """Expire one page of at most ``batch`` (``BATCH_MEMBERS``) members of the run's shard (one Query, then a read and
    a write per member); stops early when ``time_left`` says so, after one member at least, so
    every run moves on. A run received twice expires nothing twice: an expired member's queue item
    goes in the same write, and a member with nothing left to expire is left as is."""
    page = operations.expiring_page(run.day, run.shard, limit=batch or BATCH_MEMBERS, after=run.after)
    outcome = ShardOutcome()
    for due in page.due:
        if outcome.members and time_left is not None and not time_left():
            outcome.next_run = run  # from after the last member this run expired
            return outcome
        outcome.points += expire_member(due.merchant_id, due.member_id, run.as_of, due)
        outcome.members += 1
        run = run.model_copy(update={"after": due.position})
    if page.next_after is not None:
        outcome.next_run = run.model_copy(update={"after": page.next_after})
    return outcome


def run_expiry(now: datetime, *, lookback_months: int = LOOKBACK_MONTHS) -> dict[str, int]:
    """The whole job in this process, every run to its end: for tests and tools. In Lambda the
    runs go through the expiry queue, a message each (``services.expiry_runs``)."""
    expired_members = points = 0
    for first in shard_runs(now, lookback_months):
        run: ShardRun | None = first
        while run is not None:
            outcome = expire_shard(run)
            expired_members, points, run = expired_members + outcome.members, points + outcome.points, outcome.next_run
    return {"members": expired_members, "points": points}


WARNING_DAYS = (3, 7, 14, 30)  # the choices a program has (Program.expiry_warning_days)


def warn_expiring(
    now: datetime, publish: Callable[[list[DomainEvent]], object], time_left: Callable[[], bool] | None = None
) -> dict[str, int]:
    """Tell members their points expire soon: for each warning horizon that lands on a month end,
    read that month end's expiry queue and warn the members whose program uses that horizon.
    Each queue is read at most once per horizon, so the work grows with the members warned."""
    today = now.date()
    warned = 0
    for days in WARNING_DAYS:
        expires_on = today + timedelta(days=days)
        if expires_on != end_of_month(expires_on):
            continue
        events: list[DomainEvent] = []
        for shard in range(operations.EXPIRY_SHARDS):
            for due in operations.expiring_on(expires_on, shard):
                if time_left is not None and not time_left():
                    publish(events)
                    return {"warned": warned + len(events), "complete": 0}
                event = _expiring_event(due.merchant_id, due.member_id, expires_on, days, now)
                if event is not None:
                    events.append(event)
        if events:
            publish(events)
        warned += len(events)
    return {"warned": warned, "complete": 1}


def _expiring_event(merchant_id: str, member_id: str, expires_on: date, days: int, now: datetime) -> DomainEvent | None:
    try:
        if programs.get(merchant_id).program.expiry_warning_days != days:
            return None
        member = members.get(merchant_id, member_id, consistent=False)
    except NotFound:
        return None
    points = member.wallet.expiring(now.date(), expires_on).get(expires_on, 0)
    if not member.is_active or points <= 0:
        return None
    return DomainEvent(
        event_id=f"expiring:{member.ref}:{expires_on.isoformat()}",
        type="points_expiring",
        merchant_id=merchant_id,
        member_id=member_id,
        occurred_at=now,
        data={"points": points, "expires_on": expires_on.isoformat(), "balance": member.wallet.balance},
    )
