"""Authorizers: Chalice custom authorizers that are also the API Gateway Lambda (TOKEN) authorizers.

In AWS each is its own Lambda handler (functions/authorizer); Chalice's local server and our local
gateway call the very same objects. API Gateway turns the exception message "Unauthorized" into a
401 and a policy without an Allow into a 403; template.yaml's GatewayResponses give both our error
shape. The policy allows the whole API, because API Gateway caches it per token for all routes.
"""

from __future__ import annotations

from typing import Any

from chalice.app import AuthRequest, AuthResponse

from loyalty import runtime
from loyalty.errors import Unauthenticated
from loyalty.http.blueprint import ReusableBlueprint
from loyalty.platform.usage_plans import usage_key
from loyalty.services.merchants import merchant_for_api_key

auth = ReusableBlueprint(__name__)

UNAUTHORIZED = "Unauthorized"  # the exact message API Gateway maps to 401


def bearer_token(header_value: str | None) -> str:
    scheme, _, token = (header_value or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("expected 'Authorization: Bearer <token>'")
    return token.strip()


@auth.authorizer(name="MerchantKey", header="X-Api-Key", ttl_seconds=300)
def merchant_key(request: AuthRequest) -> dict[str, Any]:
    try:
        merchant_id = merchant_for_api_key(request.token)
    except Unauthenticated as exc:
        raise Exception(UNAUTHORIZED) from exc
    allowed = AuthResponse(
        routes=["*"], principal_id=merchant_id, context={"principal": "merchant", "merchant_id": merchant_id}
    )
    # The merchant's usage-plan key: API Gateway throttles and counts each merchant separately.
    secret = runtime.current().keys().token_key
    return {**allowed.to_dict(request), "usageIdentifierKey": usage_key(merchant_id, secret)}


@auth.authorizer(name="AdminToken", header="Authorization", ttl_seconds=60)
def admin_token(request: AuthRequest) -> AuthResponse:
    try:
        token = bearer_token(request.token)
    except Unauthenticated as exc:
        raise Exception(UNAUTHORIZED) from exc
    if not runtime.current().is_admin_token(token):
        raise Exception(UNAUTHORIZED)
    return AuthResponse(routes=["*"], principal_id="platform-admin", context={"principal": "admin"})
