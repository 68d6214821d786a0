"""Purchases without a member (anonymous sales): they earn nothing, and tell the merchant what
non-members buy, the baseline the KPI report compares members with.

An anonymous sale is idempotent on its ``transaction_id`` like any purchase; its refunds count
against the month of the sale, and the refund that refunds it fully takes the purchase away.
Each sale and each refund is one immutable fact (``Sale``) that the report counters add once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from loyalty.domain.kpis import Visit
from loyalty.errors import RuleViolation

PURCHASE_PART = "purchase"


@dataclass(frozen=True)
class SaleRecord:
    """What the purchase's operation record keeps of an anonymous sale, for its refunds."""

    transaction_id: str
    amount_kopecks: int
    month: str
    refunded_kopecks: int = 0

    def to_state(self) -> dict[str, Any]:
        return {"anonymous": True, **vars(self)}

    @staticmethod
    def is_anonymous(state: Mapping[str, Any]) -> bool:
        return bool(state.get("anonymous"))

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> SaleRecord:
        return cls(
            transaction_id=str(state["transaction_id"]),
            amount_kopecks=int(state["amount_kopecks"]),
            month=str(state["month"]),
            refunded_kopecks=int(state.get("refunded_kopecks", 0)),
        )


@dataclass(frozen=True)
class Sale:
    """One fact about an anonymous sale: the sale itself, or one refund of it."""

    merchant_id: str
    transaction_id: str
    part: str  # "purchase" or "refund:<refund id>"
    visit: Visit
    created_at: datetime

    @property
    def fact_id(self) -> str:
        return f"sale:{self.merchant_id}:{self.transaction_id}:{self.part}"


def sell(
    merchant_id: str, transaction_id: str, amount_kopecks: int, month: str, now: datetime
) -> tuple[SaleRecord, Sale]:
    record = SaleRecord(transaction_id, amount_kopecks, month)
    visit = Visit(month=month, purchases=1, kopecks=amount_kopecks)
    return record, Sale(merchant_id, transaction_id, PURCHASE_PART, visit, now)


def refund(
    merchant_id: str, record: SaleRecord, *, refund_id: str, amount_kopecks: int, now: datetime
) -> tuple[SaleRecord, Sale]:
    """Refund part or all of the sale; never more than is left of it."""
    if record.refunded_kopecks + amount_kopecks > record.amount_kopecks:
        raise RuleViolation(
            "refunds would exceed the purchase",
            code="refund_exceeds_purchase",
            details={"purchase_kopecks": record.amount_kopecks, "already_refunded_kopecks": record.refunded_kopecks},
        )
    after = replace(record, refunded_kopecks=record.refunded_kopecks + amount_kopecks)
    fully = after.refunded_kopecks == record.amount_kopecks
    visit = Visit(month=record.month, purchases=-1 if fully else 0, kopecks=-amount_kopecks)
    return after, Sale(merchant_id, record.transaction_id, f"refund:{refund_id}", visit, now)
