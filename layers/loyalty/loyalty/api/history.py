"""A member's ledger history, newest first, page by page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from loyalty.api.common import Page, Query, Reply


class HistoryQuery(Query):
    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(
        default=None, max_length=200, description="`next_cursor` of the page before; anything else is a 400"
    )


class EntryView(Reply):
    entry_id: str
    kind: str = Field(description="earn, refund, redeem, redeem_reversal, reward, expire, bonus, tier")
    points: int
    balance_after: int
    created_at: datetime
    operation: str
    details: dict[str, Any] = Field(default_factory=dict)


class EntryPage(Page):
    entries: list[EntryView]
