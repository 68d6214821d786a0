"""Members: enrollment and what the POS or app sees of a member."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from loyalty.api.common import ClientId, Page, Phone, Query, QueryDate, Reply, Request
from loyalty.domain.program import TimeZoneName

Language = Literal["ru", "en"]
CardNumber = Annotated[str, Field(pattern=r"^[0-9]{8,19}$")]


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
    email: str | None = Field(default=None, max_length=254, examples=["anna@example.ru"])


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
    cards: list[str] = Field(default_factory=list, description="every card that finds the member, the app's first")
    last_purchase_at: datetime | None = None
    block_reason: str | None = Field(default=None, description="why the shop blocked the member (status blocked)")


class MemberList(Reply):
    members: list[MemberView]


class MemberListQuery(Query):
    """Filters of the back office's member list; all optional, combined with AND."""

    tier: str | None = Field(default=None, max_length=64)
    status: Literal["active", "blocked"] | None = None
    enrolled_from: QueryDate | None = Field(default=None, description="enrolled on or after this day (UTC)")
    enrolled_to: QueryDate | None = Field(default=None, description="enrolled on or before this day (UTC)")
    last_purchase_from: QueryDate | None = Field(default=None, description="last purchase on or after this day (UTC)")
    last_purchase_to: QueryDate | None = Field(default=None, description="last purchase on or before this day (UTC)")
    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2000)


class MemberPage(Page):
    members: list[MemberView]


class MemberEdit(Request):
    """The fields to change; a field given as null is cleared (not the phone, which a member
    always has). The phone and email must not be another member's (409)."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    phone: str | None = Field(default=None, min_length=5, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    birthday: date | None = None


class BlockRequest(Request):
    reason: str = Field(min_length=1, max_length=500, examples=["карта утеряна, ждём клиента"])


class AdjustmentRequest(Request):
    adjustment_id: ClientId = Field(description="the adjustment is applied once per id")
    points: int = Field(ge=-1_000_000_000, le=1_000_000_000, description="added (positive) or taken (negative)")
    reason: str = Field(min_length=1, max_length=500, examples=["компенсация за ошибку кассира"])


class AdjustmentView(Reply):
    adjustment_id: str
    member_id: str
    points: int
    reason: str
    balance: int = Field(description="the member's balance after the adjustment")


class CardLinkRequest(Request):
    card_number: CardNumber = Field(description="a plastic card's number (a card order may have reserved it)")


class CardReplaceRequest(Request):
    new_card_number: CardNumber | None = Field(
        default=None, description="a new plastic card; a new virtual card is issued when absent"
    )
    reason: str | None = Field(default=None, max_length=500, examples=["карта утеряна"])


class CardBlockRequest(Request):
    reason: str | None = Field(default=None, max_length=500, examples=["карта украдена"])
