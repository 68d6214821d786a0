"""Tier benefits applied at accrual. Tier definitions live in the program (see domain.tiers)."""

from __future__ import annotations

from loyalty.data.models import MemberItem
from loyalty.domain.earning import TierBenefit
from loyalty.domain.program import Program


def tier_benefit(member: MemberItem, program: Program) -> TierBenefit | None:
    """The earn multiplier of the member's current tier, if the program defines tiers."""
    tiers = getattr(program, "tiers", None)
    if not tiers or member.tier is None:
        return None
    for tier in tiers.levels:
        if tier.name == member.tier:
            return TierBenefit(name=tier.name, earn_multiplier=tier.earn_multiplier)
    return None


def tier_discount_percent(member: MemberItem, program: Program) -> int:
    """The permanent discount of the member's tier (discount-card programs), 0 without tiers."""
    tiers = getattr(program, "tiers", None)
    if not tiers or member.tier is None:
        return 0
    return next((int(tier.discount_percent) for tier in tiers.levels if tier.name == member.tier), 0)
