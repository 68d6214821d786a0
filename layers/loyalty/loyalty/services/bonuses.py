"""Bonus points for occasions: reviews and surveys, birthdays, and the referrer's reward.

Each bonus is an operation with a natural id (the review's id, the member's birthday year, the
invited member), so it is granted once however often it is asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel

from loyalty.api.tiers import BonusActionRequest, BonusView
from loyalty.data.models import BirthdayItem, MemberItem
from loyalty.data.unit_of_work import MemberWrite
from loyalty.domain.wallet import lot_for
from loyalty.errors import NotFound, RuleViolation
from loyalty.services.ledger import (
    Draft,
    apply_change,
    get_operation,
    operation_pk,
    operation_record,
    request_hash,
    shard_of,
)
from loyalty.services.members import ensure_active, get_member
from loyalty.services.merchants import programs

BIRTHDAY_SHARDS = 4


def birthday_item(member: MemberItem) -> BirthdayItem | None:
    """The member's entry in the birthday index, if they told us their birthday."""
    if not member.birthday:
        return None
    month_day = member.birthday[5:]  # YYYY-MM-DD -> MM-DD
    return BirthdayItem(f"BDAY#{month_day}#{shard_of(member.pk, BIRTHDAY_SHARDS)}", member.pk)


class _Grant(BaseModel):
    """What granting a bonus hashes as its request (its replay identity)."""

    merchant_id: str
    member_id: str
    bonus: str
    external_id: str
    points: int


def grant(
    merchant_id: str,
    member_id: str,
    *,
    bonus: str,
    external_id: str,
    points: int,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> tuple[BonusView, bool]:
    """Credit ``points`` once for (bonus, external id); zero points still records the occasion
    (a birthday greeting, say) so that it is announced once."""
    program = programs.get(merchant_id).program
    op_pk = operation_pk(merchant_id, "bonus", bonus, external_id)
    digest = request_hash(
        _Grant(merchant_id=merchant_id, member_id=member_id, bonus=bonus, external_id=external_id, points=points)
    )

    def build(member: MemberItem) -> tuple[MemberWrite, BonusView]:
        ensure_active(member)
        draft = Draft(member, now)
        draft.credit(
            points,
            lot_for(draft.today, program.expiry_months, 0),
            kind="bonus",
            operation=f"bonus:{bonus}:{external_id}",
            details={"bonus": bonus, "external_id": external_id, **(details or {})},
        )
        member.earned_total = int(member.earned_total) + points
        view = BonusView(member_id=member_id, bonus=bonus, points=points, balance=draft.balance)
        operation = operation_record(op_pk, "bonus", member, digest, now, view, {"member_id": member_id})
        return draft.finish(new_operation=operation), view

    return apply_change(merchant_id, member_id, build, BonusView, operation=(op_pk, digest))


def bonus_action(
    merchant_id: str, member_id: str, request: BonusActionRequest, now: datetime
) -> tuple[BonusView, bool]:
    bonuses = programs.get(merchant_id).program.bonuses
    points = bonuses.review_points if request.type == "review" else bonuses.survey_points
    if not points:
        raise RuleViolation(f"the program gives no {request.type} bonus", code="bonus_not_offered")
    return grant(merchant_id, member_id, bonus=request.type, external_id=request.external_id, points=points, now=now)


def reward_referrer(merchant_id: str, referrer_id: str, referred_member_id: str, now: datetime) -> BonusView | None:
    """The inviting member's bonus when the invited one made their first qualifying purchase."""
    points = programs.get(merchant_id).program.bonuses.referrer_points
    try:
        view, _ = grant(
            merchant_id,
            referrer_id,
            bonus="referral",
            external_id=referred_member_id,
            points=points,
            now=now,
            details={"role": "referrer", "referred_id": referred_member_id},
        )
    except NotFound:
        return None  # the referrer left the program meanwhile
    return view


# ---- birthdays -----------------------------------------------------------------------------
def _local_date(member: MemberItem, fallback_zone: str, now: datetime) -> date:
    try:
        zone = ZoneInfo(member.timezone or fallback_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(fallback_zone)
    return now.astimezone(zone).date()


def celebrate(merchant_id: str, member_id: str, now: datetime) -> bool:
    """The birthday bonus (and greeting), once a year, on the member's birthday in their time zone."""
    try:
        program = programs.get(merchant_id).program
    except NotFound:
        return False
    try:
        member = get_member(merchant_id, member_id, consistent=False)
    except NotFound:
        return False
    if member.status != "active" or not member.birthday:
        return False
    local = _local_date(member, program.timezone, now)
    if member.birthday[5:] != local.strftime("%m-%d"):
        return False
    year = str(local.year)
    if get_operation(operation_pk(merchant_id, "bonus", "birthday", f"{member_id}:{year}")) is not None:
        return False
    grant(
        merchant_id,
        member_id,
        bonus="birthday",
        external_id=f"{member_id}:{year}",
        points=program.bonuses.birthday_points,
        now=now,
    )
    return True


def run_birthdays(now: datetime, time_left: Callable[[], bool] | None = None) -> dict[str, int]:
    """Today's and yesterday's birthdays (UTC): members in far-off zones may still be on
    yesterday, and one run a day covers every Russian zone. Reads only those two days' index
    partitions, so the work grows with the birthdays, not with the members."""
    celebrated = looked_at = 0
    for day in (now.date() - timedelta(days=1), now.date()):
        for shard in range(BIRTHDAY_SHARDS):
            for item in BirthdayItem.query(f"BDAY#{day.strftime('%m-%d')}#{shard}"):
                if time_left is not None and not time_left():
                    return {"looked_at": looked_at, "celebrated": celebrated, "complete": 0}
                merchant_id, _, member_id = str(item.sk).partition("#")
                looked_at += 1
                celebrated += celebrate(merchant_id, member_id, now)
    return {"looked_at": looked_at, "celebrated": celebrated, "complete": 1}
