"""The KPI domain: months in the program's time zone, what a purchase or refund changes, where an
entry's points go, and the figures a report derives from monthly counters."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from loyalty.domain import kpis
from loyalty.domain.kpis import Prices, Visit, member_visit
from loyalty.domain.ledger import EntryKind, LedgerEntry


def test_months_are_the_program_time_zone_calendar_months() -> None:
    late_evening_utc = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)
    assert kpis.month_of(late_evening_utc, "Europe/Moscow") == "2026-04"
    assert kpis.month_of(late_evening_utc, "UTC") == "2026-03"
    assert kpis.month_of(late_evening_utc, "America/New_York") == "2026-03"
    assert kpis.shift("2026-01", -1) == "2025-12" and kpis.shift("2025-12", 13) == "2027-01"
    assert kpis.months_from("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_the_first_live_purchase_of_a_month_makes_the_member_active_and_retained_both_ways() -> None:
    live = {"2026-02": 1, "2026-04": 2}
    after, visit = member_visit(live, month="2026-03", cohort="2026-01", purchases=1, kopecks=5_000)
    assert after == {"2026-02": 1, "2026-03": 1, "2026-04": 2}
    assert (visit.active, visit.retained, visit.retained_next) == (1, 1, 1)
    again, second = member_visit(after, month="2026-03", cohort="2026-01", purchases=1, kopecks=7_000)
    assert again["2026-03"] == 2 and (second.active, second.retained, second.retained_next) == (0, 0, 0)


def test_a_partial_refund_keeps_the_visit_and_the_full_refund_of_the_last_purchase_undoes_it() -> None:
    live = {"2026-02": 1, "2026-03": 1}
    same, partial = member_visit(live, month="2026-03", cohort="2026-01", purchases=0, kopecks=-1_000)
    assert same == live and (partial.purchases, partial.active, partial.kopecks) == (0, 0, -1_000)
    gone, full = member_visit(live, month="2026-03", cohort="2026-01", purchases=-1, kopecks=-4_000)
    assert gone == {"2026-02": 1}
    assert (full.purchases, full.active, full.retained, full.retained_next) == (-1, -1, -1, 0)


def test_a_member_keeps_three_years_of_monthly_activity() -> None:
    live = {kpis.shift("2020-01", n): 1 for n in range(60)}
    after, _visit = member_visit(live, month="2024-12", cohort="2020-01", purchases=1, kopecks=1)
    assert min(after) == "2021-12" and len(after) == 37


def test_visits_round_trip_through_entry_details() -> None:
    visit = Visit("2026-03", purchases=-1, kopecks=-500, cohort="2026-01", active=-1, retained=-1)
    assert Visit.from_details(visit.to_details()) == visit
    anonymous = Visit("2026-03", purchases=1, kopecks=500)
    assert Visit.from_details(anonymous.to_details()) == anonymous
    assert Visit.from_details(None) is None and Visit.from_details({"purchases": 1}) is None


def test_visit_counters_go_to_the_purchase_month_its_cohort_and_the_next_month() -> None:
    visit = Visit("2026-03", purchases=1, kopecks=500, cohort="2026-01", active=1, retained=1, retained_next=1)
    assert kpis.visit_counters(visit) == {
        "2026-03": {
            "purchases_members": 1,
            "revenue_members_kopecks": 500,
            "members_active": 1,
            "members_retained": 1,
            "cohort_2026-01": 1,
        },
        "2026-04": {"members_retained": 1},
    }
    old_cohort = Visit("2026-03", purchases=1, kopecks=1, cohort="2024-01", active=1)
    assert "cohort_2024-01" not in kpis.visit_counters(old_cohort)["2026-03"]  # followed 12 months only
    assert kpis.visit_counters(Visit("2026-03", purchases=1, kopecks=9)) == {
        "2026-03": {"purchases_anonymous": 1, "revenue_anonymous_kopecks": 9}
    }


def _entry(kind: EntryKind, points: int, **details: object) -> LedgerEntry:
    moment = datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # April in Moscow
    return LedgerEntry("le_1", "mch_1", "mbr_1", 1, 0, kind, points, points, "op", moment, details=details)


@given(kind=st.sampled_from(list(EntryKind)), points=st.integers(-10_000, 10_000))
def test_every_entry_kind_is_classified_so_outstanding_equals_the_sum_of_entries(kind: EntryKind, points: int) -> None:
    counters = kpis.points_counters(kind, points)
    moved = (
        counters.get("points_issued", 0)
        - counters.get("points_redeemed", 0)
        - counters.get("points_expired", 0)
        - counters.get("points_clawed_back", 0)
    )
    assert moved == points


def test_entries_count_points_where_they_belong_in_the_month_they_were_written() -> None:
    assert kpis.entry_counters(_entry(EntryKind.ENROLLED, 50), "Europe/Moscow") == {
        "2026-04": {"members_new": 1, "points_issued": 50}
    }
    assert kpis.entry_counters(_entry(EntryKind.REDEEM_REVERSAL, 20), "UTC") == {"2026-03": {"points_redeemed": -20}}
    assert kpis.entry_counters(_entry(EntryKind.EXPIRE, -7), "UTC") == {"2026-03": {"points_expired": 7}}
    assert kpis.entry_counters(_entry(EntryKind.ADJUSTMENT, -3), "UTC") == {"2026-03": {"points_clawed_back": 3}}
    assert kpis.entry_counters(_entry(EntryKind.ERASED, 0), "UTC") == {"2026-03": {"members_erased": 1}}
    visit = Visit("2026-02", purchases=1, kopecks=300, cohort="2026-02", active=1)
    earned = kpis.entry_counters(_entry(EntryKind.EARN, 3, kpi=visit.to_details()), "UTC")
    assert earned["2026-03"] == {"points_issued": 3}  # issued when accrued
    assert earned["2026-02"]["purchases_members"] == 1  # counted in the month it happened


PRICES = Prices(unit_value_kopecks=100, monthly_fee_kopecks=1_000, sms_kopecks=300, push_kopecks=1, email_kopecks=2)


def test_figures_follow_the_definitions() -> None:
    counters = {
        "2026-01": {"members_new": 10, "members_active": 6, "points_issued": 100},
        "2026-02": {
            "members_new": 5,
            "members_erased": 1,
            "members_active": 7,
            "members_retained": 4,
            "purchases_members": 14,
            "revenue_members_kopecks": 1_330_000,
            "purchases_anonymous": 21,
            "revenue_anonymous_kopecks": 1_575_000,
            "points_issued": 133,
            "points_redeemed": 40,
            "points_expired": 3,
            "points_clawed_back": 2,
            "messages_sms": 10,
            "messages_push": 7,
            "messages_email": 1,
        },
    }
    [february], _cohorts = kpis.report(counters, "2026-02", "2026-02", lambda _month: PRICES)
    assert (february.members_total, february.members_new, february.members_active) == (14, 5, 7)
    assert (february.aov_members_kopecks, february.aov_anonymous_kopecks) == (95_000, 75_000)
    assert february.aov_all_kopecks == 2_905_000 // 35
    assert february.purchase_frequency == 2.0
    assert (february.retention_rate, february.churn_rate) == (0.666667, 0.333333)
    assert february.engagement_rate == 0.4
    assert (february.points_outstanding, february.liability_kopecks) == (188, 18_800)
    cost = 40 * 100 + 10 * 300 + 7 * 1 + 1 * 2 + 1_000
    assert february.program_cost_kopecks == cost
    assert february.incremental_revenue_kopecks == (95_000 - 75_000) * 14
    assert february.roi == float(round(Fraction(280_000 - cost, cost), 6))
    # CLV from unrounded inputs: 95 000 x 2 / (1/3), rounded down at the end
    assert february.clv_kopecks == 570_000


def test_nothing_to_divide_by_is_null_and_money_rounds_down() -> None:
    counters = {"2026-03": {"purchases_members": 3, "revenue_members_kopecks": 100, "members_active": 2}}
    [march], _ = kpis.report(counters, "2026-03", "2026-03", lambda _month: Prices(unit_value_kopecks=1))
    assert march.aov_members_kopecks == 33 and march.aov_anonymous_kopecks is None
    assert march.incremental_revenue_kopecks is None and march.roi is None  # no baseline, no cost
    assert march.retention_rate is None and march.churn_rate is None and march.clv_kopecks is None
    assert march.purchase_frequency == 1.5
    negative = {"2026-03": {"purchases_members": 3, "revenue_members_kopecks": 100, "purchases_anonymous": 1,
                            "revenue_anonymous_kopecks": 50, "members_active": 1}}  # fmt: skip
    [worse], _ = kpis.report(negative, "2026-03", "2026-03", lambda _month: Prices(unit_value_kopecks=1))
    assert worse.incremental_revenue_kopecks == -50  # (33.33 - 50) x 3 = -50 exactly


def test_running_totals_start_at_the_first_counted_month_and_carry_across_empty_ones() -> None:
    counters = {"2025-06": {"members_new": 2, "points_issued": 10}, "2025-09": {"members_new": 1}}
    months, cohorts = kpis.report(counters, "2025-05", "2025-10", lambda _month: PRICES)
    assert [m.members_total for m in months] == [0, 2, 2, 2, 3, 3]
    assert [m.points_outstanding for m in months] == [0, 10, 10, 10, 10, 10]
    assert [c.month for c in cohorts] == [m.month for m in months]


def test_cohorts_follow_their_members_for_twelve_months_up_to_the_last_month() -> None:
    counters = {
        "2025-01": {"members_new": 4, "cohort_2025-01": 4},
        "2025-02": {"cohort_2025-01": 2},
        "2026-01": {"cohort_2025-01": 1},
        "2026-02": {"cohort_2025-01": 1},  # month 13: not followed
    }
    [row] = kpis.report(counters, "2025-01", "2025-01", lambda _month: PRICES)[1]
    assert (row.month, row.members, row.active) == ("2025-01", 4, [1.0])
    rows = kpis.report(counters, "2025-01", "2026-03", lambda _month: PRICES)[1]
    assert rows[0].active == [1.0, 0.5, *[0.0] * 10, 0.25]
    assert rows[1].members == 0 and rows[1].active[0] is None


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (None, None, ("2025-10", "2026-03")),
        ("2025-01", None, ("2025-01", "2025-06")),
        ("2026-02", None, ("2026-02", "2026-03")),
        (None, "2025-12", ("2025-07", "2025-12")),
    ],
)
def test_default_range_is_the_last_six_months(first: str | None, last: str | None, expected: tuple[str, str]) -> None:
    assert kpis.default_range("2026-03", first, last) == expected


def test_range_problems_are_named() -> None:
    assert kpis.range_problem("2026-03", "2024-04", "2026-03") is None
    assert "at most 24" in str(kpis.range_problem("2026-03", "2024-03", "2026-03"))
    assert "after" in str(kpis.range_problem("2026-03", "2026-02", "2026-01"))
    assert "current month" in str(kpis.range_problem("2026-03", "2026-03", "2026-04"))


def test_each_month_is_priced_with_what_took_effect_by_its_end() -> None:
    history = {
        "2025-05": {"unit_value_kopecks": 100, "monthly_fee_kopecks": 0, "sms_kopecks": 0},
        "2025-06": {"unit_value_kopecks": 100, "monthly_fee_kopecks": 150_000, "sms_kopecks": 350},
        "2025-09": {"unit_value_kopecks": 50, "monthly_fee_kopecks": 150_000, "sms_kopecks": 400, "later": 1},
    }
    prices = kpis.prices_in_force(history, PRICES)
    assert prices("2025-04") == Prices(unit_value_kopecks=100)  # before the merchant: nothing to pay
    assert prices("2025-05").monthly_fee_kopecks == 0
    assert (prices("2025-08").monthly_fee_kopecks, prices("2025-08").sms_kopecks) == (150_000, 350)
    assert (prices("2026-01").unit_value_kopecks, prices("2026-01").sms_kopecks) == (50, 400)
    assert kpis.prices_in_force({}, PRICES)("2020-01") == PRICES  # no history kept: today's prices
    counters = {"2025-08": {"points_redeemed": 10, "points_issued": 10}, "2025-09": {"points_redeemed": 10}}
    august, september = kpis.report(counters, "2025-08", "2025-09", prices)[0]
    assert (august.program_cost_kopecks, september.program_cost_kopecks) == (10 * 100 + 150_000, 10 * 50 + 150_000)
    assert september.liability_kopecks == -10 * 50
