"""The KPI report's figures computed from scratch, from the list of what happened in a shop: the
definitions of the issue and the README, written out plainly, with none of the product's code.
Tests compare every field of the report with this model.

Points follow a plain program: 1 point per 100 roubles, rounded down; refunds take back points in
proportion on the running total; a welcome bonus at enrolment; nothing expires."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Enroll:
    member: str
    at: datetime


@dataclass(frozen=True)
class Buy:
    transaction_id: str
    member: str | None  # None: anonymous
    amount: int
    occurred: datetime
    at: datetime  # when the shop sent it (points are issued then)


@dataclass(frozen=True)
class Refund:
    transaction_id: str
    refund_id: str
    amount: int
    at: datetime


@dataclass(frozen=True)
class Redeem:
    member: str
    points: int
    at: datetime


@dataclass(frozen=True)
class Erase:
    member: str
    at: datetime


@dataclass(frozen=True)
class Sent:
    channel: str
    at: datetime


Happening = Enroll | Buy | Refund | Redeem | Erase | Sent


@dataclass(frozen=True)
class ModelProgram:
    zone: str = "Europe/Moscow"
    welcome_points: int = 0
    point_value_kopecks: int = 100
    monthly_fee_kopecks: int = 0
    sms_kopecks: int = 0
    push_kopecks: int = 0
    email_kopecks: int = 0


def points_for(amount: int) -> int:
    return amount // 10_000


@dataclass
class Shop:
    """The shop's history, with what a reader of it can tell at once."""

    program: ModelProgram
    happenings: list[Happening] = field(default_factory=list)

    def month(self, moment: datetime) -> str:
        return moment.astimezone(ZoneInfo(self.program.zone)).strftime("%Y-%m")

    def purchases(self) -> dict[str, Buy]:
        return {h.transaction_id: h for h in self.happenings if isinstance(h, Buy)}

    def refunded(self) -> dict[str, int]:
        total: dict[str, int] = defaultdict(int)
        for h in self.happenings:
            if isinstance(h, Refund):
                total[h.transaction_id] += h.amount
        return total

    def balance(self, member: str) -> int:
        """The member's points now (what a redemption may spend)."""
        purchases, refunded_so_far = self.purchases(), defaultdict(int)
        balance = 0
        for h in self.happenings:
            if isinstance(h, Enroll) and h.member == member:
                balance += self.program.welcome_points
            elif isinstance(h, Buy) and h.member == member:
                balance += points_for(h.amount)
            elif isinstance(h, Refund) and purchases[h.transaction_id].member == member:
                balance -= clawback(purchases[h.transaction_id], refunded_so_far[h.transaction_id], h.amount)
                refunded_so_far[h.transaction_id] += h.amount
            elif isinstance(h, Redeem) and h.member == member:
                balance -= h.points
        return balance


def clawback(purchase: Buy, before: int, now: int) -> int:
    earned = points_for(purchase.amount)
    return earned * (before + now) // purchase.amount - earned * before // purchase.amount


def _shift(month: str, by: int) -> str:
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _ratio(numerator: Fraction | int, denominator: Fraction | int) -> float | None:
    return float(round(Fraction(numerator) / Fraction(denominator), 6)) if denominator else None


def _floor(value: Fraction | None) -> int | None:
    return math.floor(value) if value is not None else None


class Expected:
    """Everything the report should say about ``shop``, month by month."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        month = shop.month
        self.enrolled = {h.member: month(h.at) for h in shop.happenings if isinstance(h, Enroll)}
        self.erased = {h.member: month(h.at) for h in shop.happenings if isinstance(h, Erase)}
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.active: dict[str, set[str]] = defaultdict(set)
        self._purchases()
        self._points()

    def _purchases(self) -> None:
        refunded = self.shop.refunded()
        for purchase in self.shop.purchases().values():
            month, left = self.shop.month(purchase.occurred), purchase.amount - refunded[purchase.transaction_id]
            live = not (purchase.amount > 0 and left == 0)
            who = "members" if purchase.member else "anonymous"
            self.counts[month][f"purchases_{who}"] += int(live)
            self.counts[month][f"revenue_{who}_kopecks"] += left
            if purchase.member and live:
                self.active[month].add(purchase.member)

    def _points(self) -> None:
        purchases, refunded_so_far = self.shop.purchases(), defaultdict[str, int](int)
        for h in self.shop.happenings:
            counts = self.counts[self.shop.month(h.at)]
            if isinstance(h, Enroll):
                counts["points_issued"] += self.shop.program.welcome_points
            elif isinstance(h, Buy) and h.member:
                counts["points_issued"] += points_for(h.amount)
            elif isinstance(h, Refund) and purchases[h.transaction_id].member:
                counts["points_clawed_back"] += clawback(
                    purchases[h.transaction_id], refunded_so_far[h.transaction_id], h.amount
                )
            elif isinstance(h, Redeem):
                counts["points_redeemed"] += h.points
            elif isinstance(h, Sent):
                counts[f"messages_{h.channel}"] += 1
            if isinstance(h, Refund):
                refunded_so_far[h.transaction_id] += h.amount

    def outstanding(self, month: str) -> int:
        return sum(
            counts["points_issued"] - counts["points_redeemed"] - counts["points_clawed_back"]
            for key, counts in self.counts.items()
            if key <= month
        )

    def month(self, month: str) -> dict[str, Any]:
        program, counts = self.shop.program, self.counts[month]
        members_purchases, anonymous_purchases = counts["purchases_members"], counts["purchases_anonymous"]
        members_revenue, anonymous_revenue = counts["revenue_members_kopecks"], counts["revenue_anonymous_kopecks"]
        active, active_before = self.active[month], self.active[_shift(month, -1)]
        aov_members = Fraction(members_revenue, members_purchases) if members_purchases else None
        aov_anonymous = Fraction(anonymous_revenue, anonymous_purchases) if anonymous_purchases else None
        retention = Fraction(len(active & active_before), len(active_before)) if active_before else None
        churn = 1 - retention if retention is not None else None
        frequency = Fraction(members_purchases, len(active)) if active else None
        cost = (
            counts["points_redeemed"] * program.point_value_kopecks
            + counts["messages_sms"] * program.sms_kopecks
            + counts["messages_push"] * program.push_kopecks
            + counts["messages_email"] * program.email_kopecks
            + program.monthly_fee_kopecks
        )
        incremental = (
            (aov_members - aov_anonymous) * members_purchases
            if aov_members is not None and aov_anonymous is not None
            else None
        )
        outstanding = self.outstanding(month)
        all_purchases = members_purchases + anonymous_purchases
        return {
            "month": month,
            "members_total": sum(1 for m in self.enrolled.values() if m <= month)
            - sum(1 for m in self.erased.values() if m <= month),
            "members_new": sum(1 for m in self.enrolled.values() if m == month),
            "members_active": len(active),
            "purchases_members": members_purchases,
            "revenue_members_kopecks": members_revenue,
            "purchases_anonymous": anonymous_purchases,
            "revenue_anonymous_kopecks": anonymous_revenue,
            "aov_members_kopecks": _floor(aov_members),
            "aov_anonymous_kopecks": _floor(aov_anonymous),
            "aov_all_kopecks": _floor(
                Fraction(members_revenue + anonymous_revenue, all_purchases) if all_purchases else None
            ),
            "purchase_frequency": _ratio(frequency, 1) if frequency is not None else None,
            "retention_rate": _ratio(retention, 1) if retention is not None else None,
            "churn_rate": _ratio(churn, 1) if churn is not None else None,
            "engagement_rate": _ratio(members_purchases, all_purchases),
            "points_issued": counts["points_issued"],
            "points_redeemed": counts["points_redeemed"],
            "points_expired": 0,
            "points_clawed_back": counts["points_clawed_back"],
            "points_outstanding": outstanding,
            "liability_kopecks": outstanding * program.point_value_kopecks,
            "program_cost_kopecks": cost,
            "incremental_revenue_kopecks": _floor(incremental),
            "roi": _ratio(incremental - cost, cost) if incremental is not None else None,
            "clv_kopecks": _floor(aov_members * frequency / churn)
            if aov_members is not None and frequency is not None and churn
            else None,
        }

    def cohort(self, month: str, last: str) -> dict[str, Any]:
        members = {member for member, joined in self.enrolled.items() if joined == month}
        shares = []
        offset = 0
        while offset <= 12 and _shift(month, offset) <= last:
            shares.append(_ratio(len(members & self.active[_shift(month, offset)]), len(members)))
            offset += 1
        return {"month": month, "members": len(members), "active": shares}

    def report(self, first: str, last: str) -> dict[str, Any]:
        months = []
        month = first
        while month <= last:
            months.append(month)
            month = _shift(month, 1)
        return {
            "from": first,
            "to": last,
            "timezone": self.shop.program.zone,
            "months": [self.month(m) for m in months],
            "cohorts": [self.cohort(m, last) for m in months],
        }
