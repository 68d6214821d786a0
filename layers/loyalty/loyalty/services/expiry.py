"""Expiry: the scheduled job that removes what is left of each expired lot, oldest first, once.

Lots expire at month ends. When a member first gets a bucket for an expiry date, the accrual also
writes an expiry-queue item (date, shard, member). The job reads only the queue items of the month
ends that have passed (no scan), expires each member's remainder with an explicit ledger entry in
the same transaction that deletes the queue item, and so never does the same work twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from pydantic import BaseModel

from loyalty.clock import add_months, end_of_month
from loyalty.data.models import ExpiryQueueItem, MemberItem
from loyalty.data.unit_of_work import MemberWrite
from loyalty.errors import NotFound
from loyalty.events import DomainEvent
from loyalty.services.ledger import EXPIRY_SHARDS, Draft, apply_change, expiry_queue_pk
from loyalty.services.members import get_member, wallet_of
from loyalty.services.merchants import programs

LOOKBACK_MONTHS = 3


def due_dates(today: date, lookback_months: int = LOOKBACK_MONTHS) -> list[date]:
    """Month ends before ``today`` in the look-back window, oldest first."""
    last = end_of_month(add_months(today.replace(day=1), -1))
    dates = [end_of_month(add_months(last.replace(day=1), -back)) for back in range(lookback_months)]
    return sorted(dates)


class _Nothing(Exception):
    pass


class ExpiryResult(BaseModel):
    points: int


def expire_member(merchant_id: str, member_id: str, now: datetime, queue_item: ExpiryQueueItem | None = None) -> int:
    """Expire everything of this member that expired before ``now``'s date; returns the points."""

    def build(member: MemberItem) -> tuple[MemberWrite, ExpiryResult]:
        draft = Draft(member, now)
        draft.wallet, expired = draft.wallet.expire(draft.today)
        if not expired:
            raise _Nothing
        points = sum(expired.values())
        draft.entry(
            kind="expire",
            points=-points,
            operation=f"expire:{draft.today.isoformat()}",
            allocation=expired,
            details={"expired_buckets": sorted(expired)},
        )
        if queue_item is not None:
            draft.deletes.append(queue_item)
        return draft.finish(), ExpiryResult(points=points)

    try:
        result, _ = apply_change(merchant_id, member_id, build, ExpiryResult)
    except (_Nothing, NotFound):
        if queue_item is not None:
            queue_item.delete()
        return 0
    return result.points


def run_expiry(
    now: datetime, *, lookback_months: int = LOOKBACK_MONTHS, time_left: Callable[[], bool] | None = None
) -> dict[str, int]:
    members = points = 0
    for day in due_dates(now.date(), lookback_months):
        for shard in range(EXPIRY_SHARDS):
            for item in ExpiryQueueItem.query(expiry_queue_pk(day.isoformat(), shard)):
                if time_left is not None and not time_left():
                    return {"members": members, "points": points, "complete": 0}
                merchant_id, _, member_id = str(item.sk).partition("#")
                points += expire_member(merchant_id, member_id, now, item)
                members += 1
    return {"members": members, "points": points, "complete": 1}


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
        for shard in range(EXPIRY_SHARDS):
            for item in ExpiryQueueItem.query(expiry_queue_pk(expires_on.isoformat(), shard)):
                if time_left is not None and not time_left():
                    publish(events)
                    return {"warned": warned + len(events), "complete": 0}
                merchant_id, _, member_id = str(item.sk).partition("#")
                event = _expiring_event(merchant_id, member_id, expires_on, days, now)
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
        member = get_member(merchant_id, member_id, consistent=False)
    except NotFound:
        return None
    points = wallet_of(member).expiring(now.date(), expires_on).get(expires_on, 0)
    if member.status != "active" or points <= 0:
        return None
    return DomainEvent(
        event_id=f"expiring:{member.pk}:{expires_on.isoformat()}",
        type="points_expiring",
        merchant_id=merchant_id,
        member_id=member_id,
        occurred_at=now,
        data={"points": points, "expires_on": expires_on.isoformat(), "balance": int(member.balance)},
    )
