"""Spending points on a check: quotes, immediate redemptions and two-phase holds.

A hold takes the points at once (so two tills cannot spend them twice) and gives them back if the
POS cancels or never confirms: every hold is queued by its expiry hour, and the release job
(or a late confirm) lapses it. Confirming or cancelling is idempotent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from loyalty.api.redemptions import QuoteRequest, QuoteResult, RedemptionRequest, RedemptionView
from loyalty.clock import isoformat
from loyalty.data.connection import connection
from loyalty.data.models import HoldQueueItem, MemberItem, OperationItem
from loyalty.data.unit_of_work import MemberWrite
from loyalty.domain.program import Mode, Program
from loyalty.errors import Conflict, NotFound, RuleViolation
from loyalty.pii.cipher import PiiCipher
from loyalty.services.ledger import (
    Draft,
    apply_change,
    get_operation,
    operation_pk,
    operation_record,
    request_hash,
)
from loyalty.services.members import ensure_active, get_member, resolve_member, wallet_of
from loyalty.services.merchants import programs
from loyalty.services.tiers import tier_discount_percent

HOLD_QUEUE_LOOKBACK_HOURS = 24


def hold_queue_item(merchant_id: str, redemption_id: str, expires_at: datetime) -> HoldQueueItem:
    return HoldQueueItem(
        f"HOLDQ#{expires_at.strftime('%Y-%m-%dT%H')}",
        f"{isoformat(expires_at)}#{merchant_id}#{redemption_id}",
        merchant_id=merchant_id,
        redemption_id=redemption_id,
    )


def max_points_for_check(program: Program, amount_kopecks: int) -> int:
    """The redemption cap: points may pay at most ``redemption_cap_percent`` of the check."""
    if program.mode is Mode.DISCOUNT:
        return 0
    return amount_kopecks * program.redemption_cap_percent // 100 // program.unit_value_kopecks


def quote(merchant_id: str, request: QuoteRequest, now: datetime, cipher: PiiCipher) -> QuoteResult:
    member_id = resolve_member(
        merchant_id, member_id=request.member_id, card_number=request.card_number, phone=request.phone, cipher=cipher
    )
    member = get_member(merchant_id, member_id, consistent=False)
    ensure_active(member)
    program = programs.get(merchant_id).program
    spendable = max(wallet_of(member).spendable(now.date()), 0)
    max_points = min(spendable, max_points_for_check(program, request.amount_kopecks))
    if max_points < program.min_redemption_points:
        max_points = 0
    value = program.unit_value_kopecks
    discount_percent = (
        program.discount_percent if program.mode is Mode.DISCOUNT else tier_discount_percent(member, program)
    )
    chosen = min(request.points, max_points) if request.points is not None else None
    return QuoteResult(
        member_id=member_id,
        mode=program.mode.value,
        spendable=spendable,
        point_value_kopecks=value,
        cap_percent=program.redemption_cap_percent,
        max_points=max_points,
        max_discount_kopecks=max_points * value,
        points=chosen,
        discount_kopecks=chosen * value if chosen is not None else None,
        tier=member.tier,
        tier_discount_percent=discount_percent,
        tier_discount_kopecks=request.amount_kopecks * discount_percent // 100,
    )


def _view(member_id: str, state: dict[str, Any], member: MemberItem, now: datetime) -> RedemptionView:
    wallet = wallet_of(member)
    expires = state.get("hold_expires_at")
    return RedemptionView(
        redemption_id=str(state["redemption_id"]),
        member_id=member_id,
        status=state["status"],
        points=int(state["points"]),
        discount_kopecks=int(state["discount_kopecks"]),
        hold_expires_at=datetime.fromisoformat(expires) if expires else None,
        balance=wallet.balance,
        spendable=max(wallet.spendable(now.date()), 0),
    )


def redeem(
    merchant_id: str, request: RedemptionRequest, now: datetime, cipher: PiiCipher
) -> tuple[RedemptionView, bool]:
    member_id = resolve_member(
        merchant_id, member_id=request.member_id, card_number=request.card_number, phone=request.phone, cipher=cipher
    )
    program = programs.get(merchant_id).program
    if program.mode is Mode.DISCOUNT:
        raise RuleViolation("this program gives a discount, not points to spend", code="redemption_not_available")
    if request.points < program.min_redemption_points:
        raise RuleViolation(
            f"at least {program.min_redemption_points} points per redemption", code="below_min_redemption"
        )
    cap = max_points_for_check(program, request.amount_kopecks)
    if request.points > cap:
        raise RuleViolation(
            f"this check can take at most {cap} points ({program.redemption_cap_percent} %)",
            code="over_redemption_cap",
            details={"max_points": cap},
        )
    op_pk = operation_pk(merchant_id, "redemption", request.redemption_id)
    digest = request_hash(request)
    hold = request.mode == "hold"

    def build(member: MemberItem) -> tuple[MemberWrite, RedemptionView]:
        ensure_active(member)
        draft = Draft(member, now)
        allocation = draft.debit(
            request.points,
            kind="redeem",
            operation=f"redemption:{request.redemption_id}",
            details={
                "redemption_id": request.redemption_id,
                "mode": request.mode,
                "amount_kopecks": request.amount_kopecks,
                "transaction_id": request.transaction_id,
            },
        )
        member.spent_total = int(member.spent_total) + request.points
        expires_at = now + timedelta(minutes=program.hold_minutes) if hold else None
        state = {
            "redemption_id": request.redemption_id,
            "member_id": member_id,
            "points": request.points,
            "discount_kopecks": request.points * program.unit_value_kopecks,
            "amount_kopecks": request.amount_kopecks,
            "allocation": allocation,
            "status": "held" if hold else "completed",
            "hold_expires_at": expires_at.isoformat() if expires_at else None,
        }
        if expires_at is not None:
            draft.puts.append(hold_queue_item(merchant_id, request.redemption_id, expires_at))
        write = draft.finish()  # the view shows the balance after the write
        view = _view(member_id, state, member, now)
        write.new_operation = operation_record(op_pk, "redemption", member, digest, now, view, state)
        return write, view

    return apply_change(merchant_id, member_id, build, RedemptionView, operation=(op_pk, digest))


def _operation(merchant_id: str, redemption_id: str) -> OperationItem:
    operation = get_operation(operation_pk(merchant_id, "redemption", redemption_id))
    if operation is None:
        raise NotFound("redemption not found", code="redemption_not_found")
    return operation


def confirm(merchant_id: str, redemption_id: str, now: datetime) -> RedemptionView:
    for _ in range(5):
        operation = _operation(merchant_id, redemption_id)
        state = dict(operation.state)
        member_id = str(state["member_id"])
        if state["status"] == "completed":
            return _view(member_id, state, get_member(merchant_id, member_id, consistent=False), now)
        if state["status"] != "held":
            raise Conflict(f"the redemption is {state['status']}", code=f"redemption_{state['status']}")
        expires_at = datetime.fromisoformat(state["hold_expires_at"])
        if expires_at <= now:
            release(merchant_id, redemption_id, now, new_status="expired")
            raise Conflict("the hold expired and its points went back to the member", code="hold_expired")
        version = int(operation.version)
        state["status"] = "completed"
        operation.state, operation.updated_at, operation.version = state, now, version + 1
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(operation, condition=OperationItem.version == version)
                tx.delete(hold_queue_item(merchant_id, redemption_id, expires_at))
        except TransactWriteError:
            continue  # cancelled or lapsed meanwhile: look again
        return _view(member_id, state, get_member(merchant_id, member_id, consistent=False), now)
    raise Conflict("the redemption is changing; retry", code="busy")


def cancel(merchant_id: str, redemption_id: str, now: datetime) -> RedemptionView:
    operation = _operation(merchant_id, redemption_id)
    state = dict(operation.state)
    if state["status"] in ("cancelled", "expired"):
        return _view(str(state["member_id"]), state, get_member(merchant_id, str(state["member_id"])), now)
    return release(merchant_id, redemption_id, now, new_status="cancelled")


def release(merchant_id: str, redemption_id: str, now: datetime, *, new_status: str) -> RedemptionView:
    """Give a redemption's points back to the lots they came from (points of lots that expired
    meanwhile expire now, with their own ledger entry)."""
    member_id = str(_operation(merchant_id, redemption_id).state["member_id"])

    def build(member: MemberItem) -> tuple[MemberWrite, RedemptionView]:
        operation = _operation(merchant_id, redemption_id)
        state = dict(operation.state)
        if state["status"] in ("cancelled", "expired"):
            raise _AlreadyReleased(_view(member_id, state, member, now))  # someone else was first
        draft = Draft(member, now)
        points = int(state["points"])
        draft.wallet, _returned, expired = draft.wallet.give_back(state["allocation"], draft.today)
        draft.entry(
            kind="redeem_reversal",
            points=points,
            operation=f"redemption:{redemption_id}",
            allocation=state["allocation"],
            details={"redemption_id": redemption_id, "reason": new_status},
        )
        expired_points = sum(expired.values())
        if expired_points:
            draft.entry(
                kind="expire",
                points=-expired_points,
                operation=f"redemption:{redemption_id}",
                allocation=expired,
                details={"reason": "returned_after_expiry"},
            )
        member.spent_total = int(member.spent_total) - points
        if state["status"] == "held" and state.get("hold_expires_at"):
            expires_at = datetime.fromisoformat(state["hold_expires_at"])
            draft.deletes.append(hold_queue_item(merchant_id, redemption_id, expires_at))
        state["status"] = new_status
        operation.state, operation.updated_at = state, now
        write = draft.finish(updated_operation=(operation, int(operation.version)))
        return write, _view(member_id, state, member, now)

    try:
        view, _ = apply_change(merchant_id, member_id, build, RedemptionView, operation=None)
    except _AlreadyReleased as done:
        return done.view
    return view


class _AlreadyReleased(Exception):
    def __init__(self, view: RedemptionView) -> None:
        super().__init__("already released")
        self.view = view


def release_expired_holds(now: datetime, deadline_ok: Any = None) -> dict[str, int]:
    """Lapse every hold whose time is up (the ``release-holds`` schedule). Reads only the hold
    queue of the last ``HOLD_QUEUE_LOOKBACK_HOURS`` hours: the work grows with open holds, not
    with members or redemptions."""
    released = skipped = 0
    for hours_back in range(HOLD_QUEUE_LOOKBACK_HOURS, -1, -1):
        bucket = (now - timedelta(hours=hours_back)).strftime("%Y-%m-%dT%H")
        for item in HoldQueueItem.query(f"HOLDQ#{bucket}", HoldQueueItem.sk <= f"{isoformat(now)}~"):
            if deadline_ok is not None and not deadline_ok():
                return {"released": released, "skipped": skipped, "complete": 0}
            operation = get_operation(operation_pk(item.merchant_id, "redemption", item.redemption_id))
            if operation is not None and operation.state.get("status") == "held":
                release(item.merchant_id, item.redemption_id, now, new_status="expired")
                released += 1
            else:
                item.delete()
                skipped += 1
    return {"released": released, "skipped": skipped, "complete": 1}
