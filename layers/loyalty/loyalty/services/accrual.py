"""Purchases earn points; refunds take back the points of the refunded part.

A purchase's one transaction also carries what it triggers: a tier upgrade, the invited member's
referral bonus on their first qualifying purchase, and a coupon for every stamp card it fills.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from loyalty.api.purchases import (
    LotView,
    PurchaseRequest,
    PurchaseResult,
    RefundRequest,
    RefundResult,
    RuleAwardView,
)
from loyalty.data.models import MemberItem, as_plain_map
from loyalty.data.unit_of_work import MemberWrite
from loyalty.domain.earning import Line, Purchase, compute_earning, refund_clawback
from loyalty.domain.program import Program
from loyalty.domain.stamps import add_stamps
from loyalty.domain.wallet import LotKey, lot_for
from loyalty.errors import InvalidRequest, NotFound, RuleViolation
from loyalty.pii.cipher import PiiCipher
from loyalty.services.ledger import (
    Draft,
    apply_change,
    get_operation,
    operation_pk,
    operation_record,
    request_hash,
)
from loyalty.services.members import ensure_active, resolve_member
from loyalty.services.merchants import programs
from loyalty.services.rewards import issue_coupon
from loyalty.services.tiers import record_activity, tier_benefit, upgrade_if_qualified

MAX_CLOCK_SKEW = timedelta(minutes=5)


def bonus_lot(program: Program, draft: Draft) -> LotKey:
    """Bonuses expire like purchases but have no return window."""
    return lot_for(draft.today, program.expiry_months, 0)


def _referral_bonus(draft: Draft, program: Program, amount_kopecks: int, operation: str) -> None:
    member = draft.member
    bonuses = program.bonuses
    if member.referred_by is None or member.referral_done or amount_kopecks < bonuses.referral_min_purchase_kopecks:
        return
    if not (bonuses.referred_points or bonuses.referrer_points):
        return
    member.referral_done = True
    # The entry also tells the bonus worker (through the ledger stream) to reward the referrer.
    draft.credit(
        bonuses.referred_points,
        bonus_lot(program, draft),
        kind="bonus",
        operation=operation,
        details={"bonus": "referral", "role": "referred", "referrer_id": member.referred_by},
    )


def _stamp_cards(draft: Draft, program: Program, lines: tuple[Line, ...], operation: str) -> list[str]:
    if not program.stamp_cards:
        return []
    stamps = {card: int(count) for card, count in as_plain_map(draft.member.stamps).items()}
    updated, completed = add_stamps(program.stamp_cards, stamps, lines)
    draft.member.stamps = updated
    codes = []
    for done in completed:
        for _ in range(done.coupons):
            coupon = issue_coupon(
                draft,
                reward_id=f"stamp:{done.card.id}",
                reward_name=done.card.reward_name,
                valid_days=done.card.coupon_valid_days,
                points=0,
                operation=operation,
            )
            codes.append(coupon.code)
    return codes


def accrue(merchant_id: str, request: PurchaseRequest, now: datetime, cipher: PiiCipher) -> tuple[PurchaseResult, bool]:
    occurred_at = request.occurred_at or now
    if occurred_at.tzinfo is None:
        raise InvalidRequest("occurred_at needs a time zone offset", details={"field": "occurred_at"})
    if occurred_at > now + MAX_CLOCK_SKEW:
        raise InvalidRequest("occurred_at is in the future", details={"field": "occurred_at"})
    member_id = resolve_member(
        merchant_id, member_id=request.member_id, card_number=request.card_number, phone=request.phone, cipher=cipher
    )
    versioned = programs.get(merchant_id)
    program = versioned.program
    lines = tuple(Line(line.amount_kopecks, line.category, line.reward, line.quantity) for line in request.lines or ())
    purchase = Purchase(amount_kopecks=request.amount_kopecks, occurred_at=occurred_at, lines=lines)
    op_pk = operation_pk(merchant_id, "purchase", request.transaction_id)
    digest = request_hash(request)
    operation_name = f"purchase:{request.transaction_id}"

    def build(member: MemberItem) -> tuple[MemberWrite, PurchaseResult]:
        ensure_active(member)
        draft = Draft(member, now)
        last = member.last_purchase_at
        first_in_month = last is None or (last.year, last.month) != (occurred_at.year, occurred_at.month)
        earning = compute_earning(program, purchase, tier_benefit(member, program))
        lot = lot_for(draft.today, program.expiry_months, program.pending_days)
        draft.credit(
            earning.points,
            lot,
            kind="earn",
            operation=operation_name,
            details={
                "transaction_id": request.transaction_id,
                "amount_kopecks": request.amount_kopecks,
                "eligible_kopecks": earning.eligible_kopecks,
                "occurred_at": occurred_at.isoformat(),
                "breakdown": [{"rule": a.rule, "points": a.points} for a in earning.breakdown],
                "program_version": versioned.version,
                "first_in_month": first_in_month,
                "store_id": request.store_id,
                "channel": request.channel,
            },
        )
        member.earned_total = int(member.earned_total) + earning.points
        member.purchases_count = int(member.purchases_count) + 1
        member.spend_total_kopecks = int(member.spend_total_kopecks) + request.amount_kopecks
        member.last_purchase_at = max(occurred_at, member.last_purchase_at or occurred_at)
        record_activity(
            member,
            spend_on=occurred_at.date(),
            spend=request.amount_kopecks,
            earned_on=draft.today,
            earned=earning.points,
        )
        _referral_bonus(draft, program, request.amount_kopecks, operation_name)
        coupons = _stamp_cards(draft, program, purchase.effective_lines() if lines else (), operation_name)
        upgrade_if_qualified(draft, program, operation_name)
        wallet = draft.wallet
        result = PurchaseResult(
            transaction_id=request.transaction_id,
            member_id=member_id,
            points_earned=earning.points,
            breakdown=[RuleAwardView(rule=a.rule, points=a.points) for a in earning.breakdown],
            reason=earning.reason,
            lot=LotView(expires_on=lot.expires_on, available_on=lot.available_on) if earning.points else None,
            program_version=versioned.version,
            balance=wallet.balance,
            spendable=max(wallet.spendable(draft.today), 0),
            pending=wallet.pending(draft.today),
            tier=member.tier,
            coupons=coupons,
            stamps={k: int(v) for k, v in as_plain_map(member.stamps).items()},
        )
        state = {
            "member_id": member_id,
            "points": earning.points,
            "amount_kopecks": request.amount_kopecks,
            "occurred_on": occurred_at.date().isoformat(),
            "refunded_kopecks": 0,
            "refunded_points": 0,
            "lot_key": lot.encode() if earning.points else None,
        }
        operation = operation_record(op_pk, "purchase", member, digest, now, result, state)
        return draft.finish(new_operation=operation), result

    return apply_change(merchant_id, member_id, build, PurchaseResult, operation=(op_pk, digest))


def refund(merchant_id: str, transaction_id: str, request: RefundRequest, now: datetime) -> tuple[RefundResult, bool]:
    purchase_pk = operation_pk(merchant_id, "purchase", transaction_id)
    purchase_op = get_operation(purchase_pk)
    if purchase_op is None:
        raise NotFound("purchase not found", code="purchase_not_found")
    member_id = str(purchase_op.state["member_id"])
    op_pk = operation_pk(merchant_id, "refund", transaction_id, request.refund_id)
    digest = request_hash(request)

    def build(member: MemberItem) -> tuple[MemberWrite, RefundResult]:
        purchase = get_operation(purchase_pk)
        if purchase is None:
            raise NotFound("purchase not found", code="purchase_not_found")
        state = dict(purchase.state)
        amount, refunded = int(state["amount_kopecks"]), int(state["refunded_kopecks"])
        if refunded + request.amount_kopecks > amount:
            raise RuleViolation(
                "refunds would exceed the purchase",
                code="refund_exceeds_purchase",
                details={"purchase_kopecks": amount, "already_refunded_kopecks": refunded},
            )
        draft = Draft(member, now)
        points = refund_clawback(int(state["points"]), amount, refunded, request.amount_kopecks)
        preferred = LotKey.decode(state["lot_key"]) if state.get("lot_key") else None
        draft.wallet, allocation, debt_added = (
            draft.wallet.claw_back(points, preferred, draft.today) if points else (draft.wallet, {}, 0)
        )
        draft.entry(
            kind="refund",
            points=-points,
            operation=f"refund:{transaction_id}:{request.refund_id}",
            allocation=allocation,
            details={
                "transaction_id": transaction_id,
                "refund_id": request.refund_id,
                "amount_kopecks": request.amount_kopecks,
                "debt_added": debt_added,
            },
        )
        member.spend_total_kopecks = int(member.spend_total_kopecks) - request.amount_kopecks
        occurred_on = datetime.fromisoformat(state.get("occurred_on") or now.date().isoformat()).date()
        record_activity(
            member,
            spend_on=occurred_on,
            spend=-request.amount_kopecks,
            earned_on=purchase.created_at.date(),
            earned=-points,
        )
        state["refunded_kopecks"] = refunded + request.amount_kopecks
        state["refunded_points"] = int(state["refunded_points"]) + points
        purchase.state, purchase.updated_at = state, now
        result = RefundResult(
            transaction_id=transaction_id,
            refund_id=request.refund_id,
            member_id=member_id,
            points_clawed_back=points,
            debt_added=debt_added,
            refunded_kopecks_total=state["refunded_kopecks"],
            balance=draft.wallet.balance,
            spendable=draft.wallet.spendable(draft.today),
        )
        operation = operation_record(
            op_pk, "refund", member, digest, now, result, {"member_id": member_id, "points": points}
        )
        return draft.finish(new_operation=operation, updated_operation=(purchase, int(purchase.version))), result

    return apply_change(merchant_id, member_id, build, RefundResult, operation=(op_pk, digest))
