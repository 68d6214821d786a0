"""Gift cards (SevenDar): designs, orders of gift cards and plastic loyalty cards, status, and the
stored value spent at the till."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from loyalty.api.common import ClientId, Kopecks, Phone, Query, Reply, Request, given_schema
from loyalty.domain.gift_cards import MAX_GIFT_CARDS_PER_ORDER, MAX_LOYALTY_CARDS_PER_ORDER


class DesignView(Reply):
    id: str
    name: str
    kind: Literal["gift_card", "loyalty_card"]
    preview_url: str
    min_nominal_kopecks: int | None = None
    max_nominal_kopecks: int | None = None


class DesignQuery(Query):
    kind: Literal["gift_card", "loyalty_card"] | None = None


class DesignList(Reply):
    designs: list[DesignView]


class RecipientIn(Request):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    phone: Phone | None = Field(default=None, description="a Russian mobile number")
    email: str | None = Field(default=None, max_length=254)


class AddressIn(Request):
    postal_code: str = Field(pattern=r"^[1-6][0-9]{5}$", description="a Russian postal code (6 digits)")
    region: str = Field(min_length=2, max_length=100)
    city: str = Field(min_length=2, max_length=100)
    street: str = Field(min_length=2, max_length=200)
    house: str = Field(min_length=1, max_length=20)
    apartment: str | None = Field(default=None, max_length=20)


class DeliveryIn(Request):
    model_config = ConfigDict(  # the validator's rule, in the API document too
        json_schema_extra={
            "if": {"required": ["method"], "properties": {"method": {"enum": ["courier", "post"]}}},
            "then": {"required": ["address"], "properties": {"address": {"type": "object"}}},
        }
    )

    method: Literal["email", "courier", "post"]
    address: AddressIn | None = None

    @model_validator(mode="after")
    def _address_when_physical(self) -> DeliveryIn:
        if self.method != "email" and self.address is None:
            raise ValueError(f"delivery by {self.method} needs an address")
        return self


class PaymentIn(Request):
    model_config = ConfigDict(  # the validator's rule, in the API document too
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["method", "reference"],
                    "properties": {"method": {"const": "money"}, "reference": {"type": "string", "minLength": 1}},
                },
                {
                    "required": ["method", "member_id"],
                    "properties": {"method": {"const": "points"}, "member_id": {"type": "string", "minLength": 1}},
                },
            ]
        }
    )

    method: Literal["money", "points"]
    reference: str | None = Field(default=None, max_length=128, description="the money payment in the shop's system")
    member_id: str | None = Field(default=None, max_length=40, description="whose points pay (method points)")

    @model_validator(mode="after")
    def _consistent(self) -> PaymentIn:
        if self.method == "money" and not self.reference:
            raise ValueError("a money payment needs its reference")
        if self.method == "points" and not self.member_id:
            raise ValueError("a points payment needs the member_id whose points pay")
        return self


def _is(*path: str, value: str) -> dict[str, Any]:
    leaf: dict[str, Any] = {"const": value}
    for name in reversed(path):
        leaf = {"required": [name], "properties": {name: leaf}}
    return leaf


# The order's validators below, in the API document too (a client's validator or form learns them).
_ORDER_RULES: dict[str, Any] = {
    "allOf": [
        {"oneOf": [given_schema("design_id"), given_schema("artwork_url")]},
        {
            "if": _is("kind", value="loyalty_card"),
            "then": {
                "properties": {"nominal_kopecks": {"type": "null"}},
                "not": _is("payment", "method", value="points"),
            },
            "else": {
                **given_schema("nominal_kopecks", kind="integer"),
                "properties": {
                    **given_schema("nominal_kopecks", kind="integer")["properties"],
                    "quantity": {"maximum": MAX_GIFT_CARDS_PER_ORDER},
                },
            },
        },
        {"if": _is("delivery", "method", value="email"), "then": given_schema("recipient", "email")},
        {"if": _is("delivery", "method", value="courier"), "then": given_schema("recipient", "phone")},
    ]
}


class GiftCardOrderRequest(Request):
    model_config = ConfigDict(json_schema_extra=lambda schema: schema.update(_ORDER_RULES))

    order_id: ClientId = Field(description="an order is placed once per id")
    kind: Literal["gift_card", "loyalty_card"] = "gift_card"
    design_id: str | None = Field(default=None, max_length=64)
    artwork_url: str | None = Field(default=None, max_length=500, pattern=r"^https://")
    quantity: int = Field(
        default=1,
        ge=1,
        le=MAX_LOYALTY_CARDS_PER_ORDER,
        description=f"at most {MAX_GIFT_CARDS_PER_ORDER} gift cards or {MAX_LOYALTY_CARDS_PER_ORDER} plastic cards",
    )
    nominal_kopecks: Kopecks | None = Field(
        default=None, description="each gift card's value, within the design's minimum and maximum"
    )
    recipient: RecipientIn = RecipientIn()
    delivery: DeliveryIn
    greeting: str | None = Field(default=None, max_length=500)
    payment: PaymentIn

    @model_validator(mode="after")
    def _one_design(self) -> GiftCardOrderRequest:
        if (self.design_id is None) == (self.artwork_url is None):
            raise ValueError("give exactly one of design_id or artwork_url")
        return self

    @model_validator(mode="after")
    def _kind_rules(self) -> GiftCardOrderRequest:
        if self.kind == "gift_card":
            if not self.nominal_kopecks:
                raise ValueError("a gift card needs nominal_kopecks (the design's catalog says which are allowed)")
            if self.quantity > MAX_GIFT_CARDS_PER_ORDER:
                raise ValueError(f"at most {MAX_GIFT_CARDS_PER_ORDER} gift cards per order")
        else:
            if self.nominal_kopecks is not None:
                raise ValueError("plastic loyalty cards carry no nominal")
            if self.quantity > MAX_LOYALTY_CARDS_PER_ORDER:
                raise ValueError(f"at most {MAX_LOYALTY_CARDS_PER_ORDER} plastic cards per order; place several orders")
        if self.kind == "loyalty_card" and self.payment.method == "points":
            raise ValueError("plastic loyalty cards are paid by the merchant, not with points")
        return self

    @model_validator(mode="after")
    def _reachable_recipient(self) -> GiftCardOrderRequest:
        if self.delivery.method == "email" and not self.recipient.email:
            raise ValueError("email delivery needs recipient.email")
        if self.delivery.method == "courier" and not self.recipient.phone:
            raise ValueError("courier delivery needs recipient.phone")
        return self


class StatusChange(Reply):
    status: str
    at: datetime


class GiftCardOrderView(Reply):
    order_id: str
    kind: str
    status: str = Field(description="created, submitted, in_production, shipped, delivered, failed, cancelled")
    quantity: int
    nominal_kopecks: int | None = None
    points_paid: int = 0
    tracking_number: str | None = None
    failure_reason: str | None = None
    card_numbers: list[str] = Field(default_factory=list, description="plastic loyalty cards: link them to members")
    history: list[StatusChange]
    created_at: datetime


class GiftCardView(Reply):
    code: str
    status: Literal["active", "void"] = Field(description="void: expired or withdrawn")
    nominal_kopecks: int
    balance_kopecks: int
    expires_on: date


class GiftCardRedeemRequest(Request):
    redemption_id: ClientId = Field(description="a redemption is applied once per id")
    amount_kopecks: Kopecks = Field(gt=0)


class GiftCardRedemptionView(Reply):
    code: str
    redemption_id: str
    amount_kopecks: int
    balance_kopecks: int


class WebhookAck(Reply):
    received: bool
    duplicate: bool = False
    ignored: str | None = None
