"""How many points a purchase earns under a program, with a per-rule breakdown.

Rules stack additively on the base: a x2 category and a x1.5 tier add 100 % and 50 % of the base.
The total is rounded once, by the program's rounding, and the rounded total is split over the
rules by largest remainder so that the breakdown always sums to the points awarded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from loyalty.domain.program import Mode, Program, Promotion, PromotionKind, Rounding

_ROUNDING = {Rounding.FLOOR: ROUND_FLOOR, Rounding.HALF_UP: ROUND_HALF_UP, Rounding.CEIL: ROUND_CEILING}
ONE = Decimal(1)


@dataclass(frozen=True)
class Line:
    amount_kopecks: int
    category: str | None = None
    reward: bool = False  # paid with points or a coupon: never earns
    quantity: int = 1


@dataclass(frozen=True)
class Purchase:
    amount_kopecks: int
    occurred_at: datetime
    lines: tuple[Line, ...] = ()

    def effective_lines(self) -> tuple[Line, ...]:
        return self.lines or (Line(amount_kopecks=self.amount_kopecks),)


@dataclass(frozen=True)
class TierBenefit:
    name: str
    earn_multiplier: Decimal = ONE


@dataclass(frozen=True)
class RuleAward:
    rule: str
    points: int


@dataclass(frozen=True)
class Earning:
    points: int
    eligible_kopecks: int
    breakdown: tuple[RuleAward, ...] = ()
    reason: str | None = None  # why nothing was earned, when nothing was


@dataclass
class _Contributions:
    values: dict[str, Decimal] = field(default_factory=dict)

    def add(self, rule: str, value: Decimal) -> None:
        if value:
            self.values[rule] = self.values.get(rule, Decimal(0)) + value


def _base_rate(program: Program) -> Decimal:
    """Units earned per kopeck paid."""
    if program.mode is Mode.CASHBACK:
        return program.cashback_percent / Decimal(100)
    return Decimal(program.earn_rate.points) / Decimal(program.earn_rate.per_roubles * 100)


def _promotion_applies(promotion: Promotion, purchase: Purchase, local_weekday: int) -> bool:
    if not promotion.starts_at <= purchase.occurred_at < promotion.ends_at:
        return False
    if promotion.weekdays and local_weekday not in promotion.weekdays:
        return False
    return purchase.amount_kopecks >= promotion.min_check_kopecks


def _matches(promotion: Promotion, line: Line) -> bool:
    return promotion.categories is None or (line.category is not None and line.category in promotion.categories)


def compute_earning(program: Program, purchase: Purchase, tier: TierBenefit | None = None) -> Earning:
    if program.mode is Mode.DISCOUNT:
        return Earning(points=0, eligible_kopecks=0, reason="discount_program")
    lines = [
        line
        for line in purchase.effective_lines()
        if not line.reward and line.category not in program.excluded_categories
    ]
    eligible = sum(line.amount_kopecks for line in lines)
    if purchase.amount_kopecks < program.min_check_kopecks:
        return Earning(points=0, eligible_kopecks=eligible, reason="below_min_check")
    if eligible == 0:
        return Earning(points=0, eligible_kopecks=0, reason="no_eligible_lines")

    weekday = purchase.occurred_at.astimezone(ZoneInfo(program.timezone)).isoweekday()
    active = [p for p in program.promotions if _promotion_applies(p, purchase, weekday)]
    contributions = _Contributions()
    for line in lines:
        _line_contributions(contributions, program, line, tier, active)
    for promotion in active:
        is_bonus = promotion.kind is PromotionKind.FIXED_BONUS and promotion.bonus_points is not None
        if is_bonus and any(_matches(promotion, line) for line in lines):
            contributions.add(f"promotion:{promotion.id}", Decimal(promotion.bonus_points or 0))

    exact_total = sum(contributions.values.values(), Decimal(0))
    total = max(int(exact_total.to_integral_value(rounding=_ROUNDING[program.rounding])), 0)
    return Earning(points=total, eligible_kopecks=eligible, breakdown=_split(contributions.values, total))


def _line_contributions(
    contributions: _Contributions, program: Program, line: Line, tier: TierBenefit | None, active: list[Promotion]
) -> None:
    """What one purchase line adds: the base, and each multiplier's share above the base."""
    base = Decimal(line.amount_kopecks) * _base_rate(program)
    contributions.add("base", base)
    if line.category in program.category_multipliers:
        contributions.add(f"category:{line.category}", base * (program.category_multipliers[line.category] - ONE))
    if tier is not None and tier.earn_multiplier != ONE:
        contributions.add(f"tier:{tier.name}", base * (tier.earn_multiplier - ONE))
    for promotion in active:
        multiplier = promotion.multiplier
        if promotion.kind is PromotionKind.MULTIPLIER and multiplier is not None and _matches(promotion, line):
            contributions.add(f"promotion:{promotion.id}", base * (multiplier - ONE))


def _split(values: dict[str, Decimal], total: int) -> tuple[RuleAward, ...]:
    """Integer shares of ``total`` per rule, proportional to the exact values (largest remainder)."""
    if total == 0:
        return ()
    floors = {rule: int(value.to_integral_value(rounding=ROUND_FLOOR)) for rule, value in values.items()}
    shortfall = total - sum(floors.values())
    by_remainder = sorted(values, key=lambda rule: values[rule] - floors[rule], reverse=True)
    for rule in by_remainder[: max(shortfall, 0)]:
        floors[rule] += 1
    if shortfall < 0:  # negative rules (multipliers below 1) pulled the sum under the floors
        for rule in sorted(floors, key=lambda r: floors[r], reverse=True):
            take = min(floors[rule], -shortfall)
            floors[rule] -= take
            shortfall += take
            if shortfall == 0:
                break
    return tuple(RuleAward(rule, points) for rule, points in floors.items() if points)


def refund_clawback(points_earned: int, purchase_kopecks: int, refunded_before: int, refunded_now: int) -> int:
    """Points to take back for a refund: proportional to the refunded share of the purchase,
    computed on the running total so that refunding everything takes back exactly everything."""
    if purchase_kopecks <= 0:
        return 0
    before = points_earned * refunded_before // purchase_kopecks
    after = points_earned * (refunded_before + refunded_now) // purchase_kopecks
    return after - before
