"""Platform administration: merchants."""

from __future__ import annotations

from pydantic import Field

from loyalty.api.common import ErrorBody, Reply, Request
from loyalty.api.staff import StaffView
from loyalty.domain.program import Program


class CreateMerchantRequest(Request):
    name: str = Field(min_length=1, max_length=120, examples=["Кофейня «Зерно»"])
    program: Program | None = Field(default=None, description="the default program when absent")
    owner_email: str | None = Field(
        default=None,
        min_length=3,
        max_length=254,
        description="invite the merchant's owner: Cognito e-mails a temporary password",
        examples=["owner@zerno.example"],
    )
    owner_name: str | None = Field(default=None, min_length=1, max_length=120)


class CreatedMerchantView(Reply):
    merchant_id: str
    name: str
    api_key: str = Field(description="shown once: store it now; only its hash is kept (scope full)")
    key_id: str
    program_version: int
    owner: StaffView | None = Field(default=None, description="the invited owner, when owner_email was given")
    owner_error: ErrorBody | None = Field(
        default=None, description="why the owner could not be invited (the merchant exists: invite again)"
    )


class ProgramView(Reply):
    version: int
    program: Program


class UpdateProgramRequest(Request):
    program: Program
    expected_version: int | None = Field(default=None, ge=1, description="reject if the program moved on")
