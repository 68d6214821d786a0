"""The webhooks table: the merchant's endpoints and the delivery log.

Keys:
- endpoint   pk ``ENDPOINT#<merchant>``               sk ``<endpoint id>``
- delivery   pk ``DELIVERY#<merchant>#<endpoint id>``  sk ``<delivery id>`` (ids sort by the event's time)

A delivery is created once per (endpoint, event type, event): its id is derived from them and the
create is conditional, so an event delivered twice to the fan-out makes one delivery. Its attempts
are appended to it. Deliveries are kept ``KEEP_DAYS`` (TTL; cleanup only).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist, UpdateError

from loyalty.data.base import Item, table_base
from loyalty.data.transaction import AlreadyExists, Transaction
from loyalty.errors import InvalidRequest
from loyalty.webhooks.records import Attempt, Delivery, DeliveryStatus, Endpoint

KEEP_DAYS = 30
MAX_ENDPOINTS_READ = 100


@table_base
class _WebhooksTable(Item):
    table_env = "webhooks_table"

    class Meta:
        table_name = "unbound"


class EndpointItem(_WebhooksTable):
    merchant_id = UnicodeAttribute()
    endpoint_id = UnicodeAttribute()
    url = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    event_types = JSONAttribute(null=True)
    secret_enc = UnicodeAttribute()
    alert_email_enc = UnicodeAttribute(null=True)
    enabled = BooleanAttribute(default=True)
    disabled_reason = UnicodeAttribute(null=True)
    disabled_at = UTCDateTimeAttribute(null=True)
    secret_rotated_at = UTCDateTimeAttribute(null=True)
    previous_secret_enc = UnicodeAttribute(null=True)
    previous_secret_expires_at = UTCDateTimeAttribute(null=True)
    failures_in_a_row = NumberAttribute(default=0)
    failing_since = UTCDateTimeAttribute(null=True)
    last_success_at = UTCDateTimeAttribute(null=True)
    last_failure_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=0)


class DeliveryItem(_WebhooksTable):
    merchant_id = UnicodeAttribute()
    endpoint_id = UnicodeAttribute()
    delivery_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    event_id = UnicodeAttribute()
    occurred_at = UTCDateTimeAttribute()
    body = UnicodeAttribute()
    status = UnicodeAttribute()
    attempts = ListAttribute(default=list)  # type: ignore[var-annotated]
    queued = BooleanAttribute(default=False)
    next_attempt_at = UTCDateTimeAttribute(null=True)
    failure_reason = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # TTL: cleanup only


# ---- endpoints ---------------------------------------------------------------------------------
def _endpoint_pk(merchant_id: str) -> str:
    return f"ENDPOINT#{merchant_id}"


def _to_endpoint(item: EndpointItem) -> Endpoint:
    return Endpoint(
        merchant_id=item.merchant_id,
        endpoint_id=item.endpoint_id,
        url=item.url,
        event_types=tuple(item.event_types) if item.event_types is not None else None,
        secret_enc=item.secret_enc,
        created_at=item.created_at,
        updated_at=item.updated_at,
        description=item.description,
        alert_email_enc=item.alert_email_enc,
        enabled=bool(item.enabled),
        disabled_reason=item.disabled_reason,
        disabled_at=item.disabled_at,
        secret_rotated_at=item.secret_rotated_at,
        previous_secret_enc=item.previous_secret_enc,
        previous_secret_expires_at=item.previous_secret_expires_at,
        failures_in_a_row=int(item.failures_in_a_row or 0),
        failing_since=item.failing_since,
        last_success_at=item.last_success_at,
        last_failure_at=item.last_failure_at,
        version=int(item.version or 0),
    )


def _endpoint_item(endpoint: Endpoint, version: int) -> EndpointItem:
    return EndpointItem(
        _endpoint_pk(endpoint.merchant_id),
        endpoint.endpoint_id,
        merchant_id=endpoint.merchant_id,
        endpoint_id=endpoint.endpoint_id,
        url=endpoint.url,
        description=endpoint.description,
        event_types=list(endpoint.event_types) if endpoint.event_types is not None else None,
        secret_enc=endpoint.secret_enc,
        alert_email_enc=endpoint.alert_email_enc,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        disabled_at=endpoint.disabled_at,
        secret_rotated_at=endpoint.secret_rotated_at,
        previous_secret_enc=endpoint.previous_secret_enc,
        previous_secret_expires_at=endpoint.previous_secret_expires_at,
        failures_in_a_row=endpoint.failures_in_a_row,
        failing_since=endpoint.failing_since,
        last_success_at=endpoint.last_success_at,
        last_failure_at=endpoint.last_failure_at,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
        version=version,
    )


def create_endpoint(endpoint: Endpoint) -> None:
    """``AlreadyExists("endpoint")`` when the id is taken."""
    tx = Transaction()
    tx.create(_endpoint_item(endpoint, 1), name="endpoint")
    tx.commit()


def endpoints(merchant_id: str, *, consistent: bool = False) -> list[Endpoint]:
    items = EndpointItem.query(_endpoint_pk(merchant_id), consistent_read=consistent, limit=MAX_ENDPOINTS_READ)
    return [_to_endpoint(item) for item in items]


def get_endpoint(merchant_id: str, endpoint_id: str) -> Endpoint | None:
    try:
        return _to_endpoint(EndpointItem.get(_endpoint_pk(merchant_id), endpoint_id, consistent_read=True))
    except DoesNotExist:
        return None


_SAVED_FIELDS = tuple(
    field.name
    for field in fields(Endpoint)
    if field.name not in ("merchant_id", "endpoint_id", "created_at", "version", "last_success_at", "last_failure_at")
)


def save_endpoint(before: Endpoint, after: Endpoint) -> None:
    """Write what changed from ``before`` to ``after``, if the endpoint is still as it was read
    (``Stale("endpoint")`` otherwise). Only changed fields are written: the failure counts that
    deliveries keep adding meanwhile are not overwritten with what was read."""
    actions: list[Any] = [EndpointItem.version.add(1)]
    for name in _SAVED_FIELDS:
        value = getattr(after, name)
        if value != getattr(before, name):
            stored = list(value) if isinstance(value, tuple) else value
            actions.append(_set_or_remove(getattr(EndpointItem, name), stored))
    tx = Transaction()
    tx.update(
        EndpointItem(_endpoint_pk(before.merchant_id), before.endpoint_id),
        actions,
        condition=EndpointItem.version == before.version,
        name="endpoint",
    )
    tx.commit()


def delete_endpoint(merchant_id: str, endpoint_id: str) -> None:
    EndpointItem(_endpoint_pk(merchant_id), endpoint_id).delete()


def count_failure(merchant_id: str, endpoint_id: str, now: datetime) -> Endpoint | None:
    """One more failed attempt in a row; the endpoint after it (None: it was deleted)."""
    item = EndpointItem(_endpoint_pk(merchant_id), endpoint_id)
    try:
        item.update(
            actions=[
                EndpointItem.failures_in_a_row.add(1),
                EndpointItem.failing_since.set(EndpointItem.failing_since | now),
                EndpointItem.last_failure_at.set(now),
            ],
            condition=EndpointItem.pk.exists(),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    return _to_endpoint(item)


def count_success(merchant_id: str, endpoint_id: str, now: datetime) -> None:
    try:
        EndpointItem(_endpoint_pk(merchant_id), endpoint_id).update(
            actions=[
                EndpointItem.failures_in_a_row.set(0),
                EndpointItem.failing_since.remove(),
                EndpointItem.last_success_at.set(now),
            ],
            condition=EndpointItem.pk.exists(),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def disable_endpoint(merchant_id: str, endpoint_id: str, reason: str, now: datetime) -> bool:
    """Disable an enabled endpoint; True only for the call that did (it sends the notice)."""
    try:
        EndpointItem(_endpoint_pk(merchant_id), endpoint_id).update(
            actions=[
                EndpointItem.enabled.set(False),
                EndpointItem.disabled_reason.set(reason),
                EndpointItem.disabled_at.set(now),
                EndpointItem.updated_at.set(now),
                EndpointItem.version.add(1),
            ],
            condition=EndpointItem.enabled == True,  # noqa: E712 - a DynamoDB condition, not a comparison
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


# ---- deliveries --------------------------------------------------------------------------------
def _delivery_pk(merchant_id: str, endpoint_id: str) -> str:
    return f"DELIVERY#{merchant_id}#{endpoint_id}"


def _ttl(now: datetime) -> int:
    return int((now + timedelta(days=KEEP_DAYS)).timestamp())


def _to_delivery(item: DeliveryItem) -> Delivery:
    return Delivery(
        merchant_id=item.merchant_id,
        endpoint_id=item.endpoint_id,
        delivery_id=item.delivery_id,
        event_type=item.event_type,
        event_id=item.event_id,
        occurred_at=item.occurred_at,
        body=item.body,
        created_at=item.created_at,
        status=DeliveryStatus(item.status),
        attempts=tuple(Attempt.from_dict(raw) for raw in item.attempts or []),
        queued=bool(item.queued),
        next_attempt_at=item.next_attempt_at,
        updated_at=item.updated_at,
        failure_reason=item.failure_reason,
    )


def _key(delivery: Delivery) -> DeliveryItem:
    return DeliveryItem(_delivery_pk(delivery.merchant_id, delivery.endpoint_id), delivery.delivery_id)


def create_delivery(delivery: Delivery) -> bool:
    """Store a new delivery; False when it exists (the same event for the same endpoint)."""
    item = DeliveryItem(
        _delivery_pk(delivery.merchant_id, delivery.endpoint_id),
        delivery.delivery_id,
        merchant_id=delivery.merchant_id,
        endpoint_id=delivery.endpoint_id,
        delivery_id=delivery.delivery_id,
        event_type=delivery.event_type,
        event_id=delivery.event_id,
        occurred_at=delivery.occurred_at,
        body=delivery.body,
        status=delivery.status.value,
        attempts=[],
        queued=False,
        created_at=delivery.created_at,
        updated_at=delivery.created_at,
        expires_at=_ttl(delivery.created_at),
    )
    tx = Transaction()
    tx.create(item, name="delivery")
    try:
        tx.commit()
    except AlreadyExists:
        return False
    return True


def mark_queued(delivery: Delivery) -> None:
    _key(delivery).update(actions=[DeliveryItem.queued.set(True)])


def get_delivery(merchant_id: str, endpoint_id: str, delivery_id: str) -> Delivery | None:
    try:
        item = DeliveryItem.get(_delivery_pk(merchant_id, endpoint_id), delivery_id, consistent_read=True)
    except DoesNotExist:
        return None
    return _to_delivery(item)


def _set_or_remove(attribute: Any, value: Any) -> Any:
    return attribute.set(value) if value is not None else attribute.remove()


def record_attempt(
    delivery: Delivery,
    attempt: Attempt,
    status: DeliveryStatus,
    *,
    next_attempt_at: datetime | None = None,
    failure_reason: str | None = None,
) -> None:
    """Append an attempt and set the delivery's status (``next_attempt_at``: when it is retried)."""
    _key(delivery).update(
        actions=[
            DeliveryItem.attempts.set(DeliveryItem.attempts.append([attempt.as_dict()])),
            DeliveryItem.status.set(status.value),
            DeliveryItem.updated_at.set(attempt.at),
            DeliveryItem.expires_at.set(_ttl(attempt.at)),
            _set_or_remove(DeliveryItem.next_attempt_at, next_attempt_at),
            _set_or_remove(DeliveryItem.failure_reason, failure_reason),
        ]
    )


def fail(delivery: Delivery, reason: str, now: datetime) -> None:
    """End a delivery without an attempt (its endpoint was disabled or deleted meanwhile)."""
    _key(delivery).update(
        actions=[
            DeliveryItem.status.set(DeliveryStatus.FAILED.value),
            DeliveryItem.failure_reason.set(reason),
            DeliveryItem.updated_at.set(now),
            DeliveryItem.next_attempt_at.remove(),
        ]
    )


def reopen(delivery: Delivery, now: datetime) -> bool:
    """Make a finished delivery pending again (a replay); False when it is pending already."""
    try:
        _key(delivery).update(
            actions=[
                DeliveryItem.status.set(DeliveryStatus.PENDING.value),
                DeliveryItem.failure_reason.remove(),
                DeliveryItem.updated_at.set(now),
                DeliveryItem.expires_at.set(_ttl(now)),
            ],
            condition=DeliveryItem.status != DeliveryStatus.PENDING.value,
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def deliveries(
    merchant_id: str, endpoint_id: str, *, limit: int, cursor: str | None, status: DeliveryStatus | None
) -> tuple[list[Delivery], str | None]:
    """``limit`` deliveries of the endpoint, newest first, and the next page's cursor; with
    ``status``, those of them in that status (a page may hold fewer: the reads stay bounded)."""
    pk = _delivery_pk(merchant_id, endpoint_id)
    start = {"pk": {"S": pk}, "sk": {"S": _decode_cursor(cursor)}} if cursor else None
    results = DeliveryItem.query(pk, scan_index_forward=False, limit=limit, last_evaluated_key=start)
    found = [_to_delivery(item) for item in results]
    found = [delivery for delivery in found if status is None or delivery.status is status]
    last = results.last_evaluated_key
    return found, base64.urlsafe_b64encode(last["sk"]["S"].encode()).decode().rstrip("=") if last else None


def _decode_cursor(cursor: str) -> str:
    try:
        sk = base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest("cursor is not valid", details={"field": "cursor"}) from exc
    if not sk.startswith("msg_") or len(sk) > 64:
        raise InvalidRequest("cursor is not valid", details={"field": "cursor"})
    return sk
