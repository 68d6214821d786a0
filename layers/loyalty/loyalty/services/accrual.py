"""Purchases earn points; refunds take back the points of the refunded part."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from loyalty.api.purchases import (
    LotView,
    PurchaseRequest,
    PurchaseResult,
    RefundRequest,
    RefundResult,
    RuleAwardView,
)
from loyalty.data.models import ExpiryQueueItem, MemberItem, OperationItem
from loyalty.data.unit_of_work import MemberWrite
from loyalty.domain.earning import Line, Purchase, compute_earning, refund_clawback
from loyalty.domain.wallet import LotKey, Wallet, lot_for
from loyalty.errors import InvalidRequest, NotFound, RuleViolation
from loyalty.pii.cipher import PiiCipher
from loyalty.services.ledger import (
    OP_SK,
    apply_change,
    get_operation,
    new_entry,
    operation_pk,
    request_hash,
)
from loyalty.services.members import resolve_member, wallet_of
from loyalty.services.merchants import programs
from loyalty.services.tiers import tier_benefit

EXPIRY_SHARDS = 16
MAX_CLOCK_SKEW = timedelta(minutes=5)


def expiry_queue_pk(expires_on: str, shard: int) -> str:
    return f"EXPQ#{expires_on}#{shard:02d}"


def expiry_shard(member_key: str) -> int:
    return int(hashlib.sha256(member_key.encode()).hexdigest()[:8], 16) % EXPIRY_SHARDS


def expiry_queue_items(member: MemberItem, before: Wallet, after: Wallet) -> list[ExpiryQueueItem]:
    """Queue the member for the expiry job on each expiry date it did not have a bucket for."""
    known = {LotKey.decode(raw).expires_on for raw in before.lots}
    new_dates = {LotKey.decode(raw).expires_on for raw in after.lots} - known - {None}
    return [
        ExpiryQueueItem(expiry_queue_pk(day.isoformat(), expiry_shard(member.pk)), member.pk)
        for day in sorted(d for d in new_dates if d is not None)
    ]


def ensure_active(member: MemberItem) -> None:
    if member.status != "active":
        raise NotFound("member not found", code="member_not_found")


def accrue(merchant_id: str, request: PurchaseRequest, now: datetime, cipher: PiiCipher) -> tuple[PurchaseResult, bool]:
    occurred_at = request.occurred_at or now
    if occurred_at.tzinfo is None:
        raise InvalidRequest("occurred_at needs a time zone offset", details={"field": "occurred_at"})
    if occurred_at > now + MAX_CLOCK_SKEW:
        raise InvalidRequest("occurred_at is in the future", details={"field": "occurred_at"})
    member_id = resolve_member(
        merchant_id,
        member_id=request.member_id,
        card_number=request.card_number,
        phone=request.phone,
        cipher=cipher,
    )
    versioned = programs.get(merchant_id)
    program = versioned.program
    purchase = Purchase(
        amount_kopecks=request.amount_kopecks,
        occurred_at=occurred_at,
        lines=tuple(Line(line.amount_kopecks, line.category, line.reward) for line in request.lines or ()),
    )
    op_pk = operation_pk(merchant_id, "purchase", request.transaction_id)
    today = now.date()

    def build(member: MemberItem) -> tuple[MemberWrite, PurchaseResult]:
        ensure_active(member)
        read_version = int(member.version)
        earning = compute_earning(program, purchase, tier_benefit(member, program))
        before = wallet_of(member).matured(today)
        lot = lot_for(today, program.expiry_months, program.pending_days) if earning.points else None
        after, kept = before.earn(lot, earning.points) if lot else (before, 0)
        member.lots, member.debt, member.balance = dict(after.lots), after.debt, after.balance
        member.earned_total = int(member.earned_total) + earning.points
        member.purchases_count = int(member.purchases_count) + 1
        member.spend_total_kopecks = int(member.spend_total_kopecks) + request.amount_kopecks
        member.last_purchase_at = max(occurred_at, member.last_purchase_at or occurred_at)
        result = PurchaseResult(
            transaction_id=request.transaction_id,
            member_id=member_id,
            points_earned=earning.points,
            breakdown=[RuleAwardView(rule=a.rule, points=a.points) for a in earning.breakdown],
            reason=earning.reason,
            lot=LotView(expires_on=lot.expires_on, available_on=lot.available_on) if lot else None,
            program_version=versioned.version,
            balance=after.balance,
            spendable=max(after.spendable(today), 0),
            pending=after.pending(today),
        )
        entry = new_entry(
            member,
            kind="earn",
            points=earning.points,
            operation=f"purchase:{request.transaction_id}",
            now=now,
            lot_key=lot.encode() if lot else None,
            lot_points=kept if lot else None,
            details={
                "transaction_id": request.transaction_id,
                "amount_kopecks": request.amount_kopecks,
                "eligible_kopecks": earning.eligible_kopecks,
                "occurred_at": occurred_at.isoformat(),
                "breakdown": [{"rule": a.rule, "points": a.points} for a in earning.breakdown],
                "program_version": versioned.version,
                "store_id": request.store_id,
                "channel": request.channel,
            },
        )
        operation = OperationItem(
            op_pk,
            OP_SK,
            kind="purchase",
            merchant_id=merchant_id,
            member_key=member.pk,
            request_hash=request_hash(request),
            created_at=now,
            response=result.model_dump(mode="json"),
            state={
                "member_id": member_id,
                "points": earning.points,
                "amount_kopecks": request.amount_kopecks,
                "refunded_kopecks": 0,
                "refunded_points": 0,
                "lot_key": lot.encode() if lot else None,
            },
        )
        write = MemberWrite(
            member,
            read_version,
            entries=[entry],
            new_operation=operation,
            puts=list(expiry_queue_items(member, before, after)),
        )
        return write, result

    return apply_change(merchant_id, member_id, build, PurchaseResult, operation=(op_pk, request_hash(request)))


def refund(merchant_id: str, transaction_id: str, request: RefundRequest, now: datetime) -> tuple[RefundResult, bool]:
    purchase_pk = operation_pk(merchant_id, "purchase", transaction_id)
    purchase_op = get_operation(purchase_pk)
    if purchase_op is None:
        raise NotFound("purchase not found", code="purchase_not_found")
    member_id = str(purchase_op.state["member_id"])
    op_pk = operation_pk(merchant_id, "refund", transaction_id, request.refund_id)
    today = now.date()

    def build(member: MemberItem) -> tuple[MemberWrite, RefundResult]:
        read_version = int(member.version)
        purchase = get_operation(purchase_pk)
        assert purchase is not None  # operation records are never deleted
        state = dict(purchase.state)
        amount, refunded = int(state["amount_kopecks"]), int(state["refunded_kopecks"])
        if refunded + request.amount_kopecks > amount:
            raise RuleViolation(
                "refunds would exceed the purchase",
                code="refund_exceeds_purchase",
                details={"purchase_kopecks": amount, "already_refunded_kopecks": refunded},
            )
        points = refund_clawback(int(state["points"]), amount, refunded, request.amount_kopecks)
        before = wallet_of(member).matured(today)
        preferred = LotKey.decode(state["lot_key"]) if state.get("lot_key") else None
        after, allocation, debt_added = before.claw_back(points, preferred, today) if points else (before, {}, 0)
        member.lots, member.debt, member.balance = dict(after.lots), after.debt, after.balance
        member.spend_total_kopecks = int(member.spend_total_kopecks) - request.amount_kopecks
        state["refunded_kopecks"] = refunded + request.amount_kopecks
        state["refunded_points"] = int(state["refunded_points"]) + points
        purchase.state = state
        purchase.updated_at = now
        result = RefundResult(
            transaction_id=transaction_id,
            refund_id=request.refund_id,
            member_id=member_id,
            points_clawed_back=points,
            debt_added=debt_added,
            refunded_kopecks_total=state["refunded_kopecks"],
            balance=after.balance,
            spendable=after.spendable(today),
        )
        entry = new_entry(
            member,
            kind="refund",
            points=-points,
            operation=f"refund:{transaction_id}:{request.refund_id}",
            now=now,
            allocation=allocation,
            details={
                "transaction_id": transaction_id,
                "refund_id": request.refund_id,
                "amount_kopecks": request.amount_kopecks,
                "debt_added": debt_added,
            },
        )
        operation = OperationItem(
            op_pk,
            OP_SK,
            kind="refund",
            merchant_id=merchant_id,
            member_key=member.pk,
            request_hash=request_hash(request),
            created_at=now,
            response=result.model_dump(mode="json"),
            state={"member_id": member_id, "points": points},
        )
        write = MemberWrite(
            member,
            read_version,
            entries=[entry],
            new_operation=operation,
            updated_operation=(purchase, int(purchase.version)),
        )
        return write, result

    return apply_change(merchant_id, member_id, build, RefundResult, operation=(op_pk, request_hash(request)))
