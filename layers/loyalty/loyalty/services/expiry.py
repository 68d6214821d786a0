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
from loyalty.services.accrual import EXPIRY_SHARDS, expiry_queue_pk
from loyalty.services.ledger import apply_change, new_entry
from loyalty.services.members import wallet_of

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
    today = now.date()

    def build(member: MemberItem) -> tuple[MemberWrite, ExpiryResult]:
        read_version = int(member.version)
        after, expired = wallet_of(member).expire(today)
        if not expired:
            raise _Nothing
        member.lots, member.debt, member.balance = dict(after.lots), after.debt, after.balance
        points = sum(expired.values())
        entry = new_entry(
            member,
            kind="expire",
            points=-points,
            operation=f"expire:{today.isoformat()}",
            now=now,
            allocation=expired,
            details={"expired_buckets": sorted(expired)},
        )
        deletes = [queue_item] if queue_item is not None else []
        return MemberWrite(member, read_version, entries=[entry], deletes=list(deletes)), ExpiryResult(points=points)

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


def expiring_soon_dates(today: date, warn_days: int) -> list[date]:
    """The month end exactly ``warn_days`` ahead, if there is one (the daily job warns once)."""
    target = today + timedelta(days=warn_days)
    return [target] if target == end_of_month(target) else []
