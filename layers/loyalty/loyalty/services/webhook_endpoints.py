"""The merchant's webhook endpoints: subscribe a URL to event types, change, pause or re-enable
it, rotate its signing secret, remove it; and the catalog of event types.

A secret is shown once, when it is made (creating the endpoint, rotating); it is kept encrypted,
because every delivery is signed with it. Creating an endpoint is therefore not idempotent on a
client id as other creates are: a replayed answer would have to keep the secret readable.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from loyalty.api.webhooks import (
    CreatedEndpointView,
    EndpointRequest,
    EndpointUpdate,
    EndpointView,
    EventTypeList,
    EventTypeView,
    RotateSecretRequest,
    SecretView,
)
from loyalty.data import webhooks as data
from loyalty.data.transaction import Stale
from loyalty.errors import Busy, InvalidRequest, NotFound, RuleViolation
from loyalty.ids import new_id
from loyalty.pii.cipher import PiiCipher
from loyalty.pii.contact import normalise_email
from loyalty.webhooks import catalog, signing
from loyalty.webhooks.records import Endpoint
from loyalty.webhooks.urls import UrlPolicy, check_url

MAX_ENDPOINTS = 20
SAVE_TRIES = 5
HEADERS_HELP = {
    signing.ID_HEADER: "the delivery's id: the same on every retry and replay; skip ids you have processed",
    signing.TIMESTAMP_HEADER: "when this attempt was sent, unix seconds; refuse ones far from your clock",
    signing.SIGNATURE_HEADER: "space-separated v1,<base64 HMAC-SHA256> of '<id>.<timestamp>.<raw body>' with "
    "the secret's bytes (base64 after whsec_); two during a secret rotation",
}


def secret_context(merchant_id: str, endpoint_id: str) -> str:
    return f"webhook-secret:{merchant_id}:{endpoint_id}"


def _email_context(merchant_id: str, endpoint_id: str) -> str:
    return f"webhook-alert:{merchant_id}:{endpoint_id}"


def alert_email(endpoint: Endpoint, cipher: PiiCipher) -> str | None:
    if endpoint.alert_email_enc is None:
        return None
    return cipher.decrypt(endpoint.alert_email_enc, context=_email_context(endpoint.merchant_id, endpoint.endpoint_id))


def view(endpoint: Endpoint, cipher: PiiCipher) -> EndpointView:
    return EndpointView(
        endpoint_id=endpoint.endpoint_id,
        url=endpoint.url,
        description=endpoint.description,
        event_types=list(endpoint.event_types) if endpoint.event_types is not None else None,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        disabled_at=endpoint.disabled_at,
        failures_in_a_row=endpoint.failures_in_a_row,
        failing_since=endpoint.failing_since,
        last_success_at=endpoint.last_success_at,
        last_failure_at=endpoint.last_failure_at,
        alert_email=alert_email(endpoint, cipher),
        secret_rotated_at=endpoint.secret_rotated_at,
        previous_secret_expires_at=endpoint.previous_secret_expires_at,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


def _encrypted_email(raw: str | None, merchant_id: str, endpoint_id: str, cipher: PiiCipher) -> str | None:
    if raw is None:
        return None
    try:
        email = normalise_email(raw)
    except InvalidRequest as exc:
        raise InvalidRequest("alert_email is not an email address", details={"field": "alert_email"}) from exc
    return cipher.encrypt(email, context=_email_context(merchant_id, endpoint_id))


def get_endpoint(merchant_id: str, endpoint_id: str) -> Endpoint:
    endpoint = data.get_endpoint(merchant_id, endpoint_id)
    if endpoint is None:
        raise NotFound("webhook endpoint not found", code="webhook_endpoint_not_found")
    return endpoint


def create(
    merchant_id: str, request: EndpointRequest, now: datetime, cipher: PiiCipher, policy: UrlPolicy
) -> CreatedEndpointView:
    url = check_url(request.url, policy)
    if len(data.endpoints(merchant_id, consistent=True)) >= MAX_ENDPOINTS:
        raise RuleViolation(
            f"a merchant has at most {MAX_ENDPOINTS} webhook endpoints; remove one first", code="too_many_endpoints"
        )
    endpoint_id = new_id("we")
    secret = signing.new_secret()
    endpoint = Endpoint(
        merchant_id=merchant_id,
        endpoint_id=endpoint_id,
        url=url,
        event_types=tuple(dict.fromkeys(request.event_types)) if request.event_types else None,
        secret_enc=cipher.encrypt(secret, context=secret_context(merchant_id, endpoint_id)),
        created_at=now,
        updated_at=now,
        description=request.description or None,
        alert_email_enc=_encrypted_email(request.alert_email, merchant_id, endpoint_id, cipher),
        secret_rotated_at=now,
    )
    data.create_endpoint(endpoint)
    return CreatedEndpointView(**view(endpoint, cipher).model_dump(), secret=secret)


def list_endpoints(merchant_id: str, cipher: PiiCipher) -> list[EndpointView]:
    found = sorted(data.endpoints(merchant_id, consistent=True), key=lambda endpoint: endpoint.created_at)
    return [view(endpoint, cipher) for endpoint in found]


def _updated(before: Endpoint, update: EndpointUpdate, now: datetime, cipher: PiiCipher, policy: UrlPolicy) -> Endpoint:
    given = update.model_fields_set
    after = replace(before, updated_at=now)
    if "url" in given:
        if update.url is None:
            raise InvalidRequest("url cannot be removed", details={"field": "url"})
        after = replace(after, url=check_url(update.url, policy))
    if "event_types" in given:
        after = replace(after, event_types=tuple(dict.fromkeys(update.event_types)) if update.event_types else None)
    if "description" in given:
        after = replace(after, description=update.description or None)
    if "alert_email" in given:
        encrypted = _encrypted_email(update.alert_email, before.merchant_id, before.endpoint_id, cipher)
        after = replace(after, alert_email_enc=encrypted)
    return _switched(after, update.enabled, now) if update.enabled is not None else after


def _switched(endpoint: Endpoint, enabled: bool, now: datetime) -> Endpoint:
    if enabled:
        return endpoint if endpoint.enabled else endpoint.enabled_again(now)
    return endpoint.disabled("paused by the merchant", now) if endpoint.enabled else endpoint


def update(
    merchant_id: str, endpoint_id: str, request: EndpointUpdate, now: datetime, cipher: PiiCipher, policy: UrlPolicy
) -> EndpointView:
    for _ in range(SAVE_TRIES):
        before = get_endpoint(merchant_id, endpoint_id)
        after = _updated(before, request, now, cipher, policy)
        try:
            data.save_endpoint(before, after)
        except Stale:
            continue  # a delivery disabled it, or another request changed it: apply to what it is now
        return view(replace(after, version=before.version + 1), cipher)
    raise Busy("the endpoint is busy; retry")


def delete(merchant_id: str, endpoint_id: str) -> None:
    """Its pending deliveries end as failed; its delivery log can no longer be read (the items
    expire with the log's TTL)."""
    get_endpoint(merchant_id, endpoint_id)
    data.delete_endpoint(merchant_id, endpoint_id)


def rotate_secret(
    merchant_id: str, endpoint_id: str, request: RotateSecretRequest, now: datetime, cipher: PiiCipher
) -> SecretView:
    """A new secret signs from now on; the old one also signs for ``previous_secret_valid_hours``,
    so the receiver can switch without a failed delivery."""
    secret = signing.new_secret()
    hours = request.previous_secret_valid_hours
    for _ in range(SAVE_TRIES):
        before = get_endpoint(merchant_id, endpoint_id)
        after = replace(
            before,
            secret_enc=cipher.encrypt(secret, context=secret_context(merchant_id, endpoint_id)),
            previous_secret_enc=before.secret_enc if hours else None,
            previous_secret_expires_at=now + timedelta(hours=hours) if hours else None,
            secret_rotated_at=now,
            updated_at=now,
        )
        try:
            data.save_endpoint(before, after)
        except Stale:
            continue
        return SecretView(
            endpoint_id=endpoint_id, secret=secret, previous_secret_expires_at=after.previous_secret_expires_at
        )
    raise Busy("the endpoint is busy; retry")


def event_types() -> EventTypeList:
    return EventTypeList(
        event_types=[
            EventTypeView(name=event_type.name, description=event_type.description, example=catalog.example(event_type))
            for event_type in catalog.EVENT_TYPES
        ],
        headers=HEADERS_HELP,
    )
