"""The audit log: who changed what, when and from where."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from loyalty.api.common import Page, Query, QueryInstant, Reply


class AuditQuery(Query):
    start: QueryInstant | None = Field(default=None, alias="from", description="earliest time (default: 30 days ago)")
    end: QueryInstant | None = Field(default=None, alias="to", description="latest time (default: now)")
    actor: str | None = Field(
        default=None, max_length=64, pattern=r"^[a-z]+_[0-9a-z]+$", description="a key id or a staff id"
    )
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=100)


class Actor(Reply):
    kind: Literal["key", "staff"]
    id: str = Field(description="the key's or the staff member's id (see GET /v1/keys and GET /v1/staff)")
    access: str = Field(description="the key's scope or the staff member's role at the time")


class AuditEntryView(Reply):
    entry_id: str
    at: datetime
    actor: Actor
    action: str = Field(description="the operation, as in the API document's operationId")
    route: str = Field(examples=["POST /v1/purchases/{transaction_id}/refunds"])
    status: int = Field(description="the HTTP status it was answered with")
    targets: dict[str, str] = Field(description="ids of what it changed (codes are shortened)")
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


class AuditPage(Page):
    entries: list[AuditEntryView]
