"""The event types an endpoint can subscribe to, the domain events each comes from, and its payload.

Payloads follow the Standard Webhooks structure and are thin: ids and what changed, never a
member's personal data (a CRM that needs the phone or name asks ``GET /v1/members/{member_id}``):

    {"type": "points.earned", "timestamp": "2026-12-01T09:30:00.000Z",
     "data": {"merchant_id": "...", "member_id": "...", "transaction_id": "...", ...}}

``timestamp`` is when the event happened (the attempt's time is the ``webhook-timestamp`` header).
Every payload of a type has all of the type's fields (``null`` when not known), so its schema
never changes shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from loyalty.clock import isoformat
from loyalty.events import DomainEvent

TEST_EVENT_TYPE = "webhook.test"


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    sources: tuple[str, ...]  # the domain event types (detail-types on the bus) it is made from
    fields: tuple[str, ...]  # ``data`` fields besides merchant_id and member_id, from the event's data
    example: Mapping[str, Any]


_PURCHASE_EXAMPLE = {"transaction_id": "till-7-000123", "amount_kopecks": 125000, "store_id": "store-1"}

EVENT_TYPES: tuple[EventType, ...] = (
    EventType(
        "member.enrolled",
        "A member joined the program (at the till, in the app, by a partner). points: the welcome bonus.",
        ("welcome",),
        ("points", "balance"),
        {"points": 50, "balance": 50},
    ),
    EventType(
        "purchase.recorded",
        "A member's purchase was recorded, whatever it earned (also 0 points).",
        ("points_earned", "purchase_recorded"),
        ("transaction_id", "amount_kopecks", "store_id", "points", "balance"),
        {**_PURCHASE_EXAMPLE, "points": 12, "balance": 112},
    ),
    EventType(
        "points.earned",
        "A purchase earned points.",
        ("points_earned",),
        ("transaction_id", "amount_kopecks", "store_id", "points", "balance"),
        {**_PURCHASE_EXAMPLE, "points": 12, "balance": 112},
    ),
    EventType(
        "points.redeemed",
        "Points paid part of a check (immediately, or held at the till).",
        ("points_redeemed",),
        ("redemption_id", "transaction_id", "amount_kopecks", "points", "balance"),
        {
            "redemption_id": "till-7-r-9",
            "transaction_id": "till-7-000124",
            "amount_kopecks": 50000,
            "points": 100,
            "balance": 12,
        },
    ),
    EventType(
        "points.expired",
        "Unspent points expired.",
        ("points_expired",),
        ("points", "balance"),
        {"points": 40, "balance": 72},
    ),
    EventType(
        "tier.changed",
        "The member moved to another tier (up at once, down at a review).",
        ("tier_changed",),
        ("old_tier", "new_tier"),
        {"old_tier": "bronze", "new_tier": "silver"},
    ),
    EventType(
        "coupon.issued",
        "A coupon was issued: a reward bought with points, or a full stamp card.",
        ("coupon_issued",),
        ("coupon", "reward_id", "reward_name", "quantity", "expires_on", "points", "balance"),
        {
            "coupon": "K7F2Q9AB",
            "reward_id": "latte",
            "reward_name": "Латте",
            "quantity": None,
            "expires_on": "2027-01-30",
            "points": 150,
            "balance": 62,
        },
    ),
    EventType(
        "coupon.redeemed",
        "Items of a coupon were used at the till. quantity: items used now; uses_left: what remains.",
        ("coupon_redeemed",),
        ("coupon", "reward_id", "reward_name", "quantity", "uses_left", "transaction_id", "store_id"),
        {
            "coupon": "K7F2Q9AB",
            "reward_id": "latte",
            "reward_name": "Латте",
            "quantity": 1,
            "uses_left": 0,
            "transaction_id": "till-7-000125",
            "store_id": "store-1",
        },
    ),
    EventType(
        "gift_card_order.status_changed",
        "A SevenDar gift-card or plastic-card order moved on: accepted, in_production, shipped, "
        "delivered, failed or cancelled. member_id: the member who paid with points, if any.",
        ("gift_card_status",),
        ("order_id", "status"),
        {"order_id": "GC-7", "status": "shipped"},
    ),
)

BY_NAME: Mapping[str, EventType] = MappingProxyType({event_type.name: event_type for event_type in EVENT_TYPES})


def webhook_types(domain_type: str) -> list[EventType]:
    """The event types a domain event (by its type on the bus) is delivered as."""
    return [event_type for event_type in EVENT_TYPES if domain_type in event_type.sources]


def source_types() -> list[str]:
    """Every domain event type some webhook event type is made from (the bus rule's detail-types)."""
    return sorted({source for event_type in EVENT_TYPES for source in event_type.sources})


def payload(event_type: EventType, event: DomainEvent) -> dict[str, Any]:
    data: dict[str, Any] = {"merchant_id": event.merchant_id, "member_id": event.member_id}
    data.update({name: event.data.get(name) for name in event_type.fields})
    return {"type": event_type.name, "timestamp": isoformat(event.occurred_at), "data": data}


def ping_payload(merchant_id: str, endpoint_id: str, now: datetime) -> dict[str, Any]:
    data: dict[str, Any] = {
        "merchant_id": merchant_id,
        "member_id": None,
        "endpoint_id": endpoint_id,
        "message": "A test delivery: if its signature checks out, this endpoint is wired correctly.",
    }
    return {"type": TEST_EVENT_TYPE, "timestamp": isoformat(now), "data": data}


def example(event_type: EventType) -> dict[str, Any]:
    data: dict[str, Any] = {
        "merchant_id": "mch_01jd3x4k5m6n7p8q9r0s1t2v3w",
        "member_id": "mbr_01jd3x5a6b7c8d9e0f1g2h3j4k",
    }
    data.update({name: event_type.example.get(name) for name in event_type.fields})
    return {"type": event_type.name, "timestamp": "2026-12-01T09:30:00.000Z", "data": data}


def encode(body: Mapping[str, Any]) -> bytes:
    """The exact bytes sent and signed: compact JSON in UTF-8 (Cyrillic as is, not escaped)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
