"""A member's tier: what it gives (earn multiplier, discount), what counts towards it, the upgrade
in the same change as the purchase that earns it, the scheduled review, and paid memberships."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from loyalty.clock import add_months
from loyalty.domain.earning import TierBenefit
from loyalty.domain.ledger import EntryKind
from loyalty.domain.member import Activity, Draft, Member, MemberChange
from loyalty.domain.program import Program, TierMeasure, Tiers
from loyalty.domain.tiers import KEEP_MONTHS, TierChange, TierState, add_to_month, on_activity, on_review, window_total


def tier_benefit(member: Member, program: Program) -> TierBenefit | None:
    """The earn multiplier of the member's tier, if the program has tiers."""
    return level_benefit(program, member.tier.tier)


def level_benefit(program: Program, tier: str | None) -> TierBenefit | None:
    """The earn multiplier of the tier called ``tier``; None without tiers or without that tier."""
    level = program.tiers.level(tier) if program.tiers and tier else None
    return TierBenefit(name=level.name, earn_multiplier=level.earn_multiplier) if level else None


def tier_discount_percent(member: Member, program: Program) -> int:
    """The permanent discount of the member's tier; 0 without tiers."""
    level = program.tiers.level(member.tier.tier) if program.tiers else None
    return int(level.discount_percent) if level else 0


def qualifying_total(member: Member, tiers: Tiers, today: date) -> int:
    activity = member.activity
    by_month = activity.spend_by_month if tiers.measure is TierMeasure.SPEND else activity.earned_by_month
    return window_total(by_month, today, tiers.window_months)


def with_activity(
    activity: Activity, *, spend_on: date | None = None, spend: int = 0, earned_on: date | None = None, earned: int = 0
) -> Activity:
    """Count spend (in the purchase's month) and points earned towards tier windows."""
    spend_by_month, earned_by_month = activity.spend_by_month, activity.earned_by_month
    if spend and spend_on is not None:
        spend_by_month = add_to_month(spend_by_month, spend_on, spend, KEEP_MONTHS)
    if earned and earned_on is not None:
        earned_by_month = add_to_month(earned_by_month, earned_on, earned, KEEP_MONTHS)
    return replace(activity, spend_by_month=spend_by_month, earned_by_month=earned_by_month)


def set_tier(draft: Draft, state: TierState, change: TierChange | None, operation: str, **details: object) -> None:
    draft.update(tier=state)
    if change is not None:
        draft.entry(
            EntryKind.TIER,
            0,
            operation,
            details={"old_tier": change.old, "new_tier": change.new, "reason": change.reason, **details},
        )


def upgrade_if_qualified(draft: Draft, program: Program, operation: str) -> TierChange | None:
    """Within a purchase's (or a membership's) change: move up at once if the member qualifies."""
    if program.tiers is None:
        return None
    old = draft.member.tier
    new, change = on_activity(
        program.tiers, old, qualifying_total(draft.member, program.tiers, draft.today), draft.today
    )
    if new != old:
        set_tier(draft, new, change, operation)
    return change


@dataclass(frozen=True)
class Reviewed:
    change: MemberChange | None  # None: nothing was due (a stale reminder)
    tier_change: TierChange | None


def review(member: Member, program: Program, now: datetime) -> Reviewed:
    """The scheduled review: confirm the tier, start a grace period, downgrade, or end a paid tier."""
    if program.tiers is None or not member.tier.is_due(now.date()):
        return Reviewed(None, None)
    draft = Draft(member, now)
    old = member.tier
    new, change = on_review(program.tiers, old, qualifying_total(member, program.tiers, draft.today), draft.today)
    set_tier(draft, new, change, f"tier-review:{draft.today.isoformat()}")
    return Reviewed(draft.finish(), change)


@dataclass(frozen=True)
class Membership:
    change: MemberChange
    paid_until: date


def buy_membership(
    member: Member, tiers: Tiers, tier: str, months: int, membership_id: str, payment_reference: str, now: datetime
) -> Membership:
    """A paid tier for ``months``; buying the same tier again while it runs extends it."""
    draft = Draft(member, now)
    old = member.tier
    running = old.paid_tier == tier and old.paid_until is not None and old.paid_until >= draft.today
    start = old.paid_until + timedelta(days=1) if running and old.paid_until else draft.today
    paid_until = add_months(start, months) - timedelta(days=1)
    with_payment = replace(old, paid_tier=tier, paid_until=paid_until)
    new, change = on_activity(tiers, with_payment, qualifying_total(member, tiers, draft.today), draft.today)
    operation = f"membership:{membership_id}"
    details = {"paid_until": paid_until.isoformat(), "payment_reference": payment_reference}
    set_tier(draft, new, change, operation, **details)
    if change is None:
        draft.entry(EntryKind.MEMBERSHIP, 0, operation, details={"tier": tier, **details})
    return Membership(draft.finish(), paid_until)
