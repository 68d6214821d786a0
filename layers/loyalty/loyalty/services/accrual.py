"""Purchases earn points; refunds take back the points of the refunded part and every benefit the
purchase no longer qualifies for (``domain.purchases``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from loyalty.api.purchases import LotView, PurchaseRequest, PurchaseResult, RefundRequest, RefundResult, RuleAwardView
from loyalty.data import members, operations
from loyalty.data.operations import Operation
from loyalty.data.transaction import Transaction
from loyalty.domain.earning import Line, Purchase
from loyalty.domain.member import Member
from loyalty.domain.purchases import PurchaseRecord, check_recent, earn
from loyalty.domain.purchases import refund as refund_purchase
from loyalty.domain.sales import SaleRecord
from loyalty.errors import InvalidRequest, NotFound, RuleViolation
from loyalty.pii.cipher import PiiCipher
from loyalty.services import sales
from loyalty.services.changes import Decision, apply_change
from loyalty.services.idempotency import ClientRequest
from loyalty.services.member_lookup import Found, named, on_member
from loyalty.services.merchants import programs

MAX_CLOCK_SKEW = timedelta(minutes=5)
PURCHASE = "purchase"


def accrue(merchant_id: str, request: PurchaseRequest, now: datetime, cipher: PiiCipher) -> tuple[PurchaseResult, bool]:
    occurred_at = request.occurred_at or now
    if occurred_at.tzinfo is None:
        raise InvalidRequest("occurred_at needs a time zone offset", details={"field": "occurred_at"})
    if occurred_at > now + MAX_CLOCK_SKEW:
        raise InvalidRequest("occurred_at is in the future", details={"field": "occurred_at"})
    if request.anonymous:
        check_recent(programs.get(merchant_id).program, occurred_at, now)
        return sales.sell(merchant_id, request, occurred_at, now)
    who = named(member_id=request.member_id, card_number=request.card_number, phone=request.phone, cipher=cipher)
    return on_member(merchant_id, who, lambda found: _earn(merchant_id, found, request, occurred_at, now))


def _earn(
    merchant_id: str, found: Found, request: PurchaseRequest, occurred_at: datetime, now: datetime
) -> tuple[PurchaseResult, bool]:
    member_id = found.member_id
    versioned = programs.get(merchant_id)
    lines = tuple(Line(line.amount_kopecks, line.category, line.reward, line.quantity) for line in request.lines or ())
    purchase = Purchase(amount_kopecks=request.amount_kopecks, occurred_at=occurred_at, lines=lines)
    client = ClientRequest.of(request, merchant_id, PURCHASE, request.transaction_id)

    def decide(member: Member) -> Decision[PurchaseResult]:
        found.check(member)
        earned = earn(
            member,
            versioned.program,
            purchase,
            transaction_id=request.transaction_id,
            program_version=versioned.version,
            now=now,
            store_id=request.store_id,
            channel=request.channel,
        )
        after, today = earned.change.after, now.date()
        lot = earned.lot
        result = PurchaseResult(
            transaction_id=request.transaction_id,
            member_id=member_id,
            points_earned=earned.earning.points,
            breakdown=[RuleAwardView(rule=a.rule, points=a.points) for a in earned.earning.breakdown],
            reason=earned.earning.reason,
            lot=LotView(expires_on=lot.expires_on, available_on=lot.available_on) if lot else None,
            program_version=versioned.version,
            balance=after.wallet.balance,
            spendable=max(after.wallet.spendable(today), 0),
            pending=after.wallet.pending(today),
            tier=after.tier.tier,
            coupons=list(earned.coupons),
            stamps=dict(after.stamps),
        )
        return Decision(earned.change, result, state=earned.record.to_state())

    return apply_change(merchant_id, member_id, decide, PurchaseResult, now, client=client)


def refund(merchant_id: str, transaction_id: str, request: RefundRequest, now: datetime) -> tuple[RefundResult, bool]:
    purchase_key = operations.OperationKey.of(merchant_id, PURCHASE, transaction_id)
    found = operations.get(purchase_key)
    if found is None:
        raise NotFound("purchase not found", code="purchase_not_found")
    if SaleRecord.is_anonymous(found.state):
        return sales.refund(merchant_id, transaction_id, request, now)
    member_id = PurchaseRecord.from_state(found.state).member_id
    program = programs.get(merchant_id).program
    client = ClientRequest.of(request, merchant_id, "refund", transaction_id, request.refund_id)

    def decide(member: Member) -> Decision[RefundResult]:
        purchase = operations.get(purchase_key)
        if purchase is None:
            raise NotFound("purchase not found", code="purchase_not_found")
        record = PurchaseRecord.from_state(purchase.state)
        if record.refunded_kopecks + request.amount_kopecks > record.amount_kopecks:
            raise RuleViolation(
                "refunds would exceed the purchase",
                code="refund_exceeds_purchase",
                details={
                    "purchase_kopecks": record.amount_kopecks,
                    "already_refunded_kopecks": record.refunded_kopecks,
                },
            )
        coupons = {code: coupon for code in record.coupon_codes if (coupon := members.get_coupon(merchant_id, code))}
        refunded = refund_purchase(
            member,
            program,
            record,
            refund_id=request.refund_id,
            amount_kopecks=request.amount_kopecks,
            coupons=coupons,
            now=now,
        )
        after = refunded.change.after
        result = RefundResult(
            transaction_id=transaction_id,
            refund_id=request.refund_id,
            member_id=member_id,
            points_clawed_back=refunded.points,
            debt_added=refunded.debt_added,
            refunded_kopecks_total=refunded.record.refunded_kopecks,
            balance=after.wallet.balance,
            spendable=after.wallet.spendable(now.date()),
            benefits_undone=list(refunded.undone),
        )
        return Decision(
            refunded.change,
            result,
            state={"member_id": member_id, "points": refunded.points},
            also=_update_purchase(purchase, refunded.record, now),
        )

    return apply_change(merchant_id, member_id, decide, RefundResult, now, client=client)


def _update_purchase(purchase: Operation, record: PurchaseRecord, now: datetime) -> Callable[[Transaction], None]:
    def stage(tx: Transaction) -> None:
        operations.stage_update(tx, purchase.updated(record.to_state(), now))

    return stage
