"""Gift cards through SevenDar: orders are stored first (and paid, by money reference or points),
submitted by the gift-card queue worker, moved through their statuses by SevenDar's signed
webhooks; a delivered gift card is stored value, spent at the till, never below zero."""

from __future__ import annotations

import contextlib
import json
import math
import secrets
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from loyalty.api.gift_cards import (
    GiftCardOrderRequest,
    GiftCardOrderView,
    GiftCardRedeemRequest,
    GiftCardRedemptionView,
    GiftCardView,
    StatusChange,
    WebhookAck,
)
from loyalty.clock import add_months, isoformat
from loyalty.data.connection import connection
from loyalty.data.models import (
    GiftCardEntryItem,
    GiftCardItem,
    GiftCardOrderItem,
    LookupItem,
    MemberItem,
    OperationItem,
    WebhookEventItem,
)
from loyalty.data.unit_of_work import MemberWrite
from loyalty.domain.cards import new_card_number
from loyalty.errors import Conflict, InsufficientPoints, InvalidRequest, NotFound, RuleViolation
from loyalty.ids import new_id
from loyalty.pii.cipher import PiiCipher
from loyalty.pii.contact import is_russian_mobile, normalise_email, normalise_phone
from loyalty.services.ledger import (
    OP_SK,
    Draft,
    apply_change,
    get_operation,
    operation_pk,
    operation_record,
    request_hash,
)
from loyalty.services.members import ensure_active
from loyalty.services.merchants import programs
from loyalty.sevendar.client import (
    Address,
    Delivery,
    NewOrder,
    PrintedCard,
    Recipient,
    SevenDar,
    SevenDarRejected,
)
from loyalty.sevendar.webhooks import WebhookEvent

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12  # 60 bits: a code is a bearer secret
VALID_MONTHS = 12
ORDER_SK = "ORDER"
CARD_SK = "CARD"
PROGRESSION = ("created", "submitted", "in_production", "shipped", "delivered")
FINAL = ("delivered", "failed", "cancelled")
FROM_SEVENDAR = {"accepted": "submitted"}


# ---- keys and codes ------------------------------------------------------------------------
def order_pk(merchant_id: str, order_id: str) -> str:
    return f"ORDER#{merchant_id}#{order_id}"


def reference_pk(reference: str) -> str:
    return f"SDREF#{reference}"


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def new_gift_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def card_pk(merchant_id: str, code: str, cipher: PiiCipher) -> str:
    return f"GC#{merchant_id}#{cipher.lookup_hash('gift-card', normalise_code(code))}"


# ---- views ---------------------------------------------------------------------------------
def order_view(order: GiftCardOrderItem) -> GiftCardOrderView:
    return GiftCardOrderView(
        order_id=order.order_id,
        kind=order.kind,
        status=order.status,
        quantity=int(order.quantity),
        nominal_kopecks=int(order.nominal_kopecks) if order.nominal_kopecks is not None else None,
        points_paid=int(order.payment.get("points", 0)),
        tracking_number=order.tracking_number,
        failure_reason=order.failure_reason,
        card_numbers=list(order.card_numbers or []),
        history=[StatusChange(status=h["status"], at=h["at"]) for h in order.history or []],
        created_at=order.created_at,
    )


def get_order(merchant_id: str, order_id: str) -> GiftCardOrderItem:
    try:
        return GiftCardOrderItem.get(order_pk(merchant_id, order_id), ORDER_SK, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("gift-card order not found", code="order_not_found") from exc


# ---- placing an order ----------------------------------------------------------------------
def _private(request: GiftCardOrderRequest, codes: list[str]) -> dict[str, Any]:
    recipient = request.recipient
    phone = None
    if recipient.phone:
        phone = normalise_phone(recipient.phone)
        if not is_russian_mobile(phone):
            raise InvalidRequest(
                "recipient.phone must be a Russian mobile number", details={"field": "recipient.phone"}
            )
    return {
        "recipient": {
            "name": recipient.name,
            "phone": phone,
            "email": normalise_email(recipient.email) if recipient.email else None,
        },
        "address": request.delivery.address.model_dump() if request.delivery.address else None,
        "greeting": request.greeting,
        "codes": codes,
    }


def place_order(
    merchant_id: str, request: GiftCardOrderRequest, now: datetime, cipher: PiiCipher
) -> tuple[GiftCardOrderView, bool]:
    digest = request_hash(request)
    pk = order_pk(merchant_id, request.order_id)
    reference = new_id("gco")
    if request.kind == "gift_card":
        codes = [new_gift_code() for _ in range(request.quantity)]
        card_numbers: list[str] = []
    else:
        codes = card_numbers = [new_card_number() for _ in range(request.quantity)]
    private = _private(request, codes)
    order = GiftCardOrderItem(
        pk,
        ORDER_SK,
        merchant_id=merchant_id,
        order_id=request.order_id,
        kind=request.kind,
        status="created",
        quantity=request.quantity,
        nominal_kopecks=request.nominal_kopecks,
        design_id=request.design_id,
        artwork_url=request.artwork_url,
        delivery_method=request.delivery.method,
        private_enc=cipher.encrypt(json.dumps(private, ensure_ascii=False), context=pk),
        payment={
            "method": request.payment.method,
            "reference": request.payment.reference,
            "member_id": request.payment.member_id,
            "points": 0,
            "sevendar_reference": reference,
        },
        request_hash=digest,
        history=[{"status": "created", "at": isoformat(now)}],
        card_numbers=card_numbers,
        created_at=now,
    )
    expires_on = add_months(now.date(), VALID_MONTHS).isoformat()
    cards = [
        GiftCardItem(
            card_pk(merchant_id, code, cipher),
            CARD_SK,
            merchant_id=merchant_id,
            order_id=request.order_id,
            code_hint=code[-4:],
            status="pending",
            nominal_kopecks=request.nominal_kopecks or 0,
            balance_kopecks=0,
            expires_on=expires_on,
            created_at=now,
        )
        for code in codes
        if request.kind == "gift_card"
    ]
    mapping = LookupItem(reference_pk(reference), "LOOKUP", member_id=pk)  # reference -> our order
    if request.payment.method == "points":
        return _place_paid_by_points(merchant_id, request, order, [mapping, *cards], now, digest)
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(order, condition=GiftCardOrderItem.pk.does_not_exist())
            for item in [mapping, *cards]:
                tx.save(item, condition=type(item).pk.does_not_exist())
    except TransactWriteError as exc:
        return _replay(merchant_id, request.order_id, digest, exc)
    return order_view(order), False


def _replay(merchant_id: str, order_id: str, digest: str, exc: Exception) -> tuple[GiftCardOrderView, bool]:
    existing = get_order(merchant_id, order_id)
    if existing.request_hash != digest:
        raise Conflict("this order id was used for another order", code="idempotency_conflict") from exc
    return order_view(existing), True


def points_cost(merchant_id: str, request: GiftCardOrderRequest) -> int:
    value = programs.get(merchant_id).program.unit_value_kopecks
    return math.ceil((request.nominal_kopecks or 0) * request.quantity / value)


def _place_paid_by_points(
    merchant_id: str,
    request: GiftCardOrderRequest,
    order: GiftCardOrderItem,
    items: list[Any],
    now: datetime,
    digest: str,
) -> tuple[GiftCardOrderView, bool]:
    member_id = str(request.payment.member_id)
    cost = points_cost(merchant_id, request)
    order.payment = {**order.payment, "points": cost}
    op_pk = operation_pk(merchant_id, "giftcard", request.order_id)

    def build(member: MemberItem) -> tuple[MemberWrite, GiftCardOrderView]:
        ensure_active(member)
        draft = Draft(member, now)
        draft.debit(
            cost,
            kind="gift_card",
            operation=f"gift-card-order:{request.order_id}",
            details={
                "order_id": request.order_id,
                "quantity": request.quantity,
                "nominal_kopecks": request.nominal_kopecks,
            },
        )
        member.spent_total = int(member.spent_total) + cost
        draft.creates.extend([order, *items])
        view = order_view(order)
        operation = operation_record(
            op_pk, "giftcard", member, digest, now, view, {"member_id": member_id, "points": cost}
        )
        return draft.finish(new_operation=operation), view

    return apply_change(merchant_id, member_id, build, GiftCardOrderView, operation=(op_pk, digest))


# ---- submitting to SevenDar (the gift-card queue worker) -----------------------------------
def submit(order_key: str, sevendar: SevenDar, callback_url: str, cipher: PiiCipher, now: datetime) -> str:
    """Place the stored order with SevenDar, once (SevenDar dedupes on the idempotency key, which
    is our reference for the order). Unavailability raises, and the queue retries with back-off."""
    order = GiftCardOrderItem.get(order_key, ORDER_SK, consistent_read=True)
    if order.status != "created":
        return order.status  # submitted before: a redelivered message
    private = json.loads(cipher.decrypt(order.private_enc, context=order_key))
    address = private.get("address")
    new_order = NewOrder(
        reference=str(order.payment["sevendar_reference"]),
        kind=order.kind,
        cards=tuple(
            PrintedCard(code=code, nominal_kopecks=order.nominal_kopecks if order.kind == "gift_card" else None)
            for code in private["codes"]
        ),
        recipient=Recipient(**private["recipient"]),
        delivery=Delivery(method=order.delivery_method, address=Address(**address) if address else None),
        callback_url=callback_url,
        design_id=order.design_id,
        artwork_url=order.artwork_url,
        greeting=private.get("greeting"),
    )
    try:
        placed = sevendar.create_order(new_order, idempotency_key=str(order.payment["sevendar_reference"]))
    except SevenDarRejected as exc:
        _finish(order, "failed", now, cipher, reason=f"SevenDar refused the order: {exc.code}")
        return "failed"
    _move(order, "submitted", now, sevendar_order_id=placed.id)
    return "submitted"


def _move(
    order: GiftCardOrderItem,
    status: str,
    now: datetime,
    *,
    sevendar_order_id: str | None = None,
    tracking_number: str | None = None,
    extra: list[Any] | None = None,
) -> None:
    version = int(order.version)
    order.status, order.updated_at, order.version = status, now, version + 1
    order.history = [*(order.history or []), {"status": status, "at": isoformat(now)}]
    order.sevendar_order_id = sevendar_order_id or order.sevendar_order_id
    order.tracking_number = tracking_number or order.tracking_number
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(order, condition=GiftCardOrderItem.version == version)
            for item in extra or []:
                tx.save(item)
    except TransactWriteError as exc:
        raise Conflict("the order changed meanwhile; retry", code="busy") from exc


def _finish(
    order: GiftCardOrderItem,
    status: str,
    now: datetime,
    cipher: PiiCipher,
    reason: str | None = None,
    webhook: WebhookEventItem | None = None,
) -> None:
    """failed or cancelled: void the cards and give the points back."""
    private = json.loads(cipher.decrypt(order.private_enc, context=order.pk))
    voided = []
    if order.kind == "gift_card":
        for code in private["codes"]:
            card = GiftCardItem.get(card_pk(order.merchant_id, code, cipher), CARD_SK)
            card.status = "void"
            voided.append(card)
    order.failure_reason = reason
    _move(order, status, now, extra=[*voided, *([webhook] if webhook else [])])
    points = int(order.payment.get("points", 0))
    if points:
        _refund_points(order, points, now)


def _refund_points(order: GiftCardOrderItem, points: int, now: datetime) -> None:
    member_id = str(order.payment["member_id"])
    op_pk = operation_pk(order.merchant_id, "giftcard-refund", order.order_id)
    program = programs.get(order.merchant_id).program

    def build(member: MemberItem) -> tuple[MemberWrite, WebhookAck]:
        from loyalty.domain.wallet import lot_for

        draft = Draft(member, now)
        draft.credit(
            points,
            lot_for(draft.today, program.expiry_months, 0),
            kind="gift_card_refund",
            operation=f"gift-card-order:{order.order_id}",
            details={"order_id": order.order_id},
        )
        member.spent_total = int(member.spent_total) - points
        ack = WebhookAck(received=True)
        operation = operation_record(op_pk, "giftcard-refund", member, order.order_id, now, ack, {"points": points})
        return draft.finish(new_operation=operation), ack

    with contextlib.suppress(NotFound):  # the member left: the points are gone with them
        apply_change(order.merchant_id, member_id, build, WebhookAck, operation=(op_pk, order.order_id))


# ---- webhooks ------------------------------------------------------------------------------
def apply_webhook(event: WebhookEvent, now: datetime, cipher: PiiCipher) -> WebhookAck:
    seen_pk = f"WEBHOOK#sevendar#{event.event_id}"
    try:
        WebhookEventItem.get(seen_pk, "W", consistent_read=True)
        return WebhookAck(received=True, duplicate=True)
    except DoesNotExist:
        pass
    try:
        order_key = LookupItem.get(reference_pk(event.reference), "LOOKUP").member_id
        order = GiftCardOrderItem.get(order_key, ORDER_SK, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("no such order", code="unknown_order") from exc
    status = FROM_SEVENDAR.get(event.status, event.status)
    seen = WebhookEventItem(seen_pk, "W", received_at=now, expires_at=int((now + timedelta(days=30)).timestamp()))
    if status not in (*PROGRESSION, "failed", "cancelled"):
        raise InvalidRequest(f"unknown status {event.status!r}", code="unknown_status")
    if order.status in FINAL:
        if status == order.status:
            return WebhookAck(received=True, duplicate=True)
        raise Conflict(f"the order is {order.status}; it cannot become {status}", code="illegal_transition")
    if status in ("failed", "cancelled"):
        _finish(order, status, now, cipher, reason=f"SevenDar: {status}", webhook=seen)
        return WebhookAck(received=True)
    if PROGRESSION.index(status) <= PROGRESSION.index(order.status):
        return WebhookAck(received=True, ignored="stale")  # retried webhooks arrive out of order
    extra: list[Any] = [seen]
    if status == "delivered" and order.kind == "gift_card":
        extra += _activate_cards(order, now, cipher)
    _move(order, status, now, tracking_number=event.tracking_number, extra=extra)
    return WebhookAck(received=True)


def _activate_cards(order: GiftCardOrderItem, now: datetime, cipher: PiiCipher) -> list[Any]:
    private = json.loads(cipher.decrypt(order.private_enc, context=order.pk))
    items: list[Any] = []
    for code in private["codes"]:
        card = GiftCardItem.get(card_pk(order.merchant_id, code, cipher), CARD_SK)
        card.status, card.balance_kopecks = "active", card.nominal_kopecks
        items.append(card)
        items.append(
            _card_entry(
                card, "issued", int(card.nominal_kopecks), int(card.nominal_kopecks), f"order:{order.order_id}", now
            )
        )
    return items


def _card_entry(
    card: GiftCardItem, kind: str, amount: int, balance: int, reference: str, now: datetime
) -> GiftCardEntryItem:
    return GiftCardEntryItem(
        f"GCL#{str(card.pk)[3:]}",
        f"{isoformat(now)}#{new_id('gce')}",
        merchant_id=card.merchant_id,
        kind=kind,
        amount_kopecks=amount,
        balance_after=balance,
        reference=reference,
        created_at=now,
    )


# ---- stored value at the till --------------------------------------------------------------
def _card(merchant_id: str, code: str, cipher: PiiCipher) -> GiftCardItem:
    try:
        return GiftCardItem.get(card_pk(merchant_id, code, cipher), CARD_SK, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("gift card not found", code="gift_card_not_found") from exc


def card_view(code: str, card: GiftCardItem, now: datetime) -> GiftCardView:
    status = "void" if card.status == "active" and card.expires_on < now.date().isoformat() else card.status
    return GiftCardView(
        code=format_code(normalise_code(code)),
        status=status,
        nominal_kopecks=int(card.nominal_kopecks),
        balance_kopecks=int(card.balance_kopecks),
        expires_on=card.expires_on,
    )


def get_card(merchant_id: str, code: str, now: datetime, cipher: PiiCipher) -> GiftCardView:
    return card_view(code, _card(merchant_id, code, cipher), now)


def redeem(
    merchant_id: str, code: str, request: GiftCardRedeemRequest, now: datetime, cipher: PiiCipher
) -> tuple[GiftCardRedemptionView, bool]:
    """Spend part of a card's value, once per redemption id, never below zero: the balance is
    checked in the write itself, so concurrent tills cannot overspend."""
    pk = card_pk(merchant_id, code, cipher)
    op_pk = operation_pk(merchant_id, "giftcard-redeem", pk[3:], request.redemption_id)
    digest = request_hash(request)
    for _ in range(10):
        card = _card(merchant_id, code, cipher)
        if card.status != "active" or card.expires_on < now.date().isoformat():
            raise RuleViolation(f"this gift card is not active ({card.status})", code="gift_card_not_active")
        if int(card.balance_kopecks) < request.amount_kopecks:
            previous = get_operation(op_pk)
            if previous is not None:
                return _replayed(previous, digest)
            raise InsufficientPoints(
                "not enough value on the card",
                code="insufficient_funds",
                details={"balance_kopecks": int(card.balance_kopecks)},
            )
        balance = int(card.balance_kopecks) - request.amount_kopecks
        view = GiftCardRedemptionView(
            code=format_code(normalise_code(code)),
            redemption_id=request.redemption_id,
            amount_kopecks=request.amount_kopecks,
            balance_kopecks=balance,
        )
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(
                    OperationItem(
                        op_pk,
                        OP_SK,
                        kind="giftcard-redeem",
                        merchant_id=merchant_id,
                        member_key="",
                        request_hash=digest,
                        created_at=now,
                        response=view.model_dump(mode="json"),
                    ),
                    condition=OperationItem.pk.does_not_exist(),
                )
                tx.update(
                    card,
                    actions=[GiftCardItem.balance_kopecks.add(-request.amount_kopecks)],
                    condition=(GiftCardItem.balance_kopecks >= request.amount_kopecks)
                    & (GiftCardItem.status == "active"),
                )
                tx.save(
                    _card_entry(
                        card, "redeemed", -request.amount_kopecks, balance, f"redemption:{request.redemption_id}", now
                    )
                )
        except TransactWriteError as exc:
            reasons = [getattr(r, "code", None) for r in (exc.cancellation_reasons or [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                previous = get_operation(op_pk)
                if previous is not None:
                    return _replayed(previous, digest)
            continue  # another till spent from the card meanwhile: look again
        return view, False
    raise Conflict("the card is busy; retry", code="busy")


def _replayed(previous: OperationItem, digest: str) -> tuple[GiftCardRedemptionView, bool]:
    if previous.request_hash != digest:
        raise Conflict("this redemption id was used with another request", code="idempotency_conflict")
    return GiftCardRedemptionView.model_validate(previous.response), True
