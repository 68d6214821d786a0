"""The outboxes: turns each new ledger entry (from the table's stream) into a domain event on the
bus, and each coupon used at the till (from the members table's stream) into ``coupon_redeemed``.
A failed batch is retried (and bisected) by the event source; consumers dedupe on the event id,
so a repeat is harmless."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty import runtime
from loyalty.config import CoreConfig
from loyalty.platform.observability import metrics, observed_handler
from loyalty.platform.publisher import publish
from loyalty.services import outbox

CONFIG = CoreConfig.from_env()
runtime.bootstrap(CONFIG)


@observed_handler
def publish_ledger_events(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    events = outbox.ledger_events(event)
    published = publish(CONFIG.event_bus_name, events)
    metrics.add_metric(name="DomainEventsPublished", unit="Count", value=published)
    return {"published": published}


@observed_handler
def publish_coupon_events(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    events = outbox.coupon_events(event)
    published = publish(CONFIG.event_bus_name, events)
    metrics.add_metric(name="DomainEventsPublished", unit="Count", value=published)
    return {"published": published}
