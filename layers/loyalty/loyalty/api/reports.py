"""The merchant's report: members, points, purchases, gift cards - from pre-aggregated counters."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from loyalty.api.common import Query, QueryDate, Reply


class ReportQuery(Query):
    start: QueryDate | None = Field(
        default=None, alias="from", description="first day of the series (default: 30 days ago); not after `to` (400)"
    )
    end: QueryDate | None = Field(default=None, alias="to", description="last day of the series (default: today)")


class PointsSummary(Reply):
    issued: int
    redeemed: int
    expired: int
    clawed_back: int
    outstanding: int = Field(description="issued minus redeemed, expired and clawed back")
    liability_kopecks: int = Field(description="what the outstanding points are worth at the till")


class GiftCardSummary(Reply):
    cards_sold: int
    nominal_sold_kopecks: int
    redeemed_kopecks: int
    outstanding_kopecks: int


class DayFigures(Reply):
    day: date
    members_new: int = 0
    members_active: int = Field(default=0, description="members with their first purchase of the month that day")
    purchases: int = 0
    purchase_kopecks: int = 0
    points_issued: int = 0
    points_redeemed: int = 0
    points_expired: int = 0


class ReportSummary(Reply):
    members_total: int
    purchases: int
    purchase_kopecks: int
    average_check_kopecks: int
    purchases_per_member: float
    points: PointsSummary
    gift_cards: GiftCardSummary
    days: list[DayFigures]
