"""Reading what the system sent from the embedded moto, and feeding events to the notify worker."""

from __future__ import annotations

import json
from typing import Any

import boto3
from loyalty.data.ledger import entries_from_stream
from loyalty.events import DomainEvent, from_ledger_entry

from infra.local.provision import ACCOUNT_ID, REGION
from tests.support.events import context, sqs_record


def sms_sent(phone: str | None = None) -> list[tuple[str, str]]:
    from moto.sns.models import sns_backends

    backend = sns_backends[ACCOUNT_ID][REGION]
    return [(to, text) for to, text in dict(backend.sms_messages).values() if phone is None or to == phone]


def ledger_events(member_id: str) -> list[DomainEvent]:
    client = boto3.client("dynamodb", region_name=REGION)
    items = client.scan(TableName="ledger")["Items"]  # a test may scan; the product never does
    mine = sorted(
        (raw for raw in items if raw.get("member_id", {}).get("S") == member_id), key=lambda raw: raw["sk"]["S"]
    )
    entries = entries_from_stream(as_stream(mine))
    return [event for entry in entries for event in from_ledger_entry(entry)]


def as_stream(images: list[dict[str, Any]]) -> dict[str, Any]:
    """Items as the table's stream would deliver their inserts."""
    return {"Records": [{"eventName": "INSERT", "dynamodb": {"NewImage": image}} for image in images]}


def bus_envelope(event: DomainEvent) -> str:
    """The body EventBridge puts on the notify queue: the event under ``detail``."""
    return json.dumps(
        {
            "version": "0",
            "id": event.event_id,
            "detail-type": event.type,
            "source": "loyalty",
            "account": ACCOUNT_ID,
            "time": event.occurred_at.isoformat(),
            "region": REGION,
            "detail": event.model_dump(mode="json"),
        },
        ensure_ascii=False,
    )


def notify(*events: DomainEvent, receive_count: int = 1) -> dict[str, Any]:
    from functions.notify.app import handle_notifications

    records = [
        sqs_record(bus_envelope(event), message_id=event.event_id, receive_count=receive_count) for event in events
    ]
    return dict(handle_notifications({"Records": records}, context("notify", 30)))
