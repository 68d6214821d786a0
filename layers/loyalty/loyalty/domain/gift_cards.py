"""Gift cards and card orders (SevenDar): an order's statuses and which moves are allowed, and a
gift card's stored value, never spent below zero."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from loyalty.clock import to_millis
from loyalty.errors import Conflict, InvalidRequest, RuleViolation

GIFT_CODE_LENGTH = 12  # 60 bits: a gift card's code is a bearer secret
MAX_GIFT_CARDS_PER_ORDER = 100
MAX_LOYALTY_CARDS_PER_ORDER = 1_000  # each card number is reserved when the order is submitted


class OrderStatus(StrEnum):
    CREATED = "created"  # stored and paid; the worker will submit it
    SUBMITTED = "submitted"  # SevenDar accepted it
    IN_PRODUCTION = "in_production"
    SHIPPED = "shipped"
    DELIVERED = "delivered"  # gift cards are spendable from here
    FAILED = "failed"  # refused or lost: points paid are given back
    CANCELLED = "cancelled"


PROGRESSION = (
    OrderStatus.CREATED,
    OrderStatus.SUBMITTED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
)
FINAL = frozenset({OrderStatus.DELIVERED, OrderStatus.FAILED, OrderStatus.CANCELLED})
ENDED_BADLY = frozenset({OrderStatus.FAILED, OrderStatus.CANCELLED})
FROM_SEVENDAR = {"accepted": OrderStatus.SUBMITTED}


def status_from_supplier(raw: str) -> OrderStatus:
    try:
        return FROM_SEVENDAR.get(raw) or OrderStatus(raw)
    except ValueError as exc:
        raise InvalidRequest(f"unknown status {raw!r}", code="unknown_status") from exc


@dataclass(frozen=True)
class Payment:
    method: str  # money, points
    sevendar_reference: str  # our reference at SevenDar: its idempotency key for the order
    reference: str | None = None  # the shop's money payment
    member_id: str | None = None  # whose points paid
    points: int = 0


@dataclass(frozen=True)
class StatusChange:
    status: OrderStatus
    at: datetime


@dataclass(frozen=True)
class GiftCardOrder:
    merchant_id: str
    order_id: str
    kind: str  # gift_card, loyalty_card
    status: OrderStatus
    quantity: int
    delivery_method: str
    private_enc: str  # recipient, address, greeting and the codes, encrypted by the service
    payment: Payment
    request_hash: str
    created_at: datetime
    history: tuple[StatusChange, ...] = ()
    nominal_kopecks: int | None = None
    design_id: str | None = None
    artwork_url: str | None = None
    card_numbers: tuple[str, ...] = ()  # plastic loyalty cards: not secret
    sevendar_order_id: str | None = None
    tracking_number: str | None = None
    failure_reason: str | None = None
    updated_at: datetime | None = None
    version: int = 0

    def moved(self, status: OrderStatus, now: datetime, **changes: Any) -> GiftCardOrder:
        return replace(
            self,
            status=status,
            history=(*self.history, StatusChange(status, to_millis(now))),
            updated_at=now,
            version=self.version + 1,
            **changes,
        )


class Move(StrEnum):
    APPLY = "apply"
    DUPLICATE = "duplicate"  # the order is already there
    STALE = "stale"  # a retried webhook arriving after a later one


def next_move(current: OrderStatus, incoming: OrderStatus) -> Move:
    """What a status reported by the supplier does to an order in ``current``."""
    if current in FINAL:
        if incoming == current:
            return Move.DUPLICATE
        raise Conflict(f"the order is {current}; it cannot become {incoming}", code="illegal_transition")
    if incoming in ENDED_BADLY:
        return Move.APPLY
    if PROGRESSION.index(incoming) <= PROGRESSION.index(current):
        return Move.STALE
    return Move.APPLY


# ---- the stored value --------------------------------------------------------------------------
class CardStatus(StrEnum):
    ACTIVE = "active"
    VOID = "void"


@dataclass(frozen=True)
class GiftCard:
    merchant_id: str
    code_hash: str  # the code itself is a bearer secret: only its keyed hash is kept
    order_id: str
    code_hint: str  # its last four characters, for support
    nominal_kopecks: int
    balance_kopecks: int
    expires_on: date
    created_at: datetime
    status: CardStatus = CardStatus.ACTIVE
    version: int = 0

    def status_on(self, today: date) -> CardStatus:
        return CardStatus.VOID if self.expires_on < today else self.status

    def spent(self, amount_kopecks: int, today: date) -> GiftCard:
        if self.status_on(today) is not CardStatus.ACTIVE:
            raise RuleViolation(f"this gift card is not active ({self.status_on(today)})", code="gift_card_not_active")
        if self.balance_kopecks < amount_kopecks:
            raise InsufficientFunds(self.balance_kopecks)
        return replace(self, balance_kopecks=self.balance_kopecks - amount_kopecks, version=self.version + 1)


class InsufficientFunds(Conflict):
    code = "insufficient_funds"

    def __init__(self, balance_kopecks: int) -> None:
        super().__init__("not enough value on the card", details={"balance_kopecks": balance_kopecks})


@dataclass(frozen=True)
class CardEntry:
    """A line of a gift card's own ledger: issued, redeemed."""

    merchant_id: str
    code_hash: str
    kind: str
    amount_kopecks: int
    balance_after: int
    reference: str
    created_at: datetime
    entry_id: str = field(default="")
