"""Spending points: quotes, redemptions (immediate or two-phase holds), rewards and coupons."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from loyalty.api.common import ClientId, Kopecks, MemberRefFields, Page, Points, Reply, Request


class QuoteRequest(MemberRefFields):
    amount_kopecks: Kopecks = Field(gt=0, description="the check total before any points")
    points: Points | None = Field(default=None, description="how many points the shopper wants to use")


class QuoteResult(Reply):
    member_id: str
    mode: str
    spendable: int
    point_value_kopecks: int
    cap_percent: int
    max_points: int = Field(description="the most points this check can take (balance and cap)")
    max_discount_kopecks: int
    points: int | None = Field(default=None, description="the requested points, if asked, within the maximum")
    discount_kopecks: int | None = None
    tier: str | None = None
    tier_discount_percent: int = Field(default=0, description="the tier's permanent discount (discount cards)")
    tier_discount_kopecks: int = 0


class RedemptionRequest(MemberRefFields):
    redemption_id: ClientId = Field(description="a redemption is applied once per id")
    points: Points = Field(gt=0)
    amount_kopecks: Kopecks = Field(gt=0, description="the check the points pay part of (the cap applies to it)")
    mode: Literal["immediate", "hold"] = Field(
        default="immediate", description="hold: reserve now, then confirm or cancel (POS two-phase)"
    )
    transaction_id: ClientId | None = Field(default=None, description="the purchase this check belongs to")


class RedemptionView(Reply):
    redemption_id: str
    member_id: str
    status: Literal["held", "completed", "cancelled", "expired"]
    points: int
    discount_kopecks: int
    hold_expires_at: datetime | None = None
    balance: int
    spendable: int


class RewardRequest(Request):
    reward_id: ClientId
    name: str = Field(min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=1000)
    cost_points: Points = Field(gt=0)
    coupon_valid_days: int = Field(default=30, ge=1, le=3650)
    active: bool = True


class RewardEdit(Request):
    """The fields to change; coupons already claimed keep what they were issued with."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=1000)
    cost_points: Points | None = Field(default=None, gt=0)
    coupon_valid_days: int | None = Field(default=None, ge=1, le=3650)
    active: bool | None = Field(default=None, description="false retires the reward (true brings it back)")


class RewardView(Reply):
    reward_id: str
    name: str
    description: str | None = None
    cost_points: int
    coupon_valid_days: int
    active: bool


class RewardList(Reply):
    rewards: list[RewardView]


class ClaimRequest(MemberRefFields):
    claim_id: ClientId = Field(description="a claim is applied once per id")
    reward_id: ClientId


class CouponView(Reply):
    code: str = Field(description="the promo code to show at the till")
    reward_id: str
    reward_name: str
    member_id: str
    status: Literal["issued", "used", "expired", "revoked"] = Field(
        description="revoked: a refund took back the purchase whose stamp card earned it"
    )
    points_spent: int
    quantity: int = Field(default=1, description="items the coupon is good for (full stamp cards: one per card)")
    uses_left: int = Field(default=1, description="items still to take at the till")
    issued_at: datetime
    expires_on: date
    used_at: datetime | None = Field(default=None, description="when an item of it was last used")
    balance: int | None = Field(default=None, description="the member's balance after the claim")


class CouponList(Page):
    coupons: list[CouponView]


class CouponRedeemRequest(Request):
    transaction_id: ClientId | None = Field(
        default=None, description="the purchase the coupon was used on: a retry with it is answered, not applied again"
    )
    store_id: str | None = Field(default=None, max_length=64)
    quantity: int = Field(default=1, ge=1, le=10_000, description="how many of its items to use now")
