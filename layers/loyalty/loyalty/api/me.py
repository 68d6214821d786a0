"""What a signed-in member sees and changes in the merchant's app."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from loyalty.api.common import ClientId, Reply, Request
from loyalty.api.members import MemberView
from loyalty.api.notifications import ConsentsUpdate
from loyalty.domain.program import TimeZoneName


class NextTier(Reply):
    name: str
    title: str | None = None
    threshold: int
    remaining: int = Field(description="kopecks (or points) still to spend (or earn) in the window to reach it")


class MeView(MemberView):
    tier_title: str | None = None
    tier_perks: list[str] = Field(default_factory=list)
    next_tier: NextTier | None = None
    consents: dict[str, bool] = Field(default_factory=dict)


class MeUpdate(Request):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    birthday: date | None = Field(default=None, description="can be set once")
    language: Literal["ru", "en"] | None = None
    timezone: TimeZoneName | None = None
    consents: ConsentsUpdate | None = None


class CardView(Reply):
    card_number: str
    qr_payload: str = Field(description="show as a QR code; the till scans it (POST /v1/members/qr)")
    qr_expires_at: datetime


class MeClaim(Request):
    claim_id: ClientId


class Erased(Reply):
    erased: bool
    member_id: str


class QrScan(Request):
    payload: str = Field(min_length=10, max_length=2000)
