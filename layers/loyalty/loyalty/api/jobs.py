"""Imports and exports: asynchronous jobs over files in S3, with their progress."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from loyalty.api.common import ClientId, Reply, Request


class ImportRequest(Request):
    job_id: ClientId = Field(description="the import is created once per id")
    kind: Literal["members", "purchases"] = Field(
        description="members: phone, name, birthday, email, card_number, opening_balance, tier; "
        "purchases (history, for analytics; earns nothing): transaction_id, date, amount, phone or card_number"
    )
    welcome: bool = Field(default=False, description="members only: pay the welcome bonus and send the welcome message")


class ExportRequest(Request):
    job_id: ClientId = Field(description="the export is created once per id")
    kind: Literal["members", "transactions"]


class RowErrorView(Reply):
    line: int = Field(description="the line of the file (the header is line 1)")
    reason: str


class JobView(Reply):
    job_id: str
    kind: str = Field(description="import_members, import_purchases, export_members, export_transactions")
    status: Literal["awaiting_upload", "queued", "running", "done", "failed"]
    total: int | None = Field(default=None, description="rows in the file (known once the job started reading it)")
    done: int = Field(description="rows applied (imports) or written (exports)")
    failed: int = Field(description="rows refused, each with its line and reason in errors")
    errors: list[RowErrorView] = Field(default_factory=list, description="the first refused rows")
    error_report_url: str | None = Field(default=None, description="every refused row as CSV (when done)")
    upload_url: str | None = Field(default=None, description="PUT the CSV file here (Content-Type: text/csv)")
    download_url: str | None = Field(default=None, description="the exported file (when done)")
    failure: str | None = Field(default=None, description="why the job stopped (status failed)")
    created_at: datetime
    finished_at: datetime | None = None
