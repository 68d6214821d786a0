"""What the back office sees of one member: everything the member page shows, in one answer."""

from __future__ import annotations

from pydantic import Field

from loyalty.api.common import Reply
from loyalty.api.me import MeView
from loyalty.api.redemptions import CouponView


class MemberTotals(Reply):
    earned: int = Field(description="points earned in all (bonuses and adjustments included)")
    spent: int = Field(description="points spent in all")
    purchases: int
    spend_kopecks: int


class MemberDetail(MeView):
    totals: MemberTotals
    blocked_cards: list[str] = Field(default_factory=list, description="lost or blocked numbers: they find no one")
    coupons: list[CouponView] = Field(default_factory=list, description="the member's coupons, newest first")
