"""Outgoing webhooks: the merchant's routes for endpoints, secrets, the delivery log, test sends and
replays; the fan-out worker (domain events from the bus -> one delivery per subscribed endpoint);
and the delivery worker (a signed POST per attempt, retried with backoff through its queue)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty import runtime
from loyalty.api.webhooks import (
    CreatedEndpointView,
    DeliveryQuery,
    EndpointDeletedView,
    EndpointList,
    EndpointRequest,
    EndpointUpdate,
    EndpointView,
    EventTypeList,
    RotateSecretRequest,
    SecretView,
    WebhookDeliveryDetail,
    WebhookDeliveryPage,
)
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.errors import InvalidRequest
from loyalty.events import DomainEvent
from loyalty.http.access import MANAGE, OWNER
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, reply, validation_details
from loyalty.platform.aws import client
from loyalty.platform.observability import logger, metrics, observed_handler
from loyalty.platform.providers import SesEmail
from loyalty.platform.queues import QueueConsumer, eventbridge_detail
from loyalty.services import staff, webhook_deliveries, webhook_endpoints
from loyalty.services.webhook_deliveries import Deliverer, DeliveryJob, DeliverySettings, RetryLater
from loyalty.webhooks.notice import disabled_notice
from loyalty.webhooks.records import Endpoint
from loyalty.webhooks.retries import DisableRule
from loyalty.webhooks.sender import WebhookSender
from loyalty.webhooks.urls import UrlPolicy
from pydantic import ValidationError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


class WebhooksConfig(CoreConfig):
    webhook_events_queue_url: str
    webhook_events_dlq_url: str
    webhook_events_max_receive_count: int = 5
    webhook_deliveries_queue_url: str
    webhook_deliveries_dlq_url: str
    webhook_deliveries_max_receive_count: int = 16
    email_from: str
    # Not in template.yaml (AWS keeps these defaults); the local stack and tests may set them.
    webhook_retry_seconds: int = 60
    webhook_disable_after_failures: int = 10
    webhook_disable_after_seconds: int = 86_400
    webhook_url_policy: UrlPolicy = UrlPolicy.PUBLIC


CONFIG = WebhooksConfig.from_env()
runtime.bootstrap(CONFIG)


def queue_delivery(job: DeliveryJob) -> None:
    client("sqs").send_message(QueueUrl=CONFIG.webhook_deliveries_queue_url, MessageBody=job.model_dump_json())


bp = ApiBlueprint(__name__, tags=("Webhooks",))


@bp.route(
    "/v1/webhook-event-types",
    methods=["GET"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="The event types an endpoint can subscribe to, with an example payload of each",
    response=EventTypeList,
)
def get_webhook_event_types() -> object:
    bp.merchant_id()
    return reply(200, webhook_endpoints.event_types())


@bp.route(
    "/v1/webhook-endpoints",
    methods=["POST"],
    authorizer=merchant_key,
    access=OWNER,
    summary="Subscribe a URL to event types; the answer shows its signing secret, once",
    request=EndpointRequest,
    response=CreatedEndpointView,
    status=201,
    errors=(422,),
)
def post_webhook_endpoint() -> object:
    request = bp.parse(EndpointRequest)
    created = webhook_endpoints.create(
        bp.merchant_id(), request, utcnow(), runtime.current().cipher(), CONFIG.webhook_url_policy
    )
    return reply(201, created)


@bp.route(
    "/v1/webhook-endpoints",
    methods=["GET"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="The merchant's webhook endpoints (without their secrets)",
    response=EndpointList,
)
def get_webhook_endpoints() -> object:
    return reply(
        200, EndpointList(endpoints=webhook_endpoints.list_endpoints(bp.merchant_id(), runtime.current().cipher()))
    )


@bp.route(
    "/v1/webhook-endpoints/{endpoint_id}",
    methods=["GET"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="A webhook endpoint: its subscriptions, whether it is enabled, how its deliveries fare",
    response=EndpointView,
)
def get_webhook_endpoint(endpoint_id: str) -> object:
    endpoint = webhook_endpoints.get_endpoint(bp.merchant_id(), endpoint_id)
    return reply(200, webhook_endpoints.view(endpoint, runtime.current().cipher()))


@bp.route(
    "/v1/webhook-endpoints/{endpoint_id}",
    methods=["PATCH"],
    authorizer=merchant_key,
    access=OWNER,
    summary="Change an endpoint (only the fields given); enabled=true re-enables a disabled one",
    request=EndpointUpdate,
    response=EndpointView,
    errors=(503,),
)
def patch_webhook_endpoint(endpoint_id: str) -> object:
    request = bp.parse(EndpointUpdate)
    updated = webhook_endpoints.update(
        bp.merchant_id(), endpoint_id, request, utcnow(), runtime.current().cipher(), CONFIG.webhook_url_policy
    )
    return reply(200, updated)


@bp.route(
    "/v1/webhook-endpoints/{endpoint_id}",
    methods=["DELETE"],
    authorizer=merchant_key,
    access=OWNER,
    summary="Remove an endpoint: nothing more is delivered to it",
    response=EndpointDeletedView,
)
def delete_webhook_endpoint(endpoint_id: str) -> object:
    webhook_endpoints.delete(bp.merchant_id(), endpoint_id)
    return reply(200, EndpointDeletedView(deleted=True))


@bp.route(
    "/v1/webhook-endpoints/{endpoint_id}/rotate-secret",
    methods=["POST"],
    authorizer=merchant_key,
    access=OWNER,
    summary="A new signing secret, shown once; the old one keeps signing for a grace period",
    request=RotateSecretRequest,
    response=SecretView,
    errors=(503,),
)
def post_webhook_secret_rotation(endpoint_id: str) -> object:
    request = bp.parse(RotateSecretRequest)
    rotated = webhook_endpoints.rotate_secret(
        bp.merchant_id(), endpoint_id, request, utcnow(), runtime.current().cipher()
    )
    return reply(200, rotated)


@bp.route(
    "/v1/webhook-endpoints/{endpoint_id}/test",
    methods=["POST"],
    authorizer=merchant_key,
    access=OWNER,
    summary="Send a signed webhook.test delivery to the endpoint (through the queue, with retries)",
    response=WebhookDeliveryDetail,
    status=202,
)
def post_webhook_test(endpoint_id: str) -> object:
    return reply(202, webhook_deliveries.test_send(bp.merchant_id(), endpoint_id, utcnow(), queue_delivery))


@bp.route(
    "/v1/webhook-endpoints/{endpoint_id}/deliveries",
    methods=["GET"],
    authorizer=merchant_key,
    access=MANAGE,
    query=DeliveryQuery,
    summary="The endpoint's delivery log, newest first, with every attempt (status, latency, error)",
    response=WebhookDeliveryPage,
)
def get_webhook_deliveries(endpoint_id: str) -> object:
    query = bp.query_model(DeliveryQuery)
    return reply(200, webhook_deliveries.deliveries(bp.merchant_id(), endpoint_id, query))


@bp.route(
    "/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}",
    methods=["GET"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="One delivery: its payload and every attempt",
    response=WebhookDeliveryDetail,
)
def get_webhook_delivery(endpoint_id: str, delivery_id: str) -> object:
    return reply(200, webhook_deliveries.get_delivery(bp.merchant_id(), endpoint_id, delivery_id))


@bp.route(
    "/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/replay",
    methods=["POST"],
    authorizer=merchant_key,
    access=OWNER,
    summary="Send a delivered or failed delivery again (same webhook-id and body, fresh retries)",
    response=WebhookDeliveryDetail,
    status=202,
    errors=(409, 422, 503),
)
def post_webhook_replay(endpoint_id: str, delivery_id: str) -> object:
    replayed = webhook_deliveries.replay(bp.merchant_id(), endpoint_id, delivery_id, utcnow(), queue_delivery)
    return reply(202, replayed)


app = create_app("webhooks", bp)


# ---- the fan-out worker ------------------------------------------------------------------------
def fan_out(record: SQSRecord) -> None:
    try:
        event = DomainEvent.model_validate(eventbridge_detail(record))
    except (ValidationError, ValueError) as exc:
        raise InvalidRequest("not a domain event", details=str(exc)[:300]) from exc
    queued = webhook_deliveries.fan_out(event, utcnow(), queue_delivery)
    if queued:
        metrics.add_metric(name="WebhookDeliveriesQueued", unit="Count", value=queued)


events = QueueConsumer(
    "WebhookEvents",
    fan_out,
    dlq_url=CONFIG.webhook_events_dlq_url,
    max_receive_count=CONFIG.webhook_events_max_receive_count,
)


@observed_handler
def handle_events(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return events(event, context)


# ---- the delivery worker -----------------------------------------------------------------------
def send_notice(endpoint: Endpoint, reason: str) -> None:
    """Tell the merchant an endpoint was disabled (the flag in the API says so too). A notice that
    cannot be sent is logged, not retried: the delivery it came from is done."""
    metrics.add_metric(name="WebhookEndpointsDisabled", unit="Count", value=1)
    logger.warning("webhook endpoint disabled", extra={"endpoint_id": endpoint.endpoint_id, "reason": reason})
    cipher = runtime.current().cipher()
    try:
        address = webhook_endpoints.alert_email(endpoint, cipher)
        for to in [address] if address else staff.owner_emails(endpoint.merchant_id, cipher):
            SesEmail().send(disabled_notice(endpoint, reason, to, CONFIG.email_from))
    except Exception:
        logger.exception("could not send the disabled-endpoint notice", extra={"endpoint_id": endpoint.endpoint_id})


@cache
def sender() -> WebhookSender:
    """One per container: it keeps connections to endpoints alive between deliveries."""
    return WebhookSender(CONFIG.webhook_url_policy)


def deliverer() -> Deliverer:
    settings = DeliverySettings(
        retry_base_seconds=CONFIG.webhook_retry_seconds,
        attempts=CONFIG.webhook_deliveries_max_receive_count,
        disable_rule=DisableRule(CONFIG.webhook_disable_after_failures, CONFIG.webhook_disable_after_seconds),
    )
    return Deliverer(sender(), runtime.current().cipher(), settings, send_notice)


def deliver(record: SQSRecord) -> None:
    try:
        job = DeliveryJob.model_validate_json(record.body)
    except ValidationError as exc:
        raise InvalidRequest("not a webhook delivery message", details=validation_details(exc)) from exc
    receives = int(record.attributes.approximate_receive_count or 1)
    outcome = deliverer().deliver(job, receives, utcnow())
    metrics.add_metric(name=f"Webhook_{outcome}", unit="Count", value=1)


def retry_delay(receives: int, exc: Exception) -> int | None:
    return exc.delay_seconds if isinstance(exc, RetryLater) else None


deliveries = QueueConsumer(
    "WebhookDeliveries",
    deliver,
    dlq_url=CONFIG.webhook_deliveries_dlq_url,
    max_receive_count=CONFIG.webhook_deliveries_max_receive_count,
    queue_url=CONFIG.webhook_deliveries_queue_url,
    retry_delay=retry_delay,
)


@observed_handler
def handle_deliveries(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return deliveries(event, context)
