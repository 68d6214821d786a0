"""Member sign-in for the merchant's app: a one-time code by SMS, tokens, refresh, sign-out."""

from __future__ import annotations

from loyalty import runtime
from loyalty.api.auth import CodeRequest, CodeSent, RefreshRequest, SignedOut, TokenPair, TokenRequest
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.http.app import create_app
from loyalty.http.blueprint import ApiBlueprint, reply
from loyalty.http.member_auth import member_token
from loyalty.platform.publisher import publish
from loyalty.services import auth

CONFIG = CoreConfig.from_env()
runtime.bootstrap(CONFIG)

bp = ApiBlueprint(__name__, tags=("Member sign-in",))


def token_pair(tokens: auth.Tokens) -> TokenPair:
    return TokenPair(access_token=tokens.access_token, refresh_token=tokens.refresh_token, expires_in=tokens.expires_in)


def client_ip() -> str:
    identity = (bp.current_request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


@bp.route(
    "/v1/auth/code",
    methods=["POST"],
    request=CodeRequest,
    response=CodeSent,
    status=202,
    summary="Text a one-time sign-in code to a member's phone (the answer is the same for anyone)",
)
def post_code() -> object:
    request = bp.parse(CodeRequest)
    event = auth.request_code(request.merchant_id, request.phone, client_ip(), utcnow(), runtime.current().cipher())
    if event is not None:
        publish(CONFIG.event_bus_name, [event])
    return reply(202, CodeSent(sent=True, expires_in=auth.CODE_MINUTES * 60))


@bp.route(
    "/v1/auth/token",
    methods=["POST"],
    request=TokenRequest,
    response=TokenPair,
    errors=(401,),
    summary="Exchange the code for an access token (15 min) and a refresh token (30 days)",
)
def post_token() -> object:
    request = bp.parse(TokenRequest)
    tokens = auth.verify_code(
        request.merchant_id,
        request.phone,
        request.code,
        client_ip(),
        utcnow(),
        runtime.current().cipher(),
        runtime.current().keys().token_key,
    )
    return reply(
        200,
        token_pair(tokens),
    )


@bp.route(
    "/v1/auth/refresh",
    methods=["POST"],
    request=RefreshRequest,
    response=TokenPair,
    errors=(401,),
    summary="New tokens for a refresh token (which is then spent; reusing it ends the session)",
)
def post_refresh() -> object:
    request = bp.parse(RefreshRequest)
    tokens = auth.refresh(request.refresh_token, utcnow(), runtime.current().keys().token_key)
    return reply(
        200,
        token_pair(tokens),
    )


@bp.route(
    "/v1/auth/sign-out",
    methods=["POST"],
    authorizer=member_token,
    response=SignedOut,
    summary="End this session: its tokens stop working",
)
def post_sign_out() -> object:
    context = dict((bp.current_request.context or {}).get("authorizer") or {})
    auth.sign_out(str(context.get("session_id", "")))
    return reply(200, SignedOut(signed_out=True))


app = create_app("auth", bp)
