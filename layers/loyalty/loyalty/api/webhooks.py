"""Outgoing webhooks: endpoints, their signing secrets, the delivery log, test sends and replays."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from loyalty.api.common import Page, Query, Reply, Request

WebhookEventType = Literal[
    "member.enrolled",
    "purchase.recorded",
    "points.earned",
    "points.redeemed",
    "points.expired",
    "tier.changed",
    "coupon.issued",
    "coupon.redeemed",
    "gift_card_order.status_changed",
]
DeliveryStatusName = Literal["pending", "delivered", "failed"]

URL_HELP = (
    "https, to a public address (locally: http(s) to this machine, e.g. the stack's own receiver "
    "/_local/webhook-receiver/{name})"
)
EVENT_TYPES_HELP = "the event types this endpoint receives; null for every type, also types added later"
ALERT_EMAIL_HELP = "who is emailed when the endpoint is disabled for failing (e.g. the developer who wired it)"


class EndpointRequest(Request):
    url: str = Field(
        min_length=1, max_length=2048, examples=["https://crm.example.ru/hooks/loyalty"], description=URL_HELP
    )
    event_types: list[WebhookEventType] | None = Field(
        default=None, min_length=1, max_length=20, description=EVENT_TYPES_HELP
    )
    description: str | None = Field(default=None, max_length=200)
    alert_email: str | None = Field(default=None, max_length=254, description=ALERT_EMAIL_HELP)


class EndpointUpdate(Request):
    """Only the fields given change; ``"enabled": true`` re-enables a disabled endpoint (its failure
    count starts again), ``false`` pauses it."""

    url: str | None = Field(default=None, min_length=1, max_length=2048, description=URL_HELP)
    event_types: list[WebhookEventType] | None = Field(
        default=None, min_length=1, max_length=20, description=EVENT_TYPES_HELP
    )
    description: str | None = Field(default=None, max_length=200)
    alert_email: str | None = Field(default=None, max_length=254, description=ALERT_EMAIL_HELP)
    enabled: bool | None = None


class RotateSecretRequest(Request):
    previous_secret_valid_hours: int = Field(
        default=24,
        ge=0,
        le=168,
        description="how long deliveries are also signed with the old secret (0: stop at once)",
    )


class EndpointView(Reply):
    endpoint_id: str
    url: str
    description: str | None = None
    event_types: list[str] | None = Field(description=EVENT_TYPES_HELP)
    enabled: bool
    disabled_reason: str | None = Field(default=None, description="why it was disabled (failing, 410, by hand)")
    disabled_at: datetime | None = None
    failures_in_a_row: int = Field(description="failed attempts since the last success")
    failing_since: datetime | None = None
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    alert_email: str | None = None
    secret_rotated_at: datetime | None = None
    previous_secret_expires_at: datetime | None = Field(
        default=None, description="until then deliveries carry a second signature, made with the old secret"
    )
    created_at: datetime
    updated_at: datetime


class CreatedEndpointView(EndpointView):
    secret: str = Field(description="the signing secret (whsec_...): shown once, store it now")


class EndpointList(Reply):
    endpoints: list[EndpointView]


class SecretView(Reply):
    endpoint_id: str
    secret: str = Field(description="the new signing secret (whsec_...): shown once")
    previous_secret_expires_at: datetime | None = None


class EndpointDeletedView(Reply):
    deleted: Literal[True]


class AttemptView(Reply):
    number: int
    at: datetime
    status_code: int | None = Field(description="the receiver's HTTP status; null when there was no answer")
    latency_ms: int
    error: str | None = None
    response: str | None = Field(default=None, description="the start of the receiver's answer")


class WebhookDeliveryView(Reply):
    delivery_id: str = Field(description="the webhook-id header: the same on every attempt and replay")
    endpoint_id: str
    event_type: str
    status: DeliveryStatusName
    failure_reason: str | None = Field(default=None, description="why it failed, when it did")
    created_at: datetime
    updated_at: datetime | None = None
    next_attempt_at: datetime | None = None
    attempts: list[AttemptView]


class WebhookDeliveryDetail(WebhookDeliveryView):
    payload: dict[str, Any] = Field(description="the body sent (its exact bytes are what is signed)")


class DeliveryQuery(Query):
    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200)
    status: DeliveryStatusName | None = None


class WebhookDeliveryPage(Page):
    deliveries: list[WebhookDeliveryView]


class EventTypeView(Reply):
    name: str
    description: str
    example: dict[str, Any] = Field(description="a payload of this type")


class EventTypeList(Reply):
    event_types: list[EventTypeView]
    headers: dict[str, str] = Field(description="what each header of a delivery carries")
