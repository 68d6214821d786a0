"""The gift-cards table: SevenDar orders, the reference SevenDar knows an order by, gift cards
(stored value), each card's own ledger, and the webhooks seen.

Keys:
- order        pk ``ORDER#<merchant>#<order id>``      sk ``ORDER``
- reference    pk ``SDREF#<our SevenDar reference>``    sk ``REF``  -> the order
- gift card    pk ``GC#<merchant>#<keyed hash of code>`` sk ``CARD``
- card entry   pk ``GCL#<merchant>#<keyed hash>``        sk ``<time>#<entry id>``
- webhook seen pk ``WEBHOOK#<provider>#<event id>``      sk ``W``

The table's stream queues new orders for the worker, announces status changes and counts sales;
``changes_from_stream`` is the only place that reads its records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist

from loyalty.clock import isoformat
from loyalty.data.base import Item, table_base
from loyalty.data.transaction import Transaction
from loyalty.domain.gift_cards import CardEntry, CardStatus, GiftCard, GiftCardOrder, OrderStatus, Payment, StatusChange
from loyalty.ids import new_id

ORDER_SK = "ORDER"
CARD_SK = "CARD"
WEBHOOK_KEEP_DAYS = 30


@table_base
class _GiftCardsTable(Item):
    table_env = "gift_cards_table"

    class Meta:
        table_name = "unbound"


class GiftCardOrderItem(_GiftCardsTable):
    merchant_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    status = UnicodeAttribute()
    quantity = NumberAttribute()
    nominal_kopecks = NumberAttribute(null=True)
    design_id = UnicodeAttribute(null=True)
    artwork_url = UnicodeAttribute(null=True)
    delivery_method = UnicodeAttribute()
    private_enc = UnicodeAttribute()
    payment = JSONAttribute()
    request_hash = UnicodeAttribute()
    sevendar_order_id = UnicodeAttribute(null=True)
    tracking_number = UnicodeAttribute(null=True)
    failure_reason = UnicodeAttribute(null=True)
    history = JSONAttribute(default=list)
    card_numbers = JSONAttribute(default=list)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    version = NumberAttribute(default=0)


class ReferenceItem(_GiftCardsTable):
    merchant_id = UnicodeAttribute()
    order_id = UnicodeAttribute()


class GiftCardItem(_GiftCardsTable):
    merchant_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    code_hint = UnicodeAttribute()
    status = UnicodeAttribute()
    nominal_kopecks = NumberAttribute()
    balance_kopecks = NumberAttribute()
    expires_on = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=0)


class GiftCardEntryItem(_GiftCardsTable):
    merchant_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # issued, redeemed
    amount_kopecks = NumberAttribute()
    balance_after = NumberAttribute()
    reference = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class WebhookEventItem(_GiftCardsTable):
    received_at = UTCDateTimeAttribute()
    expires_at = NumberAttribute(null=True)


# ---- orders ----------------------------------------------------------------------------------
def _order_pk(merchant_id: str, order_id: str) -> str:
    return f"ORDER#{merchant_id}#{order_id}"


def _order_item(order: GiftCardOrder) -> GiftCardOrderItem:
    payment = order.payment
    return GiftCardOrderItem(
        _order_pk(order.merchant_id, order.order_id),
        ORDER_SK,
        merchant_id=order.merchant_id,
        order_id=order.order_id,
        kind=order.kind,
        status=order.status.value,
        quantity=order.quantity,
        nominal_kopecks=order.nominal_kopecks,
        design_id=order.design_id,
        artwork_url=order.artwork_url,
        delivery_method=order.delivery_method,
        private_enc=order.private_enc,
        payment={
            "method": payment.method,
            "reference": payment.reference,
            "member_id": payment.member_id,
            "points": payment.points,
            "sevendar_reference": payment.sevendar_reference,
        },
        request_hash=order.request_hash,
        sevendar_order_id=order.sevendar_order_id,
        tracking_number=order.tracking_number,
        failure_reason=order.failure_reason,
        history=[{"status": change.status.value, "at": isoformat(change.at)} for change in order.history],
        card_numbers=list(order.card_numbers),
        created_at=order.created_at,
        updated_at=order.updated_at,
        version=order.version,
    )


def _order(item: GiftCardOrderItem) -> GiftCardOrder:
    payment = dict(item.payment or {})
    return GiftCardOrder(
        merchant_id=item.merchant_id,
        order_id=item.order_id,
        kind=item.kind,
        status=OrderStatus(item.status),
        quantity=int(item.quantity),
        delivery_method=item.delivery_method,
        private_enc=item.private_enc,
        payment=Payment(
            method=str(payment["method"]),
            sevendar_reference=str(payment["sevendar_reference"]),
            reference=payment.get("reference"),
            member_id=payment.get("member_id"),
            points=int(payment.get("points", 0)),
        ),
        request_hash=item.request_hash,
        created_at=item.created_at,
        history=tuple(
            StatusChange(OrderStatus(change["status"]), datetime.fromisoformat(change["at"].replace("Z", "+00:00")))
            for change in item.history or []
        ),
        nominal_kopecks=int(item.nominal_kopecks) if item.nominal_kopecks is not None else None,
        design_id=item.design_id,
        artwork_url=item.artwork_url,
        card_numbers=tuple(item.card_numbers or ()),
        sevendar_order_id=item.sevendar_order_id,
        tracking_number=item.tracking_number,
        failure_reason=item.failure_reason,
        updated_at=item.updated_at,
        version=int(item.version),
    )


def get_order(merchant_id: str, order_id: str) -> GiftCardOrder | None:
    try:
        return _order(GiftCardOrderItem.get(_order_pk(merchant_id, order_id), ORDER_SK, consistent_read=True))
    except DoesNotExist:
        return None


def order_by_reference(sevendar_reference: str) -> GiftCardOrder | None:
    try:
        reference = ReferenceItem.get(f"SDREF#{sevendar_reference}", "REF")
    except DoesNotExist:
        return None
    return get_order(reference.merchant_id, reference.order_id)


def stage_new_order(tx: Transaction, order: GiftCardOrder) -> None:
    """The order (``AlreadyExists("order")``: its id was used) and the reference SevenDar knows it by."""
    tx.create(_order_item(order), name="order")
    tx.create(
        ReferenceItem(
            f"SDREF#{order.payment.sevendar_reference}", "REF", merchant_id=order.merchant_id, order_id=order.order_id
        ),
        name="reference",
    )


def stage_order_change(tx: Transaction, order: GiftCardOrder) -> None:
    """``order`` as returned by ``GiftCardOrder.moved`` (or with its version bumped): written only
    if nobody changed it since it was read (``Stale("order")``)."""
    tx.put(_order_item(order), condition=GiftCardOrderItem.version == order.version - 1, name="order")


def record_supplier_id(order: GiftCardOrder, sevendar_order_id: str) -> None:
    """Remember SevenDar's id of an order whose status a webhook moved first."""
    tx = Transaction()
    tx.update(
        GiftCardOrderItem(_order_pk(order.merchant_id, order.order_id), ORDER_SK),
        [GiftCardOrderItem.sevendar_order_id.set(sevendar_order_id)],
        condition=GiftCardOrderItem.sevendar_order_id.does_not_exist(),
        name="supplier id",
    )
    tx.commit()


# ---- webhooks seen -----------------------------------------------------------------------------
def _webhook_pk(provider: str, event_id: str) -> str:
    return f"WEBHOOK#{provider}#{event_id}"


def webhook_seen(provider: str, event_id: str) -> bool:
    try:
        WebhookEventItem.get(_webhook_pk(provider, event_id), "W", consistent_read=True)
    except DoesNotExist:
        return False
    return True


def stage_webhook_seen(tx: Transaction, provider: str, event_id: str, now: datetime) -> None:
    tx.create(
        WebhookEventItem(
            _webhook_pk(provider, event_id),
            "W",
            received_at=now,
            expires_at=int((now + timedelta(days=WEBHOOK_KEEP_DAYS)).timestamp()),
        ),
        name="webhook",
    )


# ---- gift cards --------------------------------------------------------------------------------
def _card_pk(merchant_id: str, code_hash: str) -> str:
    return f"GC#{merchant_id}#{code_hash}"


def _card_item(card: GiftCard) -> GiftCardItem:
    return GiftCardItem(
        _card_pk(card.merchant_id, card.code_hash),
        CARD_SK,
        merchant_id=card.merchant_id,
        order_id=card.order_id,
        code_hint=card.code_hint,
        status=card.status.value,
        nominal_kopecks=card.nominal_kopecks,
        balance_kopecks=card.balance_kopecks,
        expires_on=card.expires_on.isoformat(),
        created_at=card.created_at,
        version=card.version,
    )


def get_card(merchant_id: str, code_hash: str) -> GiftCard | None:
    try:
        item = GiftCardItem.get(_card_pk(merchant_id, code_hash), CARD_SK, consistent_read=True)
    except DoesNotExist:
        return None
    return GiftCard(
        merchant_id=item.merchant_id,
        code_hash=code_hash,
        order_id=item.order_id,
        code_hint=item.code_hint,
        nominal_kopecks=int(item.nominal_kopecks),
        balance_kopecks=int(item.balance_kopecks),
        expires_on=date.fromisoformat(item.expires_on),
        created_at=item.created_at,
        status=CardStatus(item.status),
        version=int(item.version),
    )


def stage_new_card(tx: Transaction, card: GiftCard) -> None:
    tx.create(_card_item(card), name="gift card")


def stage_card_change(tx: Transaction, card: GiftCard) -> None:
    """``card`` with its version bumped: written only if unchanged since read (``Stale("gift card")``)."""
    tx.put(_card_item(card), condition=GiftCardItem.version == card.version - 1, name="gift card")


def stage_card_entry(tx: Transaction, entry: CardEntry) -> None:
    tx.put(
        GiftCardEntryItem(
            f"GCL#{entry.merchant_id}#{entry.code_hash}",
            f"{isoformat(entry.created_at)}#{entry.entry_id or new_id('gce')}",
            merchant_id=entry.merchant_id,
            kind=entry.kind,
            amount_kopecks=entry.amount_kopecks,
            balance_after=entry.balance_after,
            reference=entry.reference,
            created_at=entry.created_at,
        )
    )


# ---- the stream --------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderCreated:
    order: GiftCardOrder


@dataclass(frozen=True)
class OrderMoved:
    order: GiftCardOrder
    previous: OrderStatus


@dataclass(frozen=True)
class CardEntryAdded:
    merchant_id: str
    kind: str
    amount_kopecks: int
    created_at: datetime
    line: str = ""  # the card ledger line's key: the same for every record of the same line


StreamChange = OrderCreated | OrderMoved | CardEntryAdded


def changes_from_stream(event: Mapping[str, Any]) -> list[StreamChange]:
    """What a batch of the table's stream (NEW_AND_OLD_IMAGES) says happened."""
    changes: list[StreamChange] = []
    for record in event.get("Records", []):
        images = record.get("dynamodb", {})
        new, old = images.get("NewImage"), images.get("OldImage")
        if not new:
            continue
        key = str(new["pk"]["S"])
        if key.startswith("ORDER#"):
            order = _order(GiftCardOrderItem.from_raw_data(new))
            if record.get("eventName") == "INSERT":
                changes.append(OrderCreated(order))
            elif old is not None and old["status"]["S"] != order.status.value:
                changes.append(OrderMoved(order, OrderStatus(old["status"]["S"])))
        elif key.startswith("GCL#") and record.get("eventName") == "INSERT":
            entry = GiftCardEntryItem.from_raw_data(new)
            changes.append(
                CardEntryAdded(
                    entry.merchant_id,
                    entry.kind,
                    int(entry.amount_kopecks),
                    entry.created_at,
                    f"{entry.pk}|{entry.sk}",
                )
            )
    return changes
