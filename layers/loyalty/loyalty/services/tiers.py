"""Tiers on members: benefits at accrual, upgrades in the same write as the purchase that earns
them, the scheduled review (downgrades, grace, lapsed paid memberships), and paid memberships."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from pydantic import BaseModel

from loyalty.api.tiers import MembershipRequest, MembershipView
from loyalty.clock import add_months
from loyalty.data.models import MemberItem, TierQueueItem, as_plain_map
from loyalty.data.unit_of_work import MemberWrite
from loyalty.domain.earning import TierBenefit
from loyalty.domain.program import Program, TierMeasure, Tiers
from loyalty.domain.tiers import TierChange, TierState, add_to_month, on_activity, on_review, window_total
from loyalty.errors import InvalidRequest, NotFound, RuleViolation
from loyalty.services.ledger import Draft, apply_change, operation_pk, operation_record, request_hash, shard_of
from loyalty.services.merchants import programs

TIER_SHARDS = 8
REVIEW_LOOKBACK_DAYS = 31
KEEP_MONTHS = 37  # the longest window a program may use, plus one


def tier_benefit(member: MemberItem, program: Program) -> TierBenefit | None:
    """The earn multiplier of the member's current tier, if the program defines tiers."""
    level = program.tiers.level(member.tier) if program.tiers else None
    return TierBenefit(name=level.name, earn_multiplier=level.earn_multiplier) if level else None


def tier_discount_percent(member: MemberItem, program: Program) -> int:
    """The permanent discount of the member's tier (discount-card programs), 0 without tiers."""
    level = program.tiers.level(member.tier) if program.tiers else None
    return int(level.discount_percent) if level else 0


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def state_of(member: MemberItem) -> TierState:
    return TierState(
        tier=member.tier,
        review_on=_day(member.tier_review_on),
        grace_until=_day(member.grace_until),
        paid_tier=member.paid_tier,
        paid_until=_day(member.paid_until),
    )


def qualifying_total(member: MemberItem, tiers: Tiers, today: date) -> int:
    source = member.spend_by_month if tiers.measure is TierMeasure.SPEND else member.earned_by_month
    by_month = {month: int(value) for month, value in as_plain_map(source).items()}
    return window_total(by_month, today, tiers.window_months)


def record_activity(
    member: MemberItem, *, spend_on: date | None = None, spend: int = 0, earned_on: date | None = None, earned: int = 0
) -> None:
    """Count spend (at the purchase's date) and points earned towards tier windows."""
    if spend and spend_on is not None:
        member.spend_by_month = add_to_month(as_plain_map(member.spend_by_month), spend_on, spend, KEEP_MONTHS)
    if earned and earned_on is not None:
        member.earned_by_month = add_to_month(as_plain_map(member.earned_by_month), earned_on, earned, KEEP_MONTHS)


def tier_queue_item(member_key: str, due: date) -> TierQueueItem:
    return TierQueueItem(f"TIERQ#{due.isoformat()}#{shard_of(member_key, TIER_SHARDS):02d}", member_key)


def _apply(
    draft: Draft,
    old: TierState,
    new: TierState,
    change: TierChange | None,
    operation: str,
    extra: dict[str, object] | None = None,
) -> None:
    member = draft.member
    member.tier = new.tier
    member.tier_review_on = new.review_on.isoformat() if new.review_on else None
    member.grace_until = new.grace_until.isoformat() if new.grace_until else None
    member.paid_tier, member.paid_until = new.paid_tier, new.paid_until.isoformat() if new.paid_until else None
    if change is not None:
        draft.entry(
            kind="tier",
            points=0,
            operation=operation,
            details={"old_tier": change.old, "new_tier": change.new, "reason": change.reason, **(extra or {})},
        )
    due = new.next_due()
    if due is not None and due != old.next_due():
        draft.puts.append(tier_queue_item(member.pk, due))


def upgrade_if_qualified(draft: Draft, program: Program, operation: str) -> TierChange | None:
    """Inside a purchase's (or membership's) write: move up at once if the member now qualifies."""
    if program.tiers is None:
        return None
    old = state_of(draft.member)
    new, change = on_activity(
        program.tiers, old, qualifying_total(draft.member, program.tiers, draft.today), draft.today
    )
    if change is not None or new != old:
        _apply(draft, old, new, change, operation)
    return change


# ---- the scheduled review ------------------------------------------------------------------
def review_member(merchant_id: str, member_id: str, now: datetime) -> TierChange | None:
    program = programs.get(merchant_id).program
    if program.tiers is None:
        return None
    tiers = program.tiers

    def build(member: MemberItem) -> tuple[MemberWrite, _Reviewed]:
        draft = Draft(member, now)
        old = state_of(member)
        if not old.is_due(draft.today):
            raise _NotDue
        new, change = on_review(tiers, old, qualifying_total(member, tiers, draft.today), draft.today)
        _apply(draft, old, new, change, f"tier-review:{draft.today.isoformat()}")
        return draft.finish(), _Reviewed(
            old=change.old if change else None,
            new=change.new if change else None,
            reason=change.reason if change else None,
        )

    try:
        result, _ = apply_change(merchant_id, member_id, build, _Reviewed)
    except (_NotDue, NotFound):
        return None
    return TierChange(result.old, result.new, result.reason or "review") if result.new else None


class _NotDue(Exception):
    pass


class _Reviewed(BaseModel):
    old: str | None = None
    new: str | None = None
    reason: str | None = None


def run_tier_review(
    now: datetime, *, lookback_days: int = REVIEW_LOOKBACK_DAYS, time_left: Callable[[], bool] | None = None
) -> dict[str, int]:
    """Review every member whose review, grace period or paid membership ends by ``now``.
    Reads only the tier queue of the last ``lookback_days`` days: no scan."""
    today = now.date()
    reviewed = changed = 0
    for back in range(lookback_days, -1, -1):
        day = (today - timedelta(days=back)).isoformat()
        for shard in range(TIER_SHARDS):
            for item in TierQueueItem.query(f"TIERQ#{day}#{shard:02d}"):
                if time_left is not None and not time_left():
                    return {"reviewed": reviewed, "changed": changed, "complete": 0}
                merchant_id, _, member_id = str(item.sk).partition("#")
                if review_member(merchant_id, member_id, now) is not None:
                    changed += 1
                reviewed += 1
                item.delete()
    return {"reviewed": reviewed, "changed": changed, "complete": 1}


# ---- paid membership -----------------------------------------------------------------------
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
    op_pk = operation_pk(merchant_id, "membership", request.membership_id)
    digest = request_hash(request)

    def build(member: MemberItem) -> tuple[MemberWrite, MembershipView]:
        draft = Draft(member, now)
        old = state_of(member)
        running = old.paid_tier == request.tier and old.paid_until is not None and old.paid_until >= draft.today
        start = old.paid_until + timedelta(days=1) if running and old.paid_until else draft.today
        paid_until = add_months(start, request.months) - timedelta(days=1)
        with_payment = TierState(old.tier, old.review_on, old.grace_until, request.tier, paid_until)
        new, change = on_activity(tiers, with_payment, qualifying_total(member, tiers, draft.today), draft.today)
        _apply(
            draft,
            old,
            new,
            change,
            f"membership:{request.membership_id}",
            {"paid_until": paid_until.isoformat(), "payment_reference": request.payment_reference},
        )
        if change is None:
            draft.entry(
                kind="membership",
                points=0,
                operation=f"membership:{request.membership_id}",
                details={
                    "tier": request.tier,
                    "paid_until": paid_until.isoformat(),
                    "payment_reference": request.payment_reference,
                },
            )
        view = MembershipView(
            membership_id=request.membership_id,
            member_id=member_id,
            tier=str(member.tier),
            paid_tier=request.tier,
            paid_until=paid_until,
        )
        operation = operation_record(op_pk, "membership", member, digest, now, view, {"member_id": member_id})
        return draft.finish(new_operation=operation), view

    return apply_change(merchant_id, member_id, build, MembershipView, operation=(op_pk, digest))
