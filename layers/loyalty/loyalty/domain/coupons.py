"""Coupons: a reward claimed for points, or a full stamp card, as a single-use promo code."""

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
    used_at: datetime | None = None
    used_transaction_id: str | None = None
    store_id: str | None = None
    version: int = 0

    def status_on(self, today: date) -> CouponStatus:
        if self.status is CouponStatus.ISSUED and self.expires_on < today:
            return CouponStatus.EXPIRED
        return self.status

    def used(self, now: datetime, transaction_id: str | None, store_id: str | None) -> Coupon:
        return replace(
            self,
            status=CouponStatus.USED,
            used_at=now,
            used_transaction_id=transaction_id,
            store_id=store_id,
            version=self.version + 1,
        )

    def revoked(self) -> Coupon:
        return replace(self, status=CouponStatus.REVOKED, version=self.version + 1)


def new_coupon(
    merchant_id: str,
    member_id: str,
    *,
    reward_id: str,
    reward_name: str,
    points: int,
    valid_days: int,
    now: datetime,
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
    )
