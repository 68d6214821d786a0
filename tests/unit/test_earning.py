"""Earning rules: base rate, rounding, minimum check, categories, tiers, promotions, cashback."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from loyalty.domain.earning import Line, Purchase, TierBenefit, compute_earning, refund_clawback
from loyalty.domain.program import Mode, Program, Promotion, PromotionKind, Rounding

WEDNESDAY = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def earn(
    program: Program,
    amount: int,
    lines: tuple[Line, ...] = (),
    tier: TierBenefit | None = None,
    at: datetime = WEDNESDAY,
) -> tuple[int, dict[str, int], str | None]:
    result = compute_earning(program, Purchase(amount, at, lines), tier)
    return result.points, {a.rule: a.points for a in result.breakdown}, result.reason


def test_default_is_one_point_per_100_roubles_rounded_down() -> None:
    assert earn(Program(), 19_999) == (1, {"base": 1}, None)
    assert earn(Program(), 20_000)[0] == 2
    assert earn(Program(), 99)[0] == 0


@pytest.mark.parametrize(("rounding", "points"), [(Rounding.FLOOR, 2), (Rounding.HALF_UP, 3), (Rounding.CEIL, 3)])
def test_rounding(rounding: Rounding, points: int) -> None:
    assert earn(Program(rounding=rounding), 25_000)[0] == points


def test_minimum_check_earns_nothing_below_it() -> None:
    program = Program(min_check_kopecks=50_000)
    assert earn(program, 49_999) == (0, {}, "below_min_check")
    assert earn(program, 50_000)[0] == 5


def test_category_multipliers_and_exclusions_per_line() -> None:
    program = Program(category_multipliers={"coffee": Decimal(2)}, excluded_categories=["tobacco"])
    lines = (Line(30_000, "coffee"), Line(20_000, "pastry"), Line(50_000, "tobacco"))
    points, breakdown, _ = earn(program, 100_000, lines)
    assert points == 8  # coffee 3 x2 = 6, pastry 2, tobacco nothing
    assert breakdown == {"base": 5, "category:coffee": 3}


def test_reward_lines_never_earn() -> None:
    points, _, _ = earn(Program(), 30_000, (Line(20_000, "coffee"), Line(10_000, "coffee", reward=True)))
    assert points == 2


def test_tier_multiplier_adds_to_the_base() -> None:
    points, breakdown, _ = earn(Program(), 100_000, tier=TierBenefit("gold", Decimal("1.5")))
    assert (points, breakdown) == (15, {"base": 10, "tier:gold": 5})


def test_promotions_by_window_weekday_and_category() -> None:
    promo = Promotion(
        id="wed-coffee",
        name="Coffee Wednesday",
        kind=PromotionKind.MULTIPLIER,
        multiplier=Decimal(3),
        starts_at=datetime(2026, 11, 1, tzinfo=UTC),
        ends_at=datetime(2026, 12, 1, tzinfo=UTC),
        weekdays=[3],
        categories=["coffee"],
    )
    bonus = Promotion(
        id="welcome-week",
        name="Bonus",
        kind=PromotionKind.FIXED_BONUS,
        bonus_points=50,
        starts_at=datetime(2026, 11, 20, tzinfo=UTC),
        ends_at=datetime(2026, 11, 27, tzinfo=UTC),
        min_check_kopecks=10_000,
    )
    program = Program(promotions=[promo, bonus])
    lines = (Line(10_000, "coffee"), Line(10_000, "tea"))
    assert earn(program, 20_000, lines)[1] == {
        "base": 2,
        "promotion:wed-coffee": 2,
        "promotion:welcome-week": 50,
    }
    thursday = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert earn(program, 20_000, lines, at=thursday)[1] == {"base": 2, "promotion:welcome-week": 50}
    december = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert earn(program, 20_000, lines, at=december)[1] == {"base": 2}


def test_breakdown_always_adds_up_to_the_rounded_total() -> None:
    program = Program(category_multipliers={"a": Decimal("1.7"), "b": Decimal("2.3")}, rounding=Rounding.HALF_UP)
    for amount in range(1_000, 60_000, 777):
        lines = (Line(amount, "a"), Line(amount // 2, "b"))
        result = compute_earning(program, Purchase(amount + amount // 2, WEDNESDAY, lines))
        assert sum(a.points for a in result.breakdown) == result.points


def test_cashback_earns_kopecks_and_discount_mode_earns_nothing() -> None:
    assert earn(Program(mode=Mode.CASHBACK, cashback_percent=Decimal(5)), 100_000)[0] == 5_000
    assert earn(Program(mode=Mode.DISCOUNT, discount_percent=10), 100_000) == (0, {}, "discount_program")


def test_refund_clawback_is_proportional_and_exact_in_total() -> None:
    assert refund_clawback(10, 100_000, 0, 15_000) == 1
    assert refund_clawback(10, 100_000, 15_000, 85_000) == 9
    parts = [refund_clawback(7, 999, done, 111) for done in range(0, 999, 111)]
    assert sum(parts) == 7


def test_program_validation_rejects_contradictions() -> None:
    with pytest.raises(ValueError, match="both excluded and multiplied"):
        Program(category_multipliers={"x": Decimal(2)}, excluded_categories=["x"])
    with pytest.raises(ValueError, match="cashback"):
        Program(mode=Mode.CASHBACK)
    with pytest.raises(ValueError, match="timezone"):
        Program(timezone="Mars/Olympus")
