"""Authorizers: Chalice custom authorizers that are also the API Gateway Lambda authorizers.

In AWS each is its own Lambda handler (functions/authorizer); Chalice's local server and our local
gateway call the very same objects. API Gateway turns the exception message "Unauthorized" into a
401 and a policy without an Allow into a 403; template.yaml's GatewayResponses give both our error
shape. The policy allows the whole API (API Gateway may cache it per credential for all routes);
what a caller may do on each route is decided by the route (``access=``, ``loyalty.http.access``).

The merchant authorizer is a REQUEST authorizer that takes either credential of a merchant: an API
key (``X-Api-Key``, for machines) or a staff member's Cognito access token (``Authorization:
Bearer``, for people). API Gateway allows one authorizer per method, and skips a REQUEST
authorizer whose identity sources are missing, so it has none and is not cached: it runs on every
request and reads the key's or the staff member's item each time, so a revoked key, a removed
account, a changed role or a sign-out apply from the next request.
"""

from __future__ import annotations

from typing import Any

from chalice.app import AuthRequest, AuthResponse

from loyalty import runtime
from loyalty.clock import utcnow
from loyalty.domain.access import Principal
from loyalty.errors import Unauthenticated
from loyalty.http.access import context_of
from loyalty.http.blueprint import ReusableBlueprint
from loyalty.http.request_auth import HeadersAuthRequest, request_authorizer
from loyalty.platform.usage_plans import usage_key

auth = ReusableBlueprint(__name__)

UNAUTHORIZED = "Unauthorized"  # the exact message API Gateway maps to 401


def bearer_token(header_value: str | None) -> str:
    scheme, _, token = (header_value or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("expected 'Authorization: Bearer <token>'")
    return token.strip()


def merchant_principal(headers: dict[str, str]) -> Principal:
    """The merchant's key or staff member behind the request's one credential."""
    # Imported here: in AWS only the authorizer function runs this (functions/authorizer imports
    # them at cold start); every other function registers the authorizer without calling it.
    from loyalty.services import keys, staff

    api_key, authorization = headers.get("x-api-key"), headers.get("authorization")
    if api_key and authorization:
        raise Unauthenticated("send one credential: X-Api-Key or Authorization, not both")
    if api_key:
        return keys.authenticate(api_key, utcnow())
    if authorization:
        return staff.authenticate(bearer_token(authorization), utcnow())
    raise Unauthenticated("missing credentials: X-Api-Key or Authorization: Bearer")


@request_authorizer(auth, "MerchantKey")
def merchant_key(request: HeadersAuthRequest) -> dict[str, Any]:
    try:
        principal = merchant_principal(request.headers)
    except Unauthenticated as exc:
        raise Exception(UNAUTHORIZED) from exc
    allowed = AuthResponse(routes=["*"], principal_id=principal.actor_id, context=context_of(principal))
    # The merchant's usage-plan key: API Gateway throttles and counts each merchant separately,
    # whether its tills or its people call.
    secret = runtime.current().keys().token_key
    return {**allowed.to_dict(request), "usageIdentifierKey": usage_key(principal.merchant_id, secret)}


@auth.authorizer(name="AdminToken", header="Authorization", ttl_seconds=60)
def admin_token(request: AuthRequest) -> AuthResponse:
    try:
        token = bearer_token(request.token)
    except Unauthenticated as exc:
        raise Exception(UNAUTHORIZED) from exc
    if not runtime.current().is_admin_token(token):
        raise Exception(UNAUTHORIZED)
    return AuthResponse(routes=["*"], principal_id="platform-admin", context={"principal": "admin"})
