"""Member sign-in: request a code by SMS, exchange it for tokens, refresh, sign out."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from loyalty.api.common import Phone, Reply, Request


class CodeRequest(Request):
    merchant_id: str = Field(
        min_length=5, max_length=40, pattern=r"^mch_[0-9a-z]+$", description="the merchant whose app this is"
    )
    phone: Phone


class CodeSent(Reply):
    sent: bool = Field(description="always true: the answer does not reveal who is a member")
    expires_in: int = Field(description="seconds the code is valid")


class TokenRequest(Request):
    merchant_id: str = Field(min_length=5, max_length=40, pattern=r"^mch_[0-9a-z]+$")
    phone: Phone
    code: str = Field(pattern=r"^[0-9]{6}$")


class RefreshRequest(Request):
    refresh_token: str = Field(min_length=10, max_length=200)


class TokenPair(Reply):
    access_token: str
    refresh_token: str = Field(description="single use: each refresh returns a new one")
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme's name, not a secret
    expires_in: int = Field(description="seconds the access token is valid")


class SignedOut(Reply):
    signed_out: bool
