"""API keys and partner credentials, managed by the merchant's owner."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from loyalty.api.common import Reply, Request
from loyalty.domain.access import Scope

Name = Field(min_length=1, max_length=80, examples=["Касса 1, Тверская"])


class CreateKeyRequest(Request):
    name: str = Name
    scope: Scope = Field(
        description="till: till operations only; integration: also the program, rewards, campaigns, members and "
        "reports; full: everything, including keys, staff and the audit log"
    )


class RotateKeyRequest(Request):
    grace_hours: int = Field(
        default=24, ge=0, le=168, description="how long the current secret keeps working (0: it stops now)"
    )


class KeyView(Reply):
    key_id: str
    name: str
    scope: Scope
    status: Literal["active", "revoked"]
    hint: str = Field(description="the secret's start and end, to tell keys apart")
    created_at: datetime
    last_used_at: datetime | None = Field(default=None, description="recorded at most once a minute")
    rotated_at: datetime | None = None
    previous_secret_valid_until: datetime | None = Field(
        default=None, description="after a rotation, until when the previous secret still works"
    )
    revoked_at: datetime | None = None


class IssuedKeyView(KeyView):
    api_key: str = Field(description="the secret, shown only in this answer: store it now; only its hash is kept")


class KeyList(Reply):
    keys: list[KeyView]


class CreatePartnerRequest(Request):
    name: str = Field(min_length=1, max_length=80, examples=["Интернет-магазин «Зерно»"])


class PartnerView(Reply):
    partner_id: str = Field(description="the key id a partner puts in the `partner_key` message attribute")
    name: str
    status: Literal["active", "revoked"]
    created_at: datetime
    revoked_at: datetime | None = None


class IssuedPartnerView(PartnerView):
    signing_secret: str = Field(description="the HMAC key, shown only in this answer: give it to the partner")


class PartnerList(Reply):
    partners: list[PartnerView]
