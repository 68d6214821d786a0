"""Platform administration: merchants."""

from __future__ import annotations

from pydantic import Field

from loyalty.api.common import Reply, Request
from loyalty.domain.program import Program


class CreateMerchantRequest(Request):
    name: str = Field(min_length=1, max_length=120, examples=["Кофейня «Зерно»"])
    program: Program | None = Field(default=None, description="the default program when absent")


class CreatedMerchantView(Reply):
    merchant_id: str
    name: str
    api_key: str = Field(description="shown once: store it now; only its hash is kept")
    program_version: int


class ProgramView(Reply):
    version: int
    program: Program


class UpdateProgramRequest(Request):
    program: Program
    expected_version: int | None = Field(default=None, ge=1, description="reject if the program moved on")
