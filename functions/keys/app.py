"""The owner's credentials for machines: API keys (for tills, web shops and integrations, each
with a scope) and partner signing keys (for the purchase-events queue)."""

from __future__ import annotations

from datetime import timedelta

from loyalty import runtime
from loyalty.api.keys import (
    CreateKeyRequest,
    CreatePartnerRequest,
    IssuedKeyView,
    IssuedPartnerView,
    KeyList,
    KeyView,
    PartnerList,
    PartnerView,
    RotateKeyRequest,
)
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.data.credentials import ApiKey
from loyalty.http.access import OWNER
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, reply
from loyalty.services import keys, partners

CONFIG = CoreConfig.from_env()
runtime.bootstrap(CONFIG)

bp = ApiBlueprint(__name__, tags=("Keys and partners",))


def key_view(key: ApiKey) -> KeyView:
    return KeyView(
        key_id=key.key_id,
        name=key.name,
        scope=key.scope,
        status=key.status,
        hint=key.hint,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        rotated_at=key.rotated_at,
        previous_secret_valid_until=key.previous_valid_until,
        revoked_at=key.revoked_at,
    )


def issued_view(issued: keys.IssuedKey) -> IssuedKeyView:
    return IssuedKeyView(**key_view(issued.key).model_dump(), api_key=issued.secret)


def actor_id() -> str:
    principal = bp.principal()
    return principal.actor_id if principal else "unknown"


@bp.route(
    "/v1/keys",
    methods=["GET"],
    authorizer=merchant_key,
    access=OWNER,
    summary="The merchant's API keys with their scope and last use (secrets are never shown again)",
    response=KeyList,
)
def list_keys() -> object:
    return reply(200, KeyList(keys=[key_view(key) for key in keys.list_keys(bp.merchant_id())]))


@bp.route(
    "/v1/keys",
    methods=["POST"],
    authorizer=merchant_key,
    access=OWNER,
    summary="Create a named API key with a scope; its secret is shown only in this answer",
    request=CreateKeyRequest,
    response=IssuedKeyView,
    status=201,
    errors=(409,),
)
def create_key() -> object:
    request = bp.parse(CreateKeyRequest)
    issued = keys.issue(bp.merchant_id(), request.name, request.scope, utcnow(), created_by=actor_id())
    return reply(201, issued_view(issued))


@bp.route(
    "/v1/keys/{key_id}/rotate",
    methods=["POST"],
    authorizer=merchant_key,
    access=OWNER,
    summary="Give a key a new secret (shown only in this answer); the old one works for grace_hours more",
    request=RotateKeyRequest,
    response=IssuedKeyView,
    errors=(409,),
)
def rotate_key(key_id: str) -> object:
    request = bp.parse(RotateKeyRequest)
    issued = keys.rotate(bp.merchant_id(), key_id, utcnow(), timedelta(hours=request.grace_hours))
    return reply(200, issued_view(issued))


@bp.route(
    "/v1/keys/{key_id}/revoke",
    methods=["POST"],
    authorizer=merchant_key,
    access=OWNER,
    summary="Revoke a key: every secret of it is refused from the next request",
    response=KeyView,
    errors=(409,),
)
def revoke_key(key_id: str) -> object:
    return reply(200, key_view(keys.revoke(bp.merchant_id(), key_id, utcnow())))


@bp.route(
    "/v1/partners",
    methods=["GET"],
    authorizer=merchant_key,
    access=OWNER,
    summary="The partner systems allowed to send purchases to the purchase-events queue",
    response=PartnerList,
)
def list_partners() -> object:
    return reply(200, PartnerList(partners=partners.list_partners(bp.merchant_id())))


@bp.route(
    "/v1/partners",
    methods=["POST"],
    authorizer=merchant_key,
    access=OWNER,
    summary="Issue a partner its signing key for the purchase-events queue (the secret is shown only here)",
    request=CreatePartnerRequest,
    response=IssuedPartnerView,
    status=201,
    errors=(409,),
)
def create_partner() -> object:
    request = bp.parse(CreatePartnerRequest)
    partner, secret = partners.issue(bp.merchant_id(), request.name, utcnow(), runtime.current().cipher(), actor_id())
    return reply(201, IssuedPartnerView(**partners.view(partner).model_dump(), signing_secret=secret))


@bp.route(
    "/v1/partners/{partner_id}/revoke",
    methods=["POST"],
    authorizer=merchant_key,
    access=OWNER,
    summary="Revoke a partner's signing key: its messages are dead-lettered from the next one",
    response=PartnerView,
)
def revoke_partner(partner_id: str) -> object:
    return reply(200, partners.revoke(bp.merchant_id(), partner_id, utcnow()))


app = create_app("keys", bp)
