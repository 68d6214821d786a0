"""The merchant's reports: monthly KPIs of the program (does it pay?) and gift-card sales, read
from pre-aggregated monthly counters. Definitions: README, "Analytics: does the program pay?"."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from loyalty.api.common import Query, Reply

MonthText = Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", examples=["2026-03"])]
Ratio = Annotated[float | None, Field(description="6 decimals; null where the denominator is 0")]
Money = Annotated[int | None, Field(description="kopecks, rounded down; null where the denominator is 0")]


class KpiQuery(Query):
    start: MonthText | None = Field(
        default=None, alias="from", description="first month, YYYY-MM (default: the six months up to `to`)"
    )
    end: MonthText | None = Field(
        default=None,
        alias="to",
        description="last month, YYYY-MM (default: the current month, or six months from `from`); at most 24 months",
    )


class MonthKpis(Reply):
    """One calendar month in the program's time zone."""

    month: MonthText
    members_total: int = Field(description="enrolled by the end of the month, less those erased by then")
    members_new: int = Field(description="enrolled in the month")
    members_active: int = Field(description="distinct members with a purchase in the month not fully refunded")
    purchases_members: int = Field(description="members' purchases in the month, less fully refunded ones")
    revenue_members_kopecks: int = Field(description="what they paid, net of refunds")
    purchases_anonymous: int = Field(description="purchases without a member, less fully refunded ones")
    revenue_anonymous_kopecks: int = Field(description="what they paid, net of refunds")
    aov_members_kopecks: Money = Field(description="average check of members: revenue / purchases")
    aov_anonymous_kopecks: Money = Field(description="average check without a member")
    aov_all_kopecks: Money = Field(description="average check of every purchase")
    purchase_frequency: Ratio = Field(description="purchases_members / members_active")
    retention_rate: Ratio = Field(description="active in the month before and in this one / active the month before")
    churn_rate: Ratio = Field(description="1 - retention_rate")
    engagement_rate: Ratio = Field(description="members' share of all purchases")
    points_issued: int
    points_redeemed: int = Field(description="spent (at the till, on rewards, gift cards), less spends given back")
    points_expired: int
    points_clawed_back: int = Field(description="taken back by refunds, reversed bonuses, corrections")
    points_outstanding: int = Field(description="the members' balances at the end of the month")
    liability_kopecks: int = Field(description="what the outstanding points are worth at the till")
    program_cost_kopecks: int = Field(description="points redeemed at their value + messages sent x price + fee")
    incremental_revenue_kopecks: Money = Field(description="(aov_members - aov_anonymous) x purchases_members")
    roi: Ratio = Field(description="(incremental_revenue - program_cost) / program_cost")
    clv_kopecks: Money = Field(description="aov_members x purchase_frequency / churn_rate")


class CohortKpis(Reply):
    month: MonthText = Field(description="the cohort: members who enrolled in this month")
    members: int = Field(description="how many enrolled")
    active: list[float | None] = Field(
        description="share of them active in their enrolment month and each of the next 12 (up to `to`); "
        "6 decimals, null for an empty cohort"
    )


class KpiReport(Reply):
    model_config = ConfigDict(extra="forbid", serialize_by_alias=True, validate_by_name=True)

    start: MonthText = Field(alias="from")
    end: MonthText = Field(alias="to")
    timezone: str = Field(description="the program's time zone: months are its calendar months")
    months: list[MonthKpis]
    cohorts: list[CohortKpis] = Field(description="one row per enrolment month in the range, for a heat map")


class GiftCardMonth(Reply):
    month: MonthText
    cards_sold: int
    nominal_sold_kopecks: int
    redeemed_kopecks: int = Field(description="spent at the till")
    outstanding_kopecks: int = Field(description="sold and not yet spent, at the end of the month")


class GiftCardReport(Reply):
    model_config = ConfigDict(extra="forbid", serialize_by_alias=True, validate_by_name=True)

    start: MonthText = Field(alias="from")
    end: MonthText = Field(alias="to")
    timezone: str
    months: list[GiftCardMonth]
