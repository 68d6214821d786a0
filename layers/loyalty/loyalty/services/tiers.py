"""The scheduled tier review (downgrades, grace periods, lapsed paid memberships) and selling paid
memberships. Upgrades happen in the purchase's own change (``domain.purchases``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel

from loyalty.api.tiers import MembershipRequest, MembershipView
from loyalty.data import operations
from loyalty.domain.member import Member
from loyalty.domain.membership import buy_membership as buy
from loyalty.domain.membership import review
from loyalty.domain.tiers import TierChange
from loyalty.errors import InvalidRequest, NotFound, RuleViolation
from loyalty.services.changes import Decision, Unchanged, apply_change
from loyalty.services.idempotency import ClientRequest
from loyalty.services.merchants import programs

REVIEW_LOOKBACK_DAYS = 31


class _Reviewed(BaseModel):
    old: str | None = None
    new: str | None = None
    reason: str | None = None


def review_member(merchant_id: str, member_id: str, now: datetime) -> TierChange | None:
    program = programs.get(merchant_id).program

    def decide(member: Member) -> Decision[_Reviewed]:
        reviewed = review(member, program, now)
        if reviewed.change is None:
            raise Unchanged(_Reviewed())
        tier_change = reviewed.tier_change
        if tier_change is None:
            return Decision(reviewed.change, _Reviewed())
        return Decision(reviewed.change, _Reviewed(old=tier_change.old, new=tier_change.new, reason=tier_change.reason))

    try:
        result, _ = apply_change(merchant_id, member_id, decide, _Reviewed, now)
    except NotFound:
        return None
    return TierChange(result.old, result.new, result.reason or "review") if result.new else None


def run_tier_review(
    now: datetime, *, lookback_days: int = REVIEW_LOOKBACK_DAYS, time_left: Callable[[], bool] | None = None
) -> dict[str, int]:
    """Review every member whose review, grace period or paid membership ends by ``now``.
    Reads only the tier queue of the last ``lookback_days`` days: no scan."""
    today = now.date()
    reviewed = changed = 0
    for back in range(lookback_days, -1, -1):
        day = today - timedelta(days=back)
        for shard in range(operations.TIER_SHARDS):
            for due in operations.tier_reviews_on(day, shard):
                if time_left is not None and not time_left():
                    return {"reviewed": reviewed, "changed": changed, "complete": 0}
                if review_member(due.merchant_id, due.member_id, now) is not None:
                    changed += 1
                reviewed += 1
                due.done()
    return {"reviewed": reviewed, "changed": changed, "complete": 1}


def buy_membership(
    merchant_id: str, member_id: str, request: MembershipRequest, now: datetime
) -> tuple[MembershipView, bool]:
    """A paid tier for a period; buying the same tier again while it runs extends it."""
    program = programs.get(merchant_id).program
    if program.tiers is None:
        raise RuleViolation("this program has no tiers", code="no_tiers")
    tiers = program.tiers
    if tiers.level(request.tier) is None:
        raise InvalidRequest(f"unknown tier {request.tier!r}", details={"field": "tier"})
    client = ClientRequest.of(request, merchant_id, "membership", request.membership_id)

    def decide(member: Member) -> Decision[MembershipView]:
        if not member.is_active:
            raise NotFound("member not found", code="member_not_found")
        bought = buy(member, tiers, request.tier, request.months, request.membership_id, request.payment_reference, now)
        view = MembershipView(
            membership_id=request.membership_id,
            member_id=member_id,
            tier=str(bought.change.after.tier.tier),
            paid_tier=request.tier,
            paid_until=bought.paid_until,
        )
        return Decision(bought.change, view, state={"member_id": member_id})

    return apply_change(merchant_id, member_id, decide, MembershipView, now, client=client)
