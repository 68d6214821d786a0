"""Purchases (accrual) and refunds."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, Self

from pydantic import ConfigDict, Field, model_validator

from loyalty.api.common import ClientId, Kopecks, MemberRefFields, Reply, Request, at_most_one_member_reference


class PurchaseLine(Request):
    amount_kopecks: Kopecks
    category: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    sku: str | None = Field(default=None, max_length=64)
    quantity: int = Field(default=1, ge=1, le=10_000)
    reward: bool = Field(default=False, description="paid with points or a coupon: earns nothing")


class PurchaseRequest(MemberRefFields):
    """A purchase names its member by at most one of member_id, card_number, phone; a purchase that
    names none is anonymous: it earns nothing and counts as a non-member purchase in the reports."""

    model_config = ConfigDict(json_schema_extra=at_most_one_member_reference())

    transaction_id: ClientId = Field(description="the POS or shop's id; a purchase is applied once per id")
    amount_kopecks: Kopecks = Field(description="what the shopper paid, after discounts")
    occurred_at: datetime | None = Field(default=None, description="when the purchase happened; now if absent")
    lines: list[PurchaseLine] | None = Field(default=None, max_length=500)
    store_id: str | None = Field(default=None, max_length=64)
    channel: Literal["pos", "web", "app", "partner"] = "pos"

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        """Replaces the member reference's "exactly one": a purchase may name no member."""
        if len([value for value in (self.member_id, self.card_number, self.phone) if value]) > 1:
            raise ValueError("identify the member by at most one of member_id, card_number, phone")
        return self

    @property
    def anonymous(self) -> bool:
        return not (self.member_id or self.card_number or self.phone)

    @model_validator(mode="after")
    def _lines_add_up(self) -> PurchaseRequest:
        if self.lines and sum(line.amount_kopecks for line in self.lines) != self.amount_kopecks:
            raise ValueError("lines must add up to amount_kopecks")
        return self


class RuleAwardView(Reply):
    rule: str = Field(examples=["base", "category:coffee", "tier:gold", "promotion:black-friday"])
    points: int


class LotView(Reply):
    expires_on: date | None
    available_on: date | None


class PurchaseResult(Reply):
    transaction_id: str
    member_id: str | None = Field(description="null for an anonymous purchase (no member named)")
    points_earned: int
    breakdown: list[RuleAwardView]
    reason: str | None = Field(default=None, description="why nothing was earned, if nothing was")
    lot: LotView | None = None
    program_version: int
    balance: int
    spendable: int
    pending: int
    tier: str | None = Field(default=None, description="the member's tier after this purchase")
    coupons: list[str] = Field(default_factory=list, description="coupon codes from stamp cards this filled")
    stamps: dict[str, int] = Field(default_factory=dict, description="stamps collected per stamp card")


class RefundRequest(Request):
    refund_id: ClientId = Field(description="a refund is applied once per id")
    amount_kopecks: Kopecks = Field(gt=0)
    occurred_at: datetime | None = None


class RefundResult(Reply):
    transaction_id: str
    refund_id: str
    member_id: str | None = Field(description="null for a refund of an anonymous purchase")
    points_clawed_back: int
    debt_added: int = Field(description="points already spent that the member now owes (balance goes negative)")
    refunded_kopecks_total: int
    balance: int
    spendable: int
    benefits_undone: list[str] = Field(
        default_factory=list,
        description="what else the refund took back because the purchase no longer qualifies for it: "
        "referral, stamps:<card id>, tier",
    )


class PurchaseEvent(PurchaseRequest):
    """A partner system's purchase on the ``purchase-events`` queue, signed with the partner key a
    merchant issued (``loyalty.domain.partner_messages``): it credits that merchant only. A
    ``merchant_id``, if given, must be that merchant."""

    merchant_id: str | None = Field(default=None, min_length=5, max_length=40, pattern=r"^mch_[0-9a-z]+$")
