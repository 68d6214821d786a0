"""Expiry: the scheduled job that removes what is left of each expired lot, oldest first, once;
and the warnings before it.

Lots expire at month ends. When a member first gets a bucket for an expiry date, the same write
queues the member under that date (``data.operations``), in one of ``EXPIRY_SHARDS`` shards. The
job reads only the queues of the month ends that have passed (no scan), expires each member's
remainder with an explicit ledger entry in the same transaction that removes the queue item, and
so never does the same work twice. It runs a shard of a month end at a time, a page of at most
``BATCH_MEMBERS`` members per run (``expire_shard``); what is left is the next run, from where
this one stopped (``services.expiry_runs`` carries the runs through a queue). The warnings before a
month end read the same queues the same way (``warn_shard``): a warning run is a shard run with
``warning_days`` set.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Literal, get_args

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


WarningDays = Literal[3, 7, 14, 30]  # the horizons a program may warn at (Program.expiry_warning_days, but 0)
WARNING_DAYS: tuple[WarningDays, ...] = get_args(WarningDays)


class ShardRun(Request):
    """One run of the expiry job: a shard of a month end's queue, from after ``after`` (None: its
    start), as of ``as_of`` (the scheduled time, so the job can run as of any time). With
    ``warning_days``, the run expires nothing: it warns the members of the queue whose program
    warns that many days before ``day``."""

    day: date
    shard: int = Field(ge=0, lt=operations.EXPIRY_SHARDS)
    as_of: datetime
    after: str | None = Field(default=None, min_length=1)
    warning_days: WarningDays | None = None


class ShardOutcome(BaseModel):
    members: int = 0  # members of the shard this run went through
    points: int = 0  # points expired
    warned: int = 0  # members warned
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


def warning_runs(now: datetime) -> list[ShardRun]:
    """The warnings' fan-out: for each horizon that lands on a month end, a run per shard of that
    month end's queue (at most 16 a day: the horizons are 3 to 30 days, so two never share a day
    unless months were that short)."""
    today = now.date()
    return [
        ShardRun(day=expires_on, shard=shard, as_of=now, warning_days=days)
        for days in WARNING_DAYS
        if (expires_on := today + timedelta(days=days)) == end_of_month(expires_on)
        for shard in range(operations.EXPIRY_SHARDS)
    ]


def warn_shard(
    run: ShardRun,
    publish: Callable[[list[DomainEvent]], object],
    *,
    batch: int | None = None,
    time_left: Callable[[], bool] | None = None,
) -> ShardOutcome:
    """Warn the members of one page of the run's shard (one Query, a read of each member) whose
    program warns ``run.warning_days`` ahead, then publish the page's warnings together. A run
    received twice publishes the same events again: each warning's event id names the member and
    the month end, and a notification is sent once per event id."""
    if run.warning_days is None:
        raise ValueError("not a warning run")
    page = operations.expiring_page(run.day, run.shard, limit=batch or BATCH_MEMBERS, after=run.after)
    outcome = ShardOutcome()
    events: list[DomainEvent] = []
    for due in page.due:
        if outcome.members and time_left is not None and not time_left():
            outcome.next_run = run  # from after the last member this run looked at
            break
        event = _expiring_event(due.merchant_id, due.member_id, run.day, run.warning_days, run.as_of)
        if event is not None:
            events.append(event)
        outcome.members += 1
        run = run.model_copy(update={"after": due.position})
    else:
        if page.next_after is not None:
            outcome.next_run = run.model_copy(update={"after": page.next_after})
    if events:
        publish(events)
    outcome.warned = len(events)
    return outcome


def run_warnings(now: datetime, publish: Callable[[list[DomainEvent]], object]) -> dict[str, int]:
    """Every warning due ``now``, in this process, each run to its end: for tests and tools. In
    Lambda the runs go through the expiry queue like the expiry's (``services.expiry_runs``)."""
    warned = 0
    for first in warning_runs(now):
        run: ShardRun | None = first
        while run is not None:
            outcome = warn_shard(run, publish)
            warned, run = warned + outcome.warned, outcome.next_run
    return {"warned": warned}


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
