"""The event types: each payload keeps its type's schema, and the API, the bus rule and the
catalog agree on what exists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args

from loyalty.api.webhooks import WebhookEventType
from loyalty.events import DomainEvent
from loyalty.webhooks import catalog

from infra.template import load_template, resources_of_type


def test_the_api_offers_exactly_the_catalogs_event_types() -> None:
    assert set(get_args(WebhookEventType)) == set(catalog.BY_NAME)


def test_the_bus_rule_routes_every_source_the_catalog_needs() -> None:
    rule = resources_of_type(load_template(), "AWS::Events::Rule")["WebhookRule"]
    assert sorted(rule["Properties"]["EventPattern"]["detail-type"]) == catalog.source_types()


def test_event_type_names_follow_the_standard_webhooks_recommendation() -> None:
    for event_type in catalog.EVENT_TYPES:
        parts = event_type.name.split(".")
        assert len(parts) >= 2 and all(part and part.replace("_", "a").isalnum() for part in parts), event_type.name


def test_a_payload_has_every_field_of_its_type_even_when_the_event_lacks_some() -> None:
    event = DomainEvent(
        event_id="le_1",
        type="points_earned",
        merchant_id="mch_1",
        member_id="mbr_1",
        occurred_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        data={"points": 12, "balance": 112, "transaction_id": "t-1", "amount_kopecks": 125000, "secret": "x"},
    )
    body = catalog.payload(catalog.BY_NAME["points.earned"], event)
    assert body == {
        "type": "points.earned",
        "timestamp": "2026-12-01T09:30:00.000Z",
        "data": {
            "merchant_id": "mch_1",
            "member_id": "mbr_1",
            "transaction_id": "t-1",
            "amount_kopecks": 125000,
            "store_id": None,
            "points": 12,
            "balance": 112,
        },
    }


def test_a_purchase_that_earned_points_is_both_a_purchase_and_points_earned() -> None:
    assert [t.name for t in catalog.webhook_types("points_earned")] == ["purchase.recorded", "points.earned"]
    assert [t.name for t in catalog.webhook_types("purchase_recorded")] == ["purchase.recorded"]
    assert catalog.webhook_types("birthday") == []


def test_examples_have_the_fields_of_their_type() -> None:
    for event_type in catalog.EVENT_TYPES:
        example = catalog.example(event_type)
        assert set(example["data"]) == {"merchant_id", "member_id", *event_type.fields}, event_type.name


def test_the_body_is_compact_utf8_json() -> None:
    assert catalog.encode({"reward_name": "Латте", "n": 1}) == '{"reward_name":"Латте","n":1}'.encode()
