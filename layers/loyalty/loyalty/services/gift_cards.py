"""Gift cards and plastic loyalty cards through SevenDar.

An order is checked against SevenDar's design catalog, stored first (and paid: by the shop's money
reference, or by a member's points in the same transaction), then submitted by the gift-card queue
worker and moved through its statuses by SevenDar's signed webhooks. A failed or cancelled order
gives its points back in the same transaction that records the failure. Gift cards become stored
value when delivered, and are spent at the till, never below zero.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from loyalty.api.gift_cards import (
    GiftCardOrderRequest,
    GiftCardOrderView,
    GiftCardRedeemRequest,
    GiftCardRedemptionView,
    GiftCardView,
    StatusChange,
    WebhookAck,
)
from loyalty.clock import add_months, to_millis
from loyalty.data import gift_cards, members, operations
from loyalty.data.gift_cards import CardEntryAdded, OrderCreated, OrderMoved
from loyalty.data.transaction import AlreadyExists, Contended, Stale, Transaction
from loyalty.domain.cards import new_card_number
from loyalty.domain.codes import format_code, new_code, normalise_code
from loyalty.domain.gift_cards import (
    ENDED_BADLY,
    GIFT_CODE_LENGTH,
    CardEntry,
    GiftCard,
    GiftCardOrder,
    Move,
    OrderStatus,
    Payment,
    next_move,
    status_from_supplier,
)
from loyalty.domain.gift_cards import StatusChange as OrderStatusChange
from loyalty.domain.member import Member
from loyalty.domain.spending import pay_for_gift_cards, refund_gift_card_points
from loyalty.errors import Busy, Conflict, InvalidRequest, LoyaltyError, NotFound, Unavailable
from loyalty.events import DomainEvent
from loyalty.ids import new_id
from loyalty.pii.cipher import PiiCipher
from loyalty.pii.contact import is_russian_mobile, normalise_email, normalise_phone
from loyalty.platform.observability import logger
from loyalty.services.changes import Decision, apply_change
from loyalty.services.idempotency import ClientRequest, ensure_same_request, replay
from loyalty.services.merchants import programs
from loyalty.sevendar.client import (
    Address,
    Delivery,
    Design,
    NewOrder,
    PrintedCard,
    Recipient,
    SevenDar,
    SevenDarError,
    SevenDarRejected,
)
from loyalty.sevendar.webhooks import WebhookEvent

VALID_MONTHS = 12
CARDS_PER_WRITE = 49  # a card and its first ledger line each: 98 items, under DynamoDB's 100
RESERVATIONS_PER_WRITE = 100
WEBHOOK_PROVIDER = "sevendar"


def order_view(order: GiftCardOrder) -> GiftCardOrderView:
    return GiftCardOrderView(
        order_id=order.order_id,
        kind=order.kind,
        status=order.status.value,
        quantity=order.quantity,
        nominal_kopecks=order.nominal_kopecks,
        points_paid=order.payment.points,
        tracking_number=order.tracking_number,
        failure_reason=order.failure_reason,
        card_numbers=list(order.card_numbers),
        history=[StatusChange(status=change.status.value, at=change.at) for change in order.history],
        created_at=order.created_at,
    )


def get_order(merchant_id: str, order_id: str) -> GiftCardOrder:
    order = gift_cards.get_order(merchant_id, order_id)
    if order is None:
        raise NotFound("gift-card order not found", code="order_not_found")
    return order


def _context(merchant_id: str, order_id: str) -> str:
    return f"gift-card-order:{merchant_id}:{order_id}"


def _private(order: GiftCardOrder, cipher: PiiCipher) -> dict[str, Any]:
    return dict(json.loads(cipher.decrypt(order.private_enc, context=_context(order.merchant_id, order.order_id))))


# ---- the design catalog --------------------------------------------------------------------------
class DesignCatalog:
    """SevenDar's designs, cached for ``ttl_seconds``: an order is checked against them at once.

    An order placed while SevenDar cannot be asked (and nothing is cached) is still taken, not
    lost: SevenDar itself checks it when the worker submits it, and a refusal fails the order with
    its reason (and gives any points back)."""

    def __init__(self, sevendar: Callable[[], SevenDar], ttl_seconds: float = 600) -> None:
        self._sevendar = sevendar
        self._ttl = ttl_seconds
        self._cached: tuple[float, dict[str, Design]] | None = None

    def designs(self) -> dict[str, Design] | None:
        now = time.monotonic()
        if self._cached is not None and self._cached[0] > now:
            return self._cached[1]
        try:
            designs = {design.id: design for design in self._sevendar().designs()}
        except SevenDarError:
            logger.warning("design catalog unavailable: orders are checked by SevenDar at submission")
            return self._cached[1] if self._cached is not None else None  # a stale catalog beats none
        self._cached = (now + self._ttl, designs)
        return designs

    def check(self, request: GiftCardOrderRequest) -> None:
        if request.design_id is None:
            return  # the shop's own artwork
        designs = self.designs()
        if designs is None:
            return
        design = designs.get(request.design_id)
        if design is None or design.kind != request.kind:
            raise InvalidRequest(
                f"no {request.kind} design {request.design_id!r} in SevenDar's catalog",
                details={"field": "design_id"},
            )
        nominal = request.nominal_kopecks or 0
        low, high = design.min_nominal_kopecks, design.max_nominal_kopecks
        if request.kind == "gift_card" and (
            (low is not None and nominal < low) or (high is not None and nominal > high)
        ):
            raise InvalidRequest(
                f"this design takes nominals from {low} to {high} kopecks",
                details={"field": "nominal_kopecks", "min": low, "max": high},
            )


# ---- placing an order --------------------------------------------------------------------------
def _private_data(request: GiftCardOrderRequest, codes: list[str]) -> dict[str, Any]:
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


def _new_order(
    merchant_id: str, request: GiftCardOrderRequest, digest: str, now: datetime, cipher: PiiCipher
) -> GiftCardOrder:
    if request.kind == "gift_card":
        codes = [new_code(GIFT_CODE_LENGTH) for _ in range(request.quantity)]
        card_numbers: list[str] = []
    else:
        codes = card_numbers = [new_card_number() for _ in range(request.quantity)]
    private = json.dumps(_private_data(request, codes), ensure_ascii=False)
    return GiftCardOrder(
        merchant_id=merchant_id,
        order_id=request.order_id,
        kind=request.kind,
        status=OrderStatus.CREATED,
        quantity=request.quantity,
        delivery_method=request.delivery.method,
        private_enc=cipher.encrypt(private, context=_context(merchant_id, request.order_id)),
        payment=Payment(
            method=request.payment.method,
            sevendar_reference=new_id("gco"),
            reference=request.payment.reference,
            member_id=request.payment.member_id,
        ),
        request_hash=digest,
        created_at=now,
        history=(OrderStatusChange(OrderStatus.CREATED, to_millis(now)),),
        nominal_kopecks=request.nominal_kopecks,
        design_id=request.design_id,
        artwork_url=request.artwork_url,
        card_numbers=tuple(card_numbers),
    )


def place_order(
    merchant_id: str, request: GiftCardOrderRequest, now: datetime, cipher: PiiCipher, catalog: DesignCatalog
) -> tuple[GiftCardOrderView, bool]:
    client = ClientRequest.of(request, merchant_id, "giftcard", request.order_id)
    existing = gift_cards.get_order(merchant_id, request.order_id)
    if existing is not None:
        ensure_same_request(client, existing.request_hash)
        return order_view(existing), True
    catalog.check(request)
    order = _new_order(merchant_id, request, client.digest, now, cipher)
    if request.payment.method == "points":
        return _place_paid_by_points(merchant_id, request, order, now, client)
    tx = Transaction()
    gift_cards.stage_new_order(tx, order)
    try:
        tx.commit()
    except AlreadyExists:
        placed = get_order(merchant_id, request.order_id)  # placed meanwhile by a retry of this request
        ensure_same_request(client, placed.request_hash)
        return order_view(placed), True
    return order_view(order), False


def points_cost(merchant_id: str, request: GiftCardOrderRequest) -> int:
    value = programs.get(merchant_id).program.unit_value_kopecks
    return math.ceil((request.nominal_kopecks or 0) * request.quantity / value)


def _place_paid_by_points(
    merchant_id: str, request: GiftCardOrderRequest, order: GiftCardOrder, now: datetime, client: ClientRequest
) -> tuple[GiftCardOrderView, bool]:
    member_id = str(request.payment.member_id)
    cost = points_cost(merchant_id, request)
    paid = replace(order, payment=replace(order.payment, points=cost))

    def decide(member: Member) -> Decision[GiftCardOrderView]:
        change = pay_for_gift_cards(
            member,
            points=cost,
            order_id=request.order_id,
            quantity=request.quantity,
            nominal_kopecks=request.nominal_kopecks,
            now=now,
        )
        return Decision(
            change,
            order_view(paid),
            state={"member_id": member_id, "points": cost},
            also=lambda tx: gift_cards.stage_new_order(tx, paid),
        )

    return apply_change(merchant_id, member_id, decide, GiftCardOrderView, now, client=client)


# ---- submitting to SevenDar (the gift-card queue worker) ---------------------------------------
def submit(
    merchant_id: str, order_id: str, sevendar: SevenDar, callback_url: str, cipher: PiiCipher, now: datetime
) -> str:
    """Place the stored order with SevenDar, once (SevenDar dedupes on the idempotency key, which
    is our reference for the order). Unavailability raises, and the queue retries with back-off."""
    order = get_order(merchant_id, order_id)
    if order.status is not OrderStatus.CREATED:
        return order.status.value  # submitted before: a redelivered message
    private = _private(order, cipher)
    if order.card_numbers and not _reserve_card_numbers(order, now, cipher):
        return OrderStatus.FAILED.value
    address = private.get("address")
    new_order = NewOrder(
        reference=order.payment.sevendar_reference,
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
        placed = sevendar.create_order(new_order, idempotency_key=order.payment.sevendar_reference)
    except SevenDarRejected as exc:
        finish(order, OrderStatus.FAILED, now, reason=f"SevenDar refused the order: {exc.code}")
        return OrderStatus.FAILED.value
    return _record_submission(merchant_id, order_id, placed.id, now)


def _record_submission(merchant_id: str, order_id: str, sevendar_order_id: str, now: datetime) -> str:
    """Mark the order submitted with SevenDar's id. SevenDar's own webhook may have moved the
    order first: then only its id is recorded, and nothing is lost or dead-lettered."""
    for _ in range(5):
        order = get_order(merchant_id, order_id)
        if order.status is not OrderStatus.CREATED:
            if order.sevendar_order_id is None:
                with contextlib.suppress(Stale):  # recorded by a concurrent attempt
                    gift_cards.record_supplier_id(order, sevendar_order_id)
            return order.status.value
        tx = Transaction()
        gift_cards.stage_order_change(tx, order.moved(OrderStatus.SUBMITTED, now, sevendar_order_id=sevendar_order_id))
        try:
            tx.commit()
        except (Stale, Contended):
            continue
        return OrderStatus.SUBMITTED.value
    raise Busy("the order is changing; retry")


def _reserve_card_numbers(order: GiftCardOrder, now: datetime, cipher: PiiCipher) -> bool:
    """Reserve the plastic cards' numbers for this order (idempotent); a number already taken
    fails the order with its reason (it would be printed twice)."""
    numbers = list(order.card_numbers)
    for start in range(0, len(numbers), RESERVATIONS_PER_WRITE):
        tx = Transaction()
        members.stage_card_reservations(
            tx, order.merchant_id, numbers[start : start + RESERVATIONS_PER_WRITE], order.order_id
        )
        try:
            tx.commit()
        except Stale as exc:
            finish(order, OrderStatus.FAILED, now, reason=f"{exc.what} is already in use; place the order again")
            return False
    return True


# ---- how an order ends, and webhooks -----------------------------------------------------------
def finish(
    order: GiftCardOrder, status: OrderStatus, now: datetime, *, reason: str, webhook_event_id: str | None = None
) -> None:
    """Failed or cancelled: record it and give the member's points back, in one transaction (a
    failure of either leaves both undone, and SevenDar's retry finds the order as it was)."""
    ended = order.moved(status, now, failure_reason=reason)

    def stage_order(tx: Transaction) -> None:
        gift_cards.stage_order_change(tx, ended)
        if webhook_event_id is not None:
            gift_cards.stage_webhook_seen(tx, WEBHOOK_PROVIDER, webhook_event_id, now)

    points, member_id = order.payment.points, order.payment.member_id
    if not points or member_id is None:
        tx = Transaction()
        stage_order(tx)
        _commit_order_change(tx)
        return
    program = programs.get(order.merchant_id).program
    refund_key = ClientRequest(
        operations.OperationKey.of(order.merchant_id, "giftcard-refund", order.order_id), order.order_id
    )

    def decide(member: Member) -> Decision[WebhookAck]:
        change = refund_gift_card_points(member, program, points=points, order_id=order.order_id, now=now)
        return Decision(change, WebhookAck(received=True), state={"points": points}, also=stage_order)

    try:
        apply_change(order.merchant_id, member_id, decide, WebhookAck, now, client=refund_key)
    except NotFound:  # the member left the program: record the end; the points are gone with them
        tx = Transaction()
        stage_order(tx)
        _commit_order_change(tx)
    except Stale as exc:
        raise Busy("the order changed meanwhile; retry") from exc


CANCELLABLE = frozenset({OrderStatus.CREATED, OrderStatus.SUBMITTED, OrderStatus.IN_PRODUCTION})


def cancel(merchant_id: str, order_id: str, sevendar: SevenDar, now: datetime) -> GiftCardOrderView:
    """Cancel an order while SevenDar still allows it (not once shipped); points paid come back,
    once (the end and the refund are one write, and a cancelled order is not cancelled again). An
    order not yet submitted is cancelled here only: the worker skips it."""
    order = get_order(merchant_id, order_id)
    if order.status is OrderStatus.CANCELLED:
        return order_view(order)
    if order.status not in CANCELLABLE:
        raise Conflict(
            f"the order is {order.status.value}: SevenDar no longer cancels it", code="order_not_cancellable"
        )
    if order.sevendar_order_id is not None:
        try:
            sevendar.cancel_order(order.sevendar_order_id)
        except SevenDarRejected as exc:
            raise Conflict(
                f"SevenDar refused to cancel: {exc.code} (the order is on its way)", code="order_not_cancellable"
            ) from exc
        except SevenDarError as exc:
            raise Unavailable("SevenDar cannot be reached; retry", code="sevendar_unavailable") from exc
    finish(order, OrderStatus.CANCELLED, now, reason="cancelled by the shop")
    return order_view(get_order(merchant_id, order_id))


def _commit_order_change(tx: Transaction) -> None:
    try:
        tx.commit()
    except (Stale, Contended) as exc:
        raise Busy("the order changed meanwhile; retry") from exc


def apply_webhook(event: WebhookEvent, now: datetime, cipher: PiiCipher) -> WebhookAck:
    if gift_cards.webhook_seen(WEBHOOK_PROVIDER, event.event_id):
        return WebhookAck(received=True, duplicate=True)
    order = gift_cards.order_by_reference(event.reference)
    if order is None:
        raise NotFound("no such order", code="unknown_order")
    status = status_from_supplier(event.status)
    move = next_move(order.status, status)
    if move is not Move.APPLY:
        return WebhookAck(
            received=True, duplicate=move is Move.DUPLICATE, ignored="stale" if move is Move.STALE else None
        )
    if status in ENDED_BADLY:
        finish(order, status, now, reason=f"SevenDar: {status.value}", webhook_event_id=event.event_id)
        return WebhookAck(received=True)
    if status is OrderStatus.DELIVERED and order.kind == "gift_card":
        _activate_cards(order, now, cipher)
    return _move(order, status, now, event)


def _move(order: GiftCardOrder, status: OrderStatus, now: datetime, event: WebhookEvent) -> WebhookAck:
    tx = Transaction()
    gift_cards.stage_order_change(
        tx, order.moved(status, now, tracking_number=event.tracking_number or order.tracking_number)
    )
    gift_cards.stage_webhook_seen(tx, WEBHOOK_PROVIDER, event.event_id, now)
    try:
        tx.commit()
    except AlreadyExists:
        return WebhookAck(received=True, duplicate=True)  # the same webhook, delivered twice at once
    except (Stale, Contended) as exc:
        raise Busy("the order changed meanwhile; retry") from exc
    return WebhookAck(received=True)


def _activate_cards(order: GiftCardOrder, now: datetime, cipher: PiiCipher) -> None:
    """Write the delivered gift cards, a batch per transaction; a batch written by an earlier
    attempt of the same webhook is skipped, so a retry finishes the job."""
    codes = list(_private(order, cipher)["codes"])
    expires_on = add_months(now.date(), VALID_MONTHS)
    nominal = order.nominal_kopecks or 0
    for start in range(0, len(codes), CARDS_PER_WRITE):
        tx = Transaction()
        for code in codes[start : start + CARDS_PER_WRITE]:
            card = GiftCard(
                merchant_id=order.merchant_id,
                code_hash=card_hash(cipher, code),
                order_id=order.order_id,
                code_hint=code[-4:],
                nominal_kopecks=nominal,
                balance_kopecks=nominal,
                expires_on=expires_on,
                created_at=now,
            )
            gift_cards.stage_new_card(tx, card)
            gift_cards.stage_card_entry(
                tx,
                CardEntry(card.merchant_id, card.code_hash, "issued", nominal, nominal, f"order:{order.order_id}", now),
            )
        try:
            tx.commit()
        except AlreadyExists:
            continue


# ---- stored value at the till --------------------------------------------------------------------
def card_hash(cipher: PiiCipher, code: str) -> str:
    return cipher.lookup_hash("gift-card", normalise_code(code))


def _card(merchant_id: str, code: str, cipher: PiiCipher) -> GiftCard:
    card = gift_cards.get_card(merchant_id, card_hash(cipher, code))
    if card is None:
        raise NotFound("gift card not found", code="gift_card_not_found")
    return card


def card_view(code: str, card: GiftCard, now: datetime) -> GiftCardView:
    return GiftCardView(
        code=format_code(normalise_code(code)),
        status=card.status_on(now.date()).value,
        nominal_kopecks=card.nominal_kopecks,
        balance_kopecks=card.balance_kopecks,
        expires_on=card.expires_on,
    )


def get_card(merchant_id: str, code: str, now: datetime, cipher: PiiCipher) -> GiftCardView:
    return card_view(code, _card(merchant_id, code, cipher), now)


def redeem(
    merchant_id: str, code: str, request: GiftCardRedeemRequest, now: datetime, cipher: PiiCipher
) -> tuple[GiftCardRedemptionView, bool]:
    """Spend part of a card's value, once per redemption id, never below zero: each spend is
    written only if the card is as it was read, so the receipt's balance is exactly the card's."""
    code_hash = card_hash(cipher, code)
    client = ClientRequest.of(request, merchant_id, "giftcard-redeem", code_hash, request.redemption_id)
    for _ in range(20):
        card = _card(merchant_id, code, cipher)
        try:
            spent = card.spent(request.amount_kopecks, now.date())
        except LoyaltyError:
            previous = client.previous()
            if previous is not None:
                ensure_same_request(client, previous.request_hash)
                return GiftCardRedemptionView.model_validate(previous.response), True
            raise
        view = GiftCardRedemptionView(
            code=format_code(normalise_code(code)),
            redemption_id=request.redemption_id,
            amount_kopecks=request.amount_kopecks,
            balance_kopecks=spent.balance_kopecks,
        )
        tx = Transaction()
        operations.stage_create(tx, client.record(view, now))
        gift_cards.stage_card_change(tx, spent)
        gift_cards.stage_card_entry(
            tx,
            CardEntry(
                merchant_id,
                code_hash,
                "redeemed",
                -request.amount_kopecks,
                spent.balance_kopecks,
                f"redemption:{request.redemption_id}",
                now,
            ),
        )
        try:
            tx.commit()
        except AlreadyExists:
            return replay(client, GiftCardRedemptionView)
        except (Stale, Contended):
            continue  # another till spent from the card meanwhile: look again
        return view, False
    raise Busy("the card is busy; retry")


# ---- the table's stream --------------------------------------------------------------------------
def stream_work(
    stream_event: Mapping[str, Any], queue_order: Callable[[str, str], None], now: datetime
) -> tuple[int, list[DomainEvent], list[CardEntryAdded]]:
    """What a batch of the gift-card table's stream asks for: new orders go to the worker's
    queue, status changes become events, card ledger lines become sales counters."""
    queued, announced, lines = 0, [], []
    for change in gift_cards.changes_from_stream(stream_event):
        if isinstance(change, OrderCreated):
            queue_order(change.order.merchant_id, change.order.order_id)
            queued += 1
        elif isinstance(change, OrderMoved):
            order = change.order
            announced.append(
                DomainEvent(
                    event_id=f"gift-card:{order.merchant_id}:{order.order_id}:{order.status.value}",
                    type="gift_card_status",
                    merchant_id=order.merchant_id,
                    member_id=order.payment.member_id,
                    occurred_at=order.updated_at or now,
                    data={"status": order.status.value, "order_id": order.order_id},
                )
            )
        elif isinstance(change, CardEntryAdded):
            lines.append(change)
    return queued, announced, lines
