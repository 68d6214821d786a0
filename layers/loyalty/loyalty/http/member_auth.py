"""The member authorizer (mobile app, ``Authorization: Bearer <access token>``), on the same
blueprint as the merchant and admin authorizers: a valid token of a live session, or 401."""

from __future__ import annotations

from chalice.app import AuthRequest, AuthResponse

from loyalty import runtime
from loyalty.clock import utcnow
from loyalty.errors import Unauthenticated
from loyalty.http.auth import UNAUTHORIZED, auth, bearer_token
from loyalty.services.auth import verify_access_token


@auth.authorizer(name="MemberToken", header="Authorization", ttl_seconds=60)
def member_token(request: AuthRequest) -> AuthResponse:
    try:
        claims = verify_access_token(bearer_token(request.token), runtime.current().keys().token_key, utcnow())
    except Unauthenticated as exc:
        raise Exception(UNAUTHORIZED) from exc
    return AuthResponse(
        routes=["*"],
        principal_id=claims.member_id,
        context={
            "principal": "member",
            "merchant_id": claims.merchant_id,
            "member_id": claims.member_id,
            "session_id": claims.session_id,
        },
    )
