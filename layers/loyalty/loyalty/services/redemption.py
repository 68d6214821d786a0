"""Spending points on a check: quotes, immediate redemptions and two-phase holds.

A hold takes the points at once (so two tills cannot spend them twice) and gives them back if the
POS cancels or never confirms: every hold is queued by its expiry hour, and the release job
(or a late confirm) lapses it. Confirming or cancelling is idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from loyalty.api.redemptions import QuoteRequest, QuoteResult, RedemptionRequest, RedemptionView
from loyalty.data import members, operations
from loyalty.data.operations import OPEN, Operation, OperationKey
from loyalty.data.transaction import Contended, Stale, Transaction
from loyalty.domain.member import Member
from loyalty.domain.membership import tier_discount_percent
from loyalty.domain.program import Mode, Program
from loyalty.domain.spending import check_redemption, max_points_for_check
from loyalty.domain.spending import redeem as redeem_points
from loyalty.domain.spending import release as release_points
from loyalty.errors import Busy, Conflict, NotFound
from loyalty.pii.cipher import PiiCipher
from loyalty.services.changes import Decision, Unchanged, apply_change
from loyalty.services.idempotency import ClientRequest
from loyalty.services.member_lookup import Found, named, on_member
from loyalty.services.members import get_active
from loyalty.services.merchants import programs

HOLD_QUEUE_LOOKBACK_HOURS = 24
REDEMPTION = "redemption"


def quote(merchant_id: str, request: QuoteRequest, now: datetime, cipher: PiiCipher) -> QuoteResult:
    who = named(member_id=request.member_id, card_number=request.card_number, phone=request.phone, cipher=cipher)
    return on_member(merchant_id, who, lambda found: _quote(merchant_id, found, request, now))


def _quote(merchant_id: str, found: Found, request: QuoteRequest, now: datetime) -> QuoteResult:
    member_id = found.member_id
    member = get_active(merchant_id, member_id, check=found.check)
    program = programs.get(merchant_id).program
    spendable = max(member.wallet.spendable(now.date()), 0)
    max_points = min(spendable, max_points_for_check(program, request.amount_kopecks))
    if max_points < program.min_redemption_points:
        max_points = 0
    value = program.unit_value_kopecks
    # A discount-card program's own discount, or the tier's if that is higher (a gold member at 12 %).
    discount_percent = tier_discount_percent(member, program)
    if program.mode is Mode.DISCOUNT:
        discount_percent = max(program.discount_percent, discount_percent)
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
        tier=member.tier.tier,
        tier_discount_percent=discount_percent,
        tier_discount_kopecks=request.amount_kopecks * discount_percent // 100,
    )


def _view(state: Mapping[str, Any], member: Member, now: datetime) -> RedemptionView:
    expires = state.get("hold_expires_at")
    return RedemptionView(
        redemption_id=str(state["redemption_id"]),
        member_id=member.member_id,
        status=state["status"],
        points=int(state["points"]),
        discount_kopecks=int(state["discount_kopecks"]),
        hold_expires_at=datetime.fromisoformat(expires) if expires else None,
        balance=member.wallet.balance,
        spendable=max(member.wallet.spendable(now.date()), 0),
    )


def redeem(
    merchant_id: str, request: RedemptionRequest, now: datetime, cipher: PiiCipher
) -> tuple[RedemptionView, bool]:
    who = named(member_id=request.member_id, card_number=request.card_number, phone=request.phone, cipher=cipher)
    program = programs.get(merchant_id).program
    check_redemption(program, request.points, request.amount_kopecks)
    return on_member(merchant_id, who, lambda found: _redeem(merchant_id, found, request, program, now))


def _redeem(
    merchant_id: str, found: Found, request: RedemptionRequest, program: Program, now: datetime
) -> tuple[RedemptionView, bool]:
    member_id = found.member_id
    client = ClientRequest.of(request, merchant_id, REDEMPTION, request.redemption_id)
    hold = request.mode == "hold"

    def decide(member: Member) -> Decision[RedemptionView]:
        found.check(member)
        redeemed = redeem_points(
            member,
            program,
            points=request.points,
            amount_kopecks=request.amount_kopecks,
            redemption_id=request.redemption_id,
            hold=hold,
            transaction_id=request.transaction_id,
            now=now,
        )
        expires_at = redeemed.hold_expires_at
        state = {
            "redemption_id": request.redemption_id,
            "member_id": member_id,
            "points": request.points,
            "discount_kopecks": request.points * program.unit_value_kopecks,
            "amount_kopecks": request.amount_kopecks,
            "allocation": dict(redeemed.allocation),
            "status": "held" if hold else "completed",
            "hold_expires_at": expires_at.isoformat() if expires_at else None,
        }

        def queue_hold(tx: Transaction) -> None:
            if expires_at is not None:
                operations.stage_hold(tx, merchant_id, request.redemption_id, expires_at)

        return Decision(
            redeemed.change,
            _view(state, redeemed.change.after, now),
            state=state,
            also=queue_hold,
            open_until=expires_at,  # confirm closes it in one write (``operations.close_open``)
        )

    return apply_change(merchant_id, member_id, decide, RedemptionView, now, client=client)


def _operation(merchant_id: str, redemption_id: str) -> Operation:
    operation = operations.get(OperationKey.of(merchant_id, REDEMPTION, redemption_id))
    if operation is None:
        raise NotFound("redemption not found", code="redemption_not_found")
    return operation


def _state(operation: Operation) -> dict[str, Any]:
    """The redemption's state with its status as it stands: a hold confirmed in one write
    (``close_open``) has its status on the record only, not in its state."""
    state = dict(operation.state)
    if operation.status not in ("done", OPEN):
        state["status"] = operation.status
    return state


def _member(merchant_id: str, state: Mapping[str, Any]) -> Member:
    return members.get(merchant_id, str(state["member_id"]), consistent=False)


def confirm(merchant_id: str, redemption_id: str, now: datetime) -> RedemptionView:
    """An open hold is closed in one conditional write that returns it, then its member is read
    for the answer: 1 read + 1 write. Its place in the hold queue is left for the release job,
    which forgets closed holds. Anything else (confirmed before, cancelled, lapsed, a record
    from before holds stayed open) is read and decided."""
    closed = operations.close_open(OperationKey.of(merchant_id, REDEMPTION, redemption_id), "completed", now)
    if closed is not None:
        state = _state(closed)
        return _view(state, _member(merchant_id, state), now)
    return _confirm_as_read(merchant_id, redemption_id, now)


def _confirm_as_read(merchant_id: str, redemption_id: str, now: datetime) -> RedemptionView:
    for _ in range(5):
        operation = _operation(merchant_id, redemption_id)
        state = _state(operation)
        if state["status"] == "completed":
            return _view(state, _member(merchant_id, state), now)
        if state["status"] != "held":
            raise Conflict(f"the redemption is {state['status']}", code=f"redemption_{state['status']}")
        expires_at = datetime.fromisoformat(state["hold_expires_at"])
        if expires_at <= now:
            release(merchant_id, redemption_id, now, new_status="expired")
            raise Conflict("the hold expired and its points went back to the member", code="hold_expired")
        state["status"] = "completed"
        tx = Transaction()
        operations.stage_update(tx, operation.updated(state, now, status="completed"))
        operations.stage_hold_closed(tx, merchant_id, redemption_id, expires_at)
        try:
            tx.commit()
        except (Stale, Contended):
            continue  # cancelled or lapsed meanwhile: look again
        return _view(state, _member(merchant_id, state), now)
    raise Busy("the redemption is changing; retry")


def cancel(merchant_id: str, redemption_id: str, now: datetime) -> RedemptionView:
    state = _state(_operation(merchant_id, redemption_id))
    if state["status"] in ("cancelled", "expired"):
        return _view(state, _member(merchant_id, state), now)
    return release(merchant_id, redemption_id, now, new_status="cancelled")


def release(merchant_id: str, redemption_id: str, now: datetime, *, new_status: str) -> RedemptionView:
    """Give a redemption's points back (cancelled, or a hold that lapsed)."""
    member_id = str(_operation(merchant_id, redemption_id).state["member_id"])

    def decide(member: Member) -> Decision[RedemptionView]:
        operation = _operation(merchant_id, redemption_id)
        state = _state(operation)
        if state["status"] in ("cancelled", "expired"):
            raise Unchanged(_view(state, member, now))  # someone else was first
        change = release_points(
            member,
            redemption_id=redemption_id,
            points=int(state["points"]),
            allocation=state["allocation"],
            reason=new_status,
            now=now,
        )
        was_held = state["status"] == "held" and state.get("hold_expires_at")
        expires_at = datetime.fromisoformat(state["hold_expires_at"]) if was_held else None
        state["status"] = new_status
        return Decision(change, _view(state, change.after, now), also=_close(operation, state, expires_at, now))

    view, _ = apply_change(merchant_id, member_id, decide, RedemptionView, now)
    return view


def _close(
    operation: Operation, state: Mapping[str, Any], hold_expires_at: datetime | None, now: datetime
) -> Callable[[Transaction], None]:
    def stage(tx: Transaction) -> None:
        operations.stage_update(tx, operation.updated(state, now, status=str(state["status"])))
        if hold_expires_at is not None:
            operations.stage_hold_closed(tx, operation.key.merchant_id, str(state["redemption_id"]), hold_expires_at)

    return stage


def release_expired_holds(now: datetime, time_left: Callable[[], bool] | None = None) -> dict[str, int]:
    """Lapse every hold whose time is up (the ``release-holds`` schedule). Reads only the hold
    queue of the last ``HOLD_QUEUE_LOOKBACK_HOURS`` hours: the work grows with the holds taken
    (confirmed ones are forgotten here, once), not with members or redemptions."""
    released = skipped = 0
    for hold in operations.holds_due(now, HOLD_QUEUE_LOOKBACK_HOURS):
        if time_left is not None and not time_left():
            return {"released": released, "skipped": skipped, "complete": 0}
        operation = operations.get(OperationKey.of(hold.merchant_id, REDEMPTION, hold.redemption_id))
        if operation is not None and _state(operation).get("status") == "held":
            release(hold.merchant_id, hold.redemption_id, now, new_status="expired")
            released += 1
        else:
            hold.forget()
            skipped += 1
    return {"released": released, "skipped": skipped, "complete": 1}
