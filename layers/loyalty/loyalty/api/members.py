"""Members: enrollment and what the POS or app sees of a member."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from loyalty.api.common import Phone, Query, Reply, Request
from loyalty.domain.program import TimeZoneName

Language = Literal["ru", "en"]


class EnrollRequest(Request):
    phone: Phone
    name: str | None = Field(default=None, min_length=1, max_length=120)
    email: str | None = Field(default=None, max_length=254)
    birthday: date | None = None
    language: Language = "ru"
    timezone: TimeZoneName | None = None
    card_number: Annotated[str, Field(pattern=r"^[0-9]{8,19}$")] | None = Field(
        default=None, description="a physical card to link; a virtual card is issued when absent"
    )
    channel: Literal["pos", "app", "web", "partner"] = "pos"
    referral_code: str | None = Field(
        default=None,
        min_length=4,
        max_length=16,
        pattern=r"^[A-Za-z0-9]+$",
        description="the code of the member who invited them",
    )


class MemberSearch(Query):
    """Search by exactly one of these; the route checks it."""

    phone: Phone | None = None
    card: str | None = Field(default=None, max_length=32, description="the card number, printed or virtual")


class MemberView(Reply):
    member_id: str
    card_number: str
    phone: str = Field(description="masked, e.g. +7916*****67")
    name: str | None = None
    email: str | None = Field(default=None, description="masked")
    birthday: date | None = None
    language: Language = "ru"
    status: str
    tier: str | None = None
    referral_code: str | None = Field(default=None, description="share it: both get a bonus on the first purchase")
    balance: int = Field(description="all points, including those still in the return window")
    spendable: int = Field(description="points that can be spent now")
    pending: int = Field(description="points still in the return window")
    created_at: datetime


class MemberList(Reply):
    members: list[MemberView]
