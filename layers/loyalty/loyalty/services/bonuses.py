"""Bonus points for occasions: reviews and surveys, birthdays, and the referrer's reward (and its
reversal when the invited member returns the purchase that qualified it).

Each bonus is an operation with a natural id (the review's id, the member's birthday year, the
invited member's qualifying purchase), so it is granted once however often it is asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel

from loyalty.api.tiers import BonusActionRequest, BonusView
from loyalty.data import members, operations
from loyalty.data.transaction import AlreadyExists, Transaction
from loyalty.domain.member import Member
from loyalty.domain.occasions import grant_bonus, reverse_bonus
from loyalty.errors import Busy, Conflict, NotFound, RuleViolation
from loyalty.services.changes import Decision, apply_change
from loyalty.services.idempotency import ClientRequest
from loyalty.services.merchants import programs

BONUS = "bonus"
REVERSED_BEFORE_GRANT = "reversed_before_grant"


class _Grant(BaseModel):
    """What granting a bonus hashes as its request (its replay identity)."""

    merchant_id: str
    member_id: str
    bonus: str
    external_id: str
    points: int


def _client(merchant_id: str, member_id: str, bonus: str, external_id: str, points: int) -> ClientRequest:
    grant = _Grant(merchant_id=merchant_id, member_id=member_id, bonus=bonus, external_id=external_id, points=points)
    return ClientRequest.of(grant, merchant_id, BONUS, bonus, external_id)


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
    client = _client(merchant_id, member_id, bonus, external_id, points)

    def decide(member: Member) -> Decision[BonusView]:
        change = grant_bonus(
            member, program, bonus=bonus, external_id=external_id, points=points, now=now, details=details
        )
        view = BonusView(member_id=member_id, bonus=bonus, points=points, balance=change.after.wallet.balance)
        return Decision(change, view, state={"member_id": member_id, "points": points})

    return apply_change(merchant_id, member_id, decide, BonusView, now, client=client)


def bonus_action(
    merchant_id: str, member_id: str, request: BonusActionRequest, now: datetime
) -> tuple[BonusView, bool]:
    bonuses = programs.get(merchant_id).program.bonuses
    points = bonuses.review_points if request.type == "review" else bonuses.survey_points
    if not points:
        raise RuleViolation(f"the program gives no {request.type} bonus", code="bonus_not_offered")
    return grant(merchant_id, member_id, bonus=request.type, external_id=request.external_id, points=points, now=now)


# ---- referrals -------------------------------------------------------------------------------
def _referral_id(referred_member_id: str, transaction_id: str | None) -> str:
    return f"{referred_member_id}:{transaction_id}" if transaction_id else referred_member_id


def reward_referrer(
    merchant_id: str, referrer_id: str, referred_member_id: str, now: datetime, transaction_id: str | None = None
) -> BonusView | None:
    """The inviting member's bonus when the invited one made a qualifying purchase; nothing when
    that purchase was refunded first, or the referrer left the program."""
    points = programs.get(merchant_id).program.bonuses.referrer_points
    external_id = _referral_id(referred_member_id, transaction_id)
    key = operations.OperationKey.of(merchant_id, BONUS, "referral", external_id)
    if _reversed_before_grant(key):
        return None
    try:
        view, _ = grant(
            merchant_id,
            referrer_id,
            bonus="referral",
            external_id=external_id,
            points=points,
            now=now,
            details={"role": "referrer", "referred_id": referred_member_id, "transaction_id": transaction_id},
        )
    except NotFound:
        return None  # the referrer left the program meanwhile
    except Conflict as exc:
        if exc.code == "idempotency_conflict" and _reversed_before_grant(key):
            return None
        raise
    return view


def _reversed_before_grant(key: operations.OperationKey) -> bool:
    existing = operations.get(key)
    return existing is not None and bool(existing.state.get(REVERSED_BEFORE_GRANT))


class _Reversal(BaseModel):
    merchant_id: str
    referrer_id: str
    external_id: str


def reverse_referrer(
    merchant_id: str, referrer_id: str, referred_member_id: str, now: datetime, transaction_id: str | None = None
) -> int:
    """Take back the referrer's bonus of a purchase the invited member returned. If the bonus was
    not granted yet (events may arrive in any order), it never will be. Returns the points taken."""
    external_id = _referral_id(referred_member_id, transaction_id)
    grant_key = operations.OperationKey.of(merchant_id, BONUS, "referral", external_id)
    for _ in range(3):
        granted = operations.get(grant_key)
        if granted is None:
            tombstone = operations.Operation(
                grant_key, REVERSED_BEFORE_GRANT, now, state={REVERSED_BEFORE_GRANT: True}, member_id=referrer_id
            )
            tx = Transaction()
            operations.stage_create(tx, tombstone)
            try:
                tx.commit()
            except AlreadyExists:
                continue  # granted just now: take it back below
            return 0
        if granted.state.get(REVERSED_BEFORE_GRANT):
            return 0
        return _take_back(merchant_id, referrer_id, external_id, int(granted.state.get("points", 0)), now)
    raise Busy("the referral bonus is changing; retry")


def _take_back(merchant_id: str, referrer_id: str, external_id: str, points: int, now: datetime) -> int:
    if not points:
        return 0
    request = _Reversal(merchant_id=merchant_id, referrer_id=referrer_id, external_id=external_id)
    client = ClientRequest.of(request, merchant_id, "bonus-reversal", "referral", external_id)

    def decide(member: Member) -> Decision[BonusView]:
        change = reverse_bonus(
            member, bonus="referral", external_id=external_id, points=points, now=now, details={"role": "referrer"}
        )
        view = BonusView(member_id=referrer_id, bonus="referral", points=-points, balance=change.after.wallet.balance)
        return Decision(change, view, state={"points": points})

    try:
        apply_change(merchant_id, referrer_id, decide, BonusView, now, client=client)
    except NotFound:
        return 0
    return points


# ---- birthdays -----------------------------------------------------------------------------
def _local_today(member: Member, fallback_zone: str, now: datetime) -> Any:
    try:
        zone = ZoneInfo(member.timezone or fallback_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(fallback_zone)
    return now.astimezone(zone).date()


def celebrate(merchant_id: str, member_id: str, now: datetime) -> bool:
    """The birthday bonus (and greeting), once a year, on the member's birthday in their time zone."""
    try:
        program = programs.get(merchant_id).program
        member = members.get(merchant_id, member_id, consistent=False)
    except NotFound:
        return False
    if not member.is_active or member.birthday is None:
        return False
    local = _local_today(member, program.timezone, now)
    if (member.birthday.month, member.birthday.day) != (local.month, local.day):
        return False
    external_id = f"{member_id}:{local.year}"
    if operations.get(operations.OperationKey.of(merchant_id, BONUS, "birthday", external_id)) is not None:
        return False
    grant(
        merchant_id,
        member_id,
        bonus="birthday",
        external_id=external_id,
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
        for merchant_id, member_id in members.birthdays_on(day.strftime("%m-%d")):
            if time_left is not None and not time_left():
                return {"looked_at": looked_at, "celebrated": celebrated, "complete": 0}
            looked_at += 1
            celebrated += celebrate(merchant_id, member_id, now)
    return {"looked_at": looked_at, "celebrated": celebrated, "complete": 1}
