"""Anonymous purchases (no member named) and their refunds: nothing is earned; the sale is
recorded once per transaction id, as the non-members' side of the KPI report.

One transaction writes the client's operation record (``services.idempotency``: the same id and
body replays the first answer, another body is a 409) and the sale's immutable fact in the ledger
table, whose stream adds it to the month's counters.
"""

from __future__ import annotations

import random
import time
from datetime import datetime

from loyalty.api.purchases import PurchaseRequest, PurchaseResult, RefundRequest, RefundResult
from loyalty.data import ledger, operations
from loyalty.data.operations import Operation
from loyalty.data.transaction import AlreadyExists, Contended, Stale, Transaction
from loyalty.domain import sales
from loyalty.domain.kpis import month_of
from loyalty.domain.sales import SaleRecord
from loyalty.errors import Busy, LoyaltyError
from loyalty.services.idempotency import ClientRequest, replay
from loyalty.services.merchants import programs

PURCHASE = "purchase"
REFUND = "refund"
ATTEMPTS = 20
ANONYMOUS = "anonymous: no member named"


def sell(
    merchant_id: str, request: PurchaseRequest, occurred_at: datetime, now: datetime
) -> tuple[PurchaseResult, bool]:
    """Record an anonymous purchase (``occurred_at`` is already checked by the caller)."""
    versioned = programs.get(merchant_id)
    client = ClientRequest.of(request, merchant_id, PURCHASE, request.transaction_id)
    record, sale = sales.sell(
        merchant_id,
        request.transaction_id,
        request.amount_kopecks,
        month_of(occurred_at, versioned.program.timezone),
        now,
    )
    result = PurchaseResult(
        transaction_id=request.transaction_id,
        member_id=None,
        points_earned=0,
        breakdown=[],
        reason=ANONYMOUS,
        program_version=versioned.version,
        balance=0,
        spendable=0,
        pending=0,
    )
    tx = Transaction()
    operations.stage_create(tx, client.record(result, now, state=record.to_state()))
    ledger.stage_sale(tx, sale)
    try:
        tx.commit()
    except AlreadyExists as exc:
        if exc.what != "operation":
            raise
        return replay(client, PurchaseResult)
    return result, False


def refund(merchant_id: str, transaction_id: str, request: RefundRequest, now: datetime) -> tuple[RefundResult, bool]:
    """Refund part or all of an anonymous purchase, once per refund id."""
    client = ClientRequest.of(request, merchant_id, REFUND, transaction_id, request.refund_id)
    key = operations.OperationKey.of(merchant_id, PURCHASE, transaction_id)
    for attempt in range(ATTEMPTS):
        purchase = operations.get(key)
        if purchase is None:  # it was found a moment ago: purchases are never deleted
            raise Busy("the purchase is being recorded; retry")
        try:
            return _refund_once(merchant_id, purchase, request, client, now), False
        except AlreadyExists as exc:
            if exc.what != "operation":
                raise
            return replay(client, RefundResult)
        except (Stale, Contended):  # another refund of the same purchase won: read it again
            time.sleep(random.uniform(0.002, 0.01) * (attempt + 1))  # noqa: S311 - jitter, not crypto
        except LoyaltyError:
            previous = client.previous()  # a retry of a refund that did succeed gets its answer
            if previous is None:
                raise
            return replay(client, RefundResult, previous)
    raise Busy("the purchase is being refunded by many requests at once; retry")


def _refund_once(
    merchant_id: str, purchase: Operation, request: RefundRequest, client: ClientRequest, now: datetime
) -> RefundResult:
    record, sale = sales.refund(
        merchant_id,
        SaleRecord.from_state(purchase.state),
        refund_id=request.refund_id,
        amount_kopecks=request.amount_kopecks,
        now=now,
    )
    result = RefundResult(
        transaction_id=record.transaction_id,
        refund_id=request.refund_id,
        member_id=None,
        points_clawed_back=0,
        debt_added=0,
        refunded_kopecks_total=record.refunded_kopecks,
        balance=0,
        spendable=0,
    )
    tx = Transaction()
    operations.stage_create(tx, client.record(result, now, state={"anonymous": True}))
    operations.stage_update(tx, purchase.updated(record.to_state(), now))
    ledger.stage_sale(tx, sale)
    tx.commit()
    return result
