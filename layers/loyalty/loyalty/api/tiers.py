"""Paid memberships and bonus actions."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from loyalty.api.common import ClientId, Reply, Request


class MembershipRequest(Request):
    membership_id: ClientId = Field(description="a membership purchase is applied once per id")
    tier: str = Field(min_length=1, max_length=32)
    months: int = Field(ge=1, le=36)
    payment_reference: str = Field(min_length=1, max_length=128, description="the payment in the merchant's system")


class MembershipView(Reply):
    membership_id: str
    member_id: str
    tier: str = Field(description="the member's tier now")
    paid_tier: str
    paid_until: date = Field(description="the last day of the paid period")


class BonusActionRequest(Request):
    type: Literal["review", "survey"]
    external_id: ClientId = Field(description="the review's or survey's id: each earns once")


class BonusView(Reply):
    member_id: str
    bonus: str
    points: int
    balance: int
