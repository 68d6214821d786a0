"""Whether the program pays: the monthly KPIs of a merchant, from facts that are exact at the source.

Months are calendar months in the program's time zone ("2026-03"). Three kinds of facts feed a
month's counters, each counted once (the data layer guards every fact with a marker):

- a member's purchase or refund carries a ``Visit``: what it changed in the month of the
  purchase. It is decided with the member's own record of live purchases per month
  (``Activity.purchases_by_month``), in the same write as the purchase, so "became active in M",
  "was active in M-1" and "is active in M+1" are facts, not guesses made later;
- an anonymous sale (no member) carries a ``Visit`` without a member;
- every ledger entry moves points (issued, redeemed, expired, clawed back) in the month it was
  written, and enrolments and erasures move the member count.

A report reads the counters of every month up to its last one (one query, whatever the number of
members) and derives each figure (``report``): ratios to 6 decimals, money rounded down to the
kopeck, ``None`` where a denominator is 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from loyalty.domain.ledger import EntryKind, LedgerEntry

Month = str  # "YYYY-MM"
Counters = dict[str, int]
MonthCounters = dict[Month, Counters]

COHORT_MONTHS = 12  # a cohort is followed in its enrolment month and the 12 after it
KEEP_ACTIVITY_MONTHS = 36  # how far back a member's live purchases per month are kept
RATIO_DECIMALS = 6
MAX_REPORT_MONTHS = 24
DEFAULT_REPORT_MONTHS = 6


# ---- months --------------------------------------------------------------------------------------
def month_of(moment: datetime, zone: str) -> Month:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m")


def month_index(month: Month) -> int:
    year, number = month.split("-")
    return int(year) * 12 + int(number) - 1


def month_at(index: int) -> Month:
    year, rest = divmod(index, 12)
    return f"{year:04d}-{rest + 1:02d}"


def shift(month: Month, months: int) -> Month:
    return month_at(month_index(month) + months)


def months_from(first: Month, last: Month) -> list[Month]:
    return [month_at(index) for index in range(month_index(first), month_index(last) + 1)]


# ---- what a purchase or a refund changed ---------------------------------------------------------
@dataclass(frozen=True)
class Visit:
    """What one purchase or refund changed in the month of the purchase.

    ``purchases`` is +1 for a purchase and -1 for the refund that refunds it fully (a partly
    refunded purchase still counts); ``kopecks`` is the revenue it adds or takes back. For a
    member, ``active`` is +1 when it is the member's first live purchase of the month and -1 when
    the refund removes the last one; ``retained`` and ``retained_next`` move "active in the month
    before and in this one" for this month and for the next."""

    month: Month
    purchases: int = 0
    kopecks: int = 0
    cohort: Month | None = None  # the member's enrolment month; None for an anonymous sale
    active: int = 0
    retained: int = 0
    retained_next: int = 0

    def to_details(self) -> dict[str, Any]:
        return {key: value for key, value in vars(self).items() if value is not None}

    @classmethod
    def from_details(cls, raw: object) -> Visit | None:
        if not isinstance(raw, Mapping) or "month" not in raw:
            return None
        return cls(
            month=str(raw["month"]),
            purchases=int(raw.get("purchases", 0)),
            kopecks=int(raw.get("kopecks", 0)),
            cohort=str(raw["cohort"]) if raw.get("cohort") else None,
            active=int(raw.get("active", 0)),
            retained=int(raw.get("retained", 0)),
            retained_next=int(raw.get("retained_next", 0)),
        )


def member_visit(
    live: Mapping[Month, int], *, month: Month, cohort: Month, purchases: int, kopecks: int
) -> tuple[dict[Month, int], Visit]:
    """A member's purchase (``purchases`` = 1) or refund (0, or -1 when it refunds the purchase
    fully) in ``month``: the member's live purchases per month after it, and the visit."""
    before = live.get(month, 0)
    after = max(before + purchases, 0)
    updated = {key: value for key, value in live.items() if key != month}
    if after:
        updated[month] = after
    newest = max(updated, default=month)
    oldest = shift(max(newest, month), -KEEP_ACTIVITY_MONTHS)
    updated = {key: value for key, value in updated.items() if key >= oldest}
    active = int(after > 0) - int(before > 0)
    was_before = live.get(shift(month, -1), 0) > 0
    is_after = live.get(shift(month, 1), 0) > 0
    visit = Visit(
        month=month,
        purchases=purchases,
        kopecks=kopecks,
        cohort=cohort,
        active=active,
        retained=active if was_before else 0,
        retained_next=active if is_after else 0,
    )
    return updated, visit


# ---- counters: what each fact adds ----------------------------------------------------------------
def add_counters(into: MonthCounters, more: Mapping[Month, Mapping[str, int]]) -> MonthCounters:
    for month, counters in more.items():
        target = into.setdefault(month, {})
        for name, value in counters.items():
            if value:
                target[name] = target.get(name, 0) + value
    return {month: counters for month, counters in into.items() if counters}


def visit_counters(visit: Visit) -> MonthCounters:
    who = "members" if visit.cohort is not None else "anonymous"
    here: Counters = {f"purchases_{who}": visit.purchases, f"revenue_{who}_kopecks": visit.kopecks}
    result: MonthCounters = {visit.month: here}
    if visit.cohort is None:
        return result
    here["members_active"] = visit.active
    here["members_retained"] = visit.retained
    if 0 <= month_index(visit.month) - month_index(visit.cohort) <= COHORT_MONTHS:
        here[cohort_counter(visit.cohort)] = visit.active
    if visit.retained_next:
        result[shift(visit.month, 1)] = {"members_retained": visit.retained_next}
    return result


def cohort_counter(cohort: Month) -> str:
    return f"cohort_{cohort}"


ISSUED = frozenset({EntryKind.ENROLLED, EntryKind.EARN, EntryKind.BONUS})
SPENT = frozenset({EntryKind.REDEEM, EntryKind.REWARD, EntryKind.GIFT_CARD, EntryKind.MEMBERSHIP})
GIVEN_BACK = frozenset({EntryKind.REDEEM_REVERSAL, EntryKind.GIFT_CARD_REFUND})
CLAWED_BACK = frozenset({EntryKind.REFUND, EntryKind.BONUS_REVERSAL})


def points_counters(kind: EntryKind, points: int) -> Counters:
    """Where an entry's points go. Every entry is classified so that issued - redeemed - expired -
    clawed back always equals the sum of the entries: the outstanding balance is exact."""
    if not points:
        return {}
    if kind in SPENT or kind in GIVEN_BACK:
        return {"points_redeemed": -points}
    if kind is EntryKind.EXPIRE:
        return {"points_expired": -points}
    if kind in ISSUED or (kind not in CLAWED_BACK and points > 0):
        return {"points_issued": points}
    return {"points_clawed_back": -points}


def entry_counters(entry: LedgerEntry, zone: str) -> MonthCounters:
    """What a member's ledger entry adds: points and membership in the month it was written, and
    the visit it carries in the month of its purchase."""
    here = points_counters(entry.kind, entry.points)
    if entry.kind is EntryKind.ENROLLED:
        here["members_new"] = 1
    elif entry.kind is EntryKind.ERASED:
        here["members_erased"] = 1
    counters: MonthCounters = add_counters({}, {month_of(entry.created_at, zone): here})
    visit = Visit.from_details(entry.details.get("kpi"))
    return add_counters(counters, visit_counters(visit)) if visit else counters


def message_counters(channel: str, sent_at: datetime, zone: str) -> MonthCounters:
    return {month_of(sent_at, zone): {f"messages_{channel}": 1}}


def gift_card_counters(kind: str, amount_kopecks: int, at: datetime, zone: str) -> MonthCounters:
    """A gift card's ledger line: sold (issued) or spent at the till (a negative amount)."""
    if kind == "issued":
        counters = {"gift_cards_sold": 1, "gift_card_nominal_kopecks": amount_kopecks}
    elif kind == "redeemed":
        counters = {"gift_card_redeemed_kopecks": -amount_kopecks}
    else:
        return {}
    return {month_of(at, zone): counters}


# ---- the report ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prices:
    """What the program costs, from the program's ``costs`` and the value of a point."""

    unit_value_kopecks: int
    monthly_fee_kopecks: int = 0
    sms_kopecks: int = 0
    push_kopecks: int = 0
    email_kopecks: int = 0


_PRICE_FIELDS = frozenset(Prices.__dataclass_fields__)


PricesOf = Callable[[Month], Prices]


def prices_in_force(history: Mapping[Month, Mapping[str, int]], current: Prices) -> PricesOf:
    """A month is priced with what took effect last by its end. Before the first entry (the
    merchant's first month) the program cost nothing; a merchant with no history at all is priced
    with its current settings."""
    known = {
        month: Prices(**{k: v for k, v in entry.items() if k in _PRICE_FIELDS}) for month, entry in history.items()
    }
    months = sorted(known)

    def prices(month: Month) -> Prices:
        if not months:
            return current
        earlier = [key for key in months if key <= month]
        return known[earlier[-1]] if earlier else Prices(unit_value_kopecks=known[months[0]].unit_value_kopecks)

    return prices


@dataclass(frozen=True)
class MonthFigures:
    month: Month
    members_total: int
    members_new: int
    members_active: int
    purchases_members: int
    revenue_members_kopecks: int
    purchases_anonymous: int
    revenue_anonymous_kopecks: int
    aov_members_kopecks: int | None
    aov_anonymous_kopecks: int | None
    aov_all_kopecks: int | None
    purchase_frequency: float | None
    retention_rate: float | None
    churn_rate: float | None
    engagement_rate: float | None
    points_issued: int
    points_redeemed: int
    points_expired: int
    points_clawed_back: int
    points_outstanding: int
    liability_kopecks: int
    program_cost_kopecks: int
    incremental_revenue_kopecks: int | None
    roi: float | None
    clv_kopecks: int | None


@dataclass(frozen=True)
class CohortFigures:
    month: Month
    members: int
    active: list[float | None] = field(default_factory=list)


def ratio(numerator: Fraction | int, denominator: Fraction | int) -> float | None:
    if not denominator:
        return None
    return float(round(Fraction(numerator) / Fraction(denominator), RATIO_DECIMALS))


def _exact(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


def _floor(value: Fraction | None) -> int | None:
    return math.floor(value) if value is not None else None


@dataclass(frozen=True)
class _Running:
    """Totals carried from month to month: members and outstanding points at a month's end."""

    members: int = 0
    points: int = 0

    def after(self, counters: Mapping[str, int]) -> _Running:
        moved = (
            counters.get("points_issued", 0)
            - counters.get("points_redeemed", 0)
            - counters.get("points_expired", 0)
            - counters.get("points_clawed_back", 0)
        )
        joined = counters.get("members_new", 0) - counters.get("members_erased", 0)
        return _Running(self.members + joined, self.points + moved)


def running_totals(counters: Mapping[Month, Mapping[str, int]], last: Month) -> dict[Month, _Running]:
    """Members and outstanding points at the end of every month up to ``last``."""
    if not counters:
        return {}
    totals: dict[Month, _Running] = {}
    running = _Running()
    for month in months_from(min(*counters, last), last):
        running = running.after(counters.get(month, {}))
        totals[month] = running
    return totals


def month_figures(
    month: Month, counters: Mapping[Month, Mapping[str, int]], running: _Running, prices: Prices
) -> MonthFigures:
    here, before = counters.get(month, {}), counters.get(shift(month, -1), {})
    count = here.get
    members_purchases, anonymous_purchases = count("purchases_members", 0), count("purchases_anonymous", 0)
    members_revenue, anonymous_revenue = count("revenue_members_kopecks", 0), count("revenue_anonymous_kopecks", 0)
    active = count("members_active", 0)
    aov_members = _exact(members_revenue, members_purchases)
    aov_anonymous = _exact(anonymous_revenue, anonymous_purchases)
    frequency = _exact(members_purchases, active)
    retention = _exact(count("members_retained", 0), before.get("members_active", 0))
    churn = 1 - retention if retention is not None else None
    redeemed = count("points_redeemed", 0)
    cost = (
        redeemed * prices.unit_value_kopecks
        + count("messages_sms", 0) * prices.sms_kopecks
        + count("messages_push", 0) * prices.push_kopecks
        + count("messages_email", 0) * prices.email_kopecks
        + prices.monthly_fee_kopecks
    )
    incremental = (
        (aov_members - aov_anonymous) * members_purchases
        if aov_members is not None and aov_anonymous is not None
        else None
    )
    clv = aov_members * frequency / churn if aov_members is not None and frequency is not None and churn else None
    return MonthFigures(
        month=month,
        members_total=running.members,
        members_new=count("members_new", 0),
        members_active=active,
        purchases_members=members_purchases,
        revenue_members_kopecks=members_revenue,
        purchases_anonymous=anonymous_purchases,
        revenue_anonymous_kopecks=anonymous_revenue,
        aov_members_kopecks=_floor(aov_members),
        aov_anonymous_kopecks=_floor(aov_anonymous),
        aov_all_kopecks=_floor(_exact(members_revenue + anonymous_revenue, members_purchases + anonymous_purchases)),
        purchase_frequency=ratio(members_purchases, active),
        retention_rate=ratio(retention, 1) if retention is not None else None,
        churn_rate=ratio(churn, 1) if churn is not None else None,
        engagement_rate=ratio(members_purchases, members_purchases + anonymous_purchases),
        points_issued=count("points_issued", 0),
        points_redeemed=redeemed,
        points_expired=count("points_expired", 0),
        points_clawed_back=count("points_clawed_back", 0),
        points_outstanding=running.points,
        liability_kopecks=running.points * prices.unit_value_kopecks,
        program_cost_kopecks=cost,
        incremental_revenue_kopecks=_floor(incremental),
        roi=ratio(incremental - cost, cost) if incremental is not None else None,
        clv_kopecks=_floor(clv),
    )


def cohort_figures(cohort: Month, counters: Mapping[Month, Mapping[str, int]], last: Month) -> CohortFigures:
    members = counters.get(cohort, {}).get("members_new", 0)
    name = cohort_counter(cohort)
    followed = min(COHORT_MONTHS, month_index(last) - month_index(cohort))
    return CohortFigures(
        month=cohort,
        members=members,
        active=[ratio(counters.get(shift(cohort, k), {}).get(name, 0), members) for k in range(followed + 1)],
    )


def report(
    counters: Mapping[Month, Mapping[str, int]], first: Month, last: Month, prices: PricesOf
) -> tuple[list[MonthFigures], list[CohortFigures]]:
    """Every month from ``first`` to ``last`` and the cohorts that enrolled in them, from the
    counters of every month up to ``last`` (earlier months give the running totals), each month
    priced with ``prices(month)``."""
    totals = running_totals(counters, last)
    months = months_from(first, last)
    return (
        [month_figures(month, counters, totals.get(month, _Running()), prices(month)) for month in months],
        [cohort_figures(month, counters, last) for month in months],
    )


def default_range(current: Month, first: Month | None, last: Month | None) -> tuple[Month, Month]:
    """The months a report covers when the merchant gives one end or none: the last six."""
    if last is None:
        last = min(shift(first, DEFAULT_REPORT_MONTHS - 1), current) if first is not None else current
    if first is None:
        first = shift(last, -(DEFAULT_REPORT_MONTHS - 1))
    return first, last


def range_problem(current: Month, first: Month, last: Month) -> str | None:
    """Why a report range is refused, or None."""
    if first > last:
        return "from must not be after to"
    if last > current:
        return f"to must not be after the current month ({current})"
    if month_index(last) - month_index(first) + 1 > MAX_REPORT_MONTHS:
        return f"a report covers at most {MAX_REPORT_MONTHS} months"
    return None
