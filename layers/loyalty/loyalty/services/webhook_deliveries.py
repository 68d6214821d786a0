"""Delivering webhooks: the fan-out from domain events to one delivery per subscribed endpoint,
the attempt (signed POST, logged), retries, disabling an endpoint that keeps failing, test sends,
replays, and the delivery log.

Once per (event, endpoint): a delivery's id is derived from the endpoint, the event type and the
domain event's id, and it is created with a condition, so the same event reaching the fan-out
twice makes one delivery; a delivery that is no longer pending is never sent again by a repeated
queue message. Receivers still see a delivery more than once in rare cases (a worker that stopped
between a successful POST and recording it): it keeps its ``webhook-id``, which receivers dedupe on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from loyalty.api.webhooks import (
    AttemptView,
    DeliveryQuery,
    WebhookDeliveryDetail,
    WebhookDeliveryPage,
    WebhookDeliveryView,
)
from loyalty.data import webhooks as data
from loyalty.errors import Conflict, NotFound, RuleViolation, Unavailable
from loyalty.events import DomainEvent
from loyalty.ids import new_id
from loyalty.pii.cipher import PiiCipher
from loyalty.services.webhook_endpoints import get_endpoint, secret_context
from loyalty.webhooks import catalog, signing
from loyalty.webhooks.records import MAX_ATTEMPTS_KEPT, Attempt, Delivery, DeliveryStatus, Endpoint, delivery_id
from loyalty.webhooks.retries import AttemptResult, DisableRule, retry_delay
from loyalty.webhooks.sender import WebhookSender


class DeliveryJob(BaseModel):
    """The delivery queue's message: which delivery to attempt (its body is in the table)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    merchant_id: str
    endpoint_id: str
    delivery_id: str

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryJob:
        return cls(merchant_id=delivery.merchant_id, endpoint_id=delivery.endpoint_id, delivery_id=delivery.delivery_id)


Queue = Callable[[DeliveryJob], None]


class RetryLater(Exception):
    """The attempt failed and the delivery has attempts left: try again in ``delay_seconds``."""

    def __init__(self, delay_seconds: int, reason: str) -> None:
        super().__init__(f"retry in {delay_seconds} s: {reason}")
        self.delay_seconds = delay_seconds


# ---- fan-out -----------------------------------------------------------------------------------
def _new_delivery(
    endpoint: Endpoint, event_type: str, event_id: str, occurred_at: datetime, body: bytes, now: datetime
) -> Delivery:
    return Delivery(
        merchant_id=endpoint.merchant_id,
        endpoint_id=endpoint.endpoint_id,
        delivery_id=delivery_id(endpoint.endpoint_id, event_id, event_type, occurred_at),
        event_type=event_type,
        event_id=event_id,
        occurred_at=occurred_at,
        body=body.decode(),
        created_at=now,
    )


def _start(delivery: Delivery, queue: Queue) -> int:
    """Store the delivery and queue it, once: 0 when it was stored and queued before."""
    if not data.create_delivery(delivery):
        existing = data.get_delivery(delivery.merchant_id, delivery.endpoint_id, delivery.delivery_id)
        if existing is None or existing.queued:
            return 0
        delivery = existing  # stored by an earlier try that stopped before queueing it
    queue(DeliveryJob.of(delivery))
    data.mark_queued(delivery)
    return 1


def fan_out(event: DomainEvent, now: datetime, queue: Queue) -> int:
    """One delivery per enabled endpoint of the merchant subscribed to each type the event is
    delivered as; the number queued (0 for a repeat of an event)."""
    types = catalog.webhook_types(event.type)
    if not types:
        return 0
    endpoints = [endpoint for endpoint in data.endpoints(event.merchant_id) if endpoint.enabled]
    queued = 0
    for event_type in types:
        subscribed = [endpoint for endpoint in endpoints if endpoint.subscribes(event_type.name)]
        if subscribed:
            body = catalog.encode(catalog.payload(event_type, event))
            for endpoint in subscribed:
                delivery = _new_delivery(endpoint, event_type.name, event.event_id, event.occurred_at, body, now)
                queued += _start(delivery, queue)
    return queued


# ---- attempts ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeliverySettings:
    retry_base_seconds: int
    attempts: int  # per delivery (and per replay): the delivery queue's receive budget
    disable_rule: DisableRule


Notice = Callable[[Endpoint, str], None]  # tells the merchant an endpoint was disabled, and why


class Deliverer:
    def __init__(self, sender: WebhookSender, cipher: PiiCipher, settings: DeliverySettings, notice: Notice) -> None:
        self._sender, self._cipher, self._settings, self._notice = sender, cipher, settings, notice

    def deliver(self, job: DeliveryJob, receive_count: int, now: datetime) -> str:
        """One attempt of the delivery (what became of it), or ``RetryLater``."""
        delivery = data.get_delivery(job.merchant_id, job.endpoint_id, job.delivery_id)
        if delivery is None or delivery.status is not DeliveryStatus.PENDING:
            return "repeat"  # done before: a queue message seen twice sends nothing twice
        endpoint = data.get_endpoint(job.merchant_id, job.endpoint_id)
        reason = _not_sendable(endpoint, delivery)
        if endpoint is None or reason is not None:
            data.fail(delivery, reason or "not sendable", now)
            return "failed"
        result = self._sender.post(endpoint.url, delivery.body.encode(), self._headers(endpoint, delivery, now))
        attempt = Attempt(
            delivery.attempt_count + 1,
            now,
            result.status_code,
            result.latency_ms,
            result.error,
            result.response_excerpt,
        )
        if result.delivered:
            data.record_attempt(delivery, attempt, DeliveryStatus.DELIVERED)
            data.count_success(endpoint.merchant_id, endpoint.endpoint_id, now)
            return "delivered"
        return self._failed(endpoint, delivery, attempt, result, receive_count)

    def _headers(self, endpoint: Endpoint, delivery: Delivery, now: datetime) -> dict[str, str]:
        context = secret_context(endpoint.merchant_id, endpoint.endpoint_id)
        secrets = [self._cipher.decrypt(encrypted, context=context) for encrypted in endpoint.encrypted_secrets(now)]
        return signing.headers(delivery.delivery_id, int(now.timestamp()), delivery.body.encode(), secrets)

    def _failed(
        self, endpoint: Endpoint, delivery: Delivery, attempt: Attempt, result: AttemptResult, receives: int
    ) -> str:
        now = attempt.at
        stopped = self._count_failure(endpoint, result, now)
        if stopped is not None or receives >= self._settings.attempts:
            reason = stopped or f"no success in {receives} attempts"
            data.record_attempt(delivery, attempt, DeliveryStatus.FAILED, failure_reason=reason)
            return "failed"
        delay = retry_delay(receives, self._settings.retry_base_seconds, result.retry_after_seconds)
        data.record_attempt(delivery, attempt, DeliveryStatus.PENDING, next_attempt_at=now + timedelta(seconds=delay))
        raise RetryLater(delay, result.error or "failed")

    def _count_failure(self, endpoint: Endpoint, result: AttemptResult, now: datetime) -> str | None:
        """Count the failure against the endpoint; why its deliveries stop now, if they do."""
        health = data.count_failure(endpoint.merchant_id, endpoint.endpoint_id, now)
        if health is None:
            return "the endpoint was deleted"
        if not health.enabled:
            return "the endpoint is disabled"
        reason = self._disable_reason(health, result, now)
        if reason is not None and data.disable_endpoint(health.merchant_id, health.endpoint_id, reason, now):
            self._notice(health, reason)  # only the attempt that disabled it tells the merchant
        return reason

    def _disable_reason(self, health: Endpoint, result: AttemptResult, now: datetime) -> str | None:
        if result.gone:
            return "the endpoint answered 410 Gone: it wants no more deliveries"
        if self._settings.disable_rule.applies(health.failures_in_a_row, health.failing_since, now):
            since = health.failing_since.isoformat(timespec="seconds") if health.failing_since else "?"
            return f"{health.failures_in_a_row} attempts in a row failed since {since}"
        return None


def _not_sendable(endpoint: Endpoint | None, delivery: Delivery) -> str | None:
    if endpoint is None:
        return "the endpoint was deleted"
    if not endpoint.enabled and delivery.event_type != catalog.TEST_EVENT_TYPE:
        return "the endpoint is disabled"
    return None


# ---- test sends, replays, the log ----------------------------------------------------------------
def view(delivery: Delivery) -> WebhookDeliveryView:
    return WebhookDeliveryView(
        delivery_id=delivery.delivery_id,
        endpoint_id=delivery.endpoint_id,
        event_type=delivery.event_type,
        status=delivery.status.value,
        failure_reason=delivery.failure_reason,
        created_at=delivery.created_at,
        updated_at=delivery.updated_at,
        next_attempt_at=delivery.next_attempt_at,
        attempts=[AttemptView(**vars(attempt)) for attempt in delivery.attempts],
    )


def _detail(delivery: Delivery) -> WebhookDeliveryDetail:
    return WebhookDeliveryDetail(**view(delivery).model_dump(), payload=json.loads(delivery.body))


def test_send(merchant_id: str, endpoint_id: str, now: datetime, queue: Queue) -> WebhookDeliveryDetail:
    """A ``webhook.test`` delivery through the same queue, signing and retries as any other (also
    to a disabled endpoint, to check a fix before enabling it again)."""
    endpoint = get_endpoint(merchant_id, endpoint_id)
    body = catalog.encode(catalog.ping_payload(merchant_id, endpoint_id, now))
    delivery = _new_delivery(endpoint, catalog.TEST_EVENT_TYPE, new_id("evt"), now, body, now)
    _start(delivery, queue)
    return _detail(delivery)


def _delivery(merchant_id: str, endpoint_id: str, delivery_id_: str) -> Delivery:
    get_endpoint(merchant_id, endpoint_id)
    delivery = data.get_delivery(merchant_id, endpoint_id, delivery_id_)
    if delivery is None:
        raise NotFound("webhook delivery not found", code="webhook_delivery_not_found")
    return delivery


def get_delivery(merchant_id: str, endpoint_id: str, delivery_id_: str) -> WebhookDeliveryDetail:
    return _detail(_delivery(merchant_id, endpoint_id, delivery_id_))


def replay(merchant_id: str, endpoint_id: str, delivery_id_: str, now: datetime, queue: Queue) -> WebhookDeliveryDetail:
    """Send a delivered or failed delivery again, with the same id and body and a fresh set of
    attempts (a pending one is already on its way: 409)."""
    endpoint = get_endpoint(merchant_id, endpoint_id)
    delivery = _delivery(merchant_id, endpoint_id, delivery_id_)
    if _not_sendable(endpoint, delivery):
        raise Conflict("the endpoint is disabled: enable it first", code="webhook_endpoint_disabled")
    if delivery.attempt_count >= MAX_ATTEMPTS_KEPT:
        raise RuleViolation(f"a delivery is attempted at most {MAX_ATTEMPTS_KEPT} times", code="replay_limit")
    if delivery.status is DeliveryStatus.PENDING or not data.reopen(delivery, now):
        raise Conflict("this delivery is pending: it is being sent already", code="webhook_delivery_pending")
    try:
        queue(DeliveryJob.of(delivery))
    except Exception as exc:
        data.fail(delivery, "the replay could not be queued", now)
        raise Unavailable("the replay could not be queued; retry") from exc
    return get_delivery(merchant_id, endpoint_id, delivery_id_)


def deliveries(merchant_id: str, endpoint_id: str, query: DeliveryQuery) -> WebhookDeliveryPage:
    get_endpoint(merchant_id, endpoint_id)
    status = DeliveryStatus(query.status) if query.status else None
    found, cursor = data.deliveries(merchant_id, endpoint_id, limit=query.limit, cursor=query.cursor, status=status)
    return WebhookDeliveryPage(deliveries=[view(delivery) for delivery in found], next_cursor=cursor)
