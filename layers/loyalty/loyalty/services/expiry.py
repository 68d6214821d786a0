"""Expiry: the scheduled job that removes what is left of each expired lot, oldest first, once;
and the warnings before it.

Lots expire at month ends. When a member first gets a bucket for an expiry date, the same write
queues the member under that date (``data.operations``). The job reads only the queues of the
month ends that have passed (no scan), expires each member's remainder with an explicit ledger
entry in the same transaction that removes the queue item, and so never does the same work twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from pydantic import BaseModel

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


def run_expiry(
    now: datetime, *, lookback_months: int = LOOKBACK_MONTHS, time_left: Callable[[], bool] | None = None
) -> dict[str, int]:
    expired_members = points = 0
    for day in due_dates(now.date(), lookback_months):
        for shard in range(operations.EXPIRY_SHARDS):
            for due in operations.expiring_on(day, shard):
                if time_left is not None and not time_left():
                    return {"members": expired_members, "points": points, "complete": 0}
                points += expire_member(due.merchant_id, due.member_id, now, due)
                expired_members += 1
    return {"members": expired_members, "points": points, "complete": 1}


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
