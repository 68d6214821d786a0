"""Platform administration: merchants."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, model_validator

from loyalty.api.common import ErrorBody, Kopecks, Reply, Request
from loyalty.api.purchases import PurchaseLine, RuleAwardView
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


class EarnPreviewRequest(Request):
    """A sample purchase to price in points; nothing is written."""

    amount_kopecks: Kopecks = Field(description="what the shopper would pay", examples=[125_000])
    lines: list[PurchaseLine] | None = Field(default=None, max_length=500, description="for category rules")
    occurred_at: datetime | None = Field(default=None, description="for promotions by date and weekday; now if absent")
    tier: str | None = Field(default=None, max_length=64, description="price it for a member of this tier")
    program: Program | None = Field(
        default=None, description="a program being edited, to preview before saving; the current one if absent"
    )

    @model_validator(mode="after")
    def _lines_add_up(self) -> EarnPreviewRequest:
        if self.lines and sum(line.amount_kopecks for line in self.lines) != self.amount_kopecks:
            raise ValueError("lines must add up to amount_kopecks")
        return self


class EarnPreviewView(Reply):
    points: int = Field(description="what the purchase would earn")
    breakdown: list[RuleAwardView] = Field(description="per rule; sums to points")
    eligible_kopecks: int = Field(description="the part of the check that earns (excluded categories left out)")
    reason: str | None = Field(default=None, description="why nothing would be earned, when nothing would")
    worth_kopecks: int = Field(description="what the points would pay at the till")
    program_version: int | None = Field(description="the program priced; null for a program given in the request")
