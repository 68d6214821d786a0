"""Coupons: a reward claimed for points, or full stamp cards, as a promo code shown at the till.

A coupon is good for ``quantity`` items (a reward: one; a purchase that filled five stamp cards:
one coupon for five free items) and is used up one item (or more) at a time, so a purchase of any
size earns one coupon per stamp card, never thousands of codes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from loyalty.domain.codes import new_code

COUPON_CODE_LENGTH = 8
STAMP_REWARD_PREFIX = "stamp:"


class CouponStatus(StrEnum):
    ISSUED = "issued"
    USED = "used"
    REVOKED = "revoked"  # a refund took back the purchase that earned it
    EXPIRED = "expired"  # shown only: stored coupons stay "issued" past their date


@dataclass(frozen=True)
class Coupon:
    code: str
    merchant_id: str
    member_id: str
    reward_id: str
    reward_name: str
    points_spent: int
    issued_at: datetime
    expires_on: date
    status: CouponStatus = CouponStatus.ISSUED
    quantity: int = 1  # items it is good for
    uses_left: int = 1
    used_at: datetime | None = None
    used_transaction_id: str | None = None
    store_id: str | None = None
    version: int = 0

    def status_on(self, today: date) -> CouponStatus:
        if self.status is CouponStatus.ISSUED and self.expires_on < today:
            return CouponStatus.EXPIRED
        return self.status

    def used(self, now: datetime, transaction_id: str | None, store_id: str | None, items: int = 1) -> Coupon:
        """``items`` of it used at the till (at most what is left)."""
        left = self.uses_left - items
        return replace(
            self,
            status=CouponStatus.USED if left == 0 else self.status,
            uses_left=left,
            used_at=now,
            used_transaction_id=transaction_id,
            store_id=store_id,
            version=self.version + 1,
        )

    def revoked(self, items: int) -> Coupon:
        """``items`` of what is left taken back (a refund of the purchase that earned them)."""
        left = self.uses_left - items
        status = CouponStatus.REVOKED if left == 0 and self.quantity == self.uses_left else self.status
        if left == 0 and status is not CouponStatus.REVOKED:
            status = CouponStatus.USED  # partly used, the rest taken back: nothing left to use
        return replace(self, status=status, uses_left=left, version=self.version + 1)


def new_coupon(
    merchant_id: str,
    member_id: str,
    *,
    reward_id: str,
    reward_name: str,
    points: int,
    valid_days: int,
    now: datetime,
    quantity: int = 1,
) -> Coupon:
    return Coupon(
        code=new_code(COUPON_CODE_LENGTH),
        merchant_id=merchant_id,
        member_id=member_id,
        reward_id=reward_id,
        reward_name=reward_name,
        points_spent=points,
        issued_at=now,
        expires_on=now.date() + timedelta(days=valid_days),
        quantity=quantity,
        uses_left=quantity,
    )
