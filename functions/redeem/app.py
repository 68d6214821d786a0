"""Redemption at the till and in the shop: quote, redeem (immediate or hold), confirm, cancel; and
the schedule that lapses holds nobody confirmed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty import runtime
from loyalty.api.redemptions import QuoteRequest, QuoteResult, RedemptionRequest, RedemptionView
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.http.access import TILL
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, idempotent_reply, reply
from loyalty.platform.observability import logger, observed_handler
from loyalty.platform.schedule import scheduled_now, time_left
from loyalty.services import redemption

CONFIG = CoreConfig.from_env()
runtime.bootstrap(CONFIG)

bp = ApiBlueprint(__name__, tags=("Redemptions",))


@bp.route(
    "/v1/redemptions/quote",
    methods=["POST"],
    authorizer=merchant_key,
    access=TILL,
    summary="How many points a check can take, and the discount they give",
    request=QuoteRequest,
    response=QuoteResult,
    errors=(404, 422),
    reads_only=True,
)
def post_quote() -> object:
    request = bp.parse(QuoteRequest)
    return reply(200, redemption.quote(bp.merchant_id(), request, utcnow(), runtime.current().cipher()))


@bp.route(
    "/v1/redemptions",
    methods=["POST"],
    authorizer=merchant_key,
    access=TILL,
    summary="Spend points on a check, at once or as a hold to confirm later; once per redemption_id",
    request=RedemptionRequest,
    response=RedemptionView,
    status=201,
    errors=(404, 409, 422, 503),
    idempotent=True,
)
def post_redemption() -> object:
    request = bp.parse(RedemptionRequest)
    result, replayed = redemption.redeem(bp.merchant_id(), request, utcnow(), runtime.current().cipher())
    return idempotent_reply(201, result, replayed)


@bp.route(
    "/v1/redemptions/{redemption_id}/confirm",
    methods=["POST"],
    authorizer=merchant_key,
    access=TILL,
    summary="Confirm a held redemption (confirming a completed one answers it again)",
    response=RedemptionView,
    errors=(404, 409, 503),
)
def post_confirm(redemption_id: str) -> object:
    return reply(200, redemption.confirm(bp.merchant_id(), redemption_id, utcnow()))


@bp.route(
    "/v1/redemptions/{redemption_id}/cancel",
    methods=["POST"],
    authorizer=merchant_key,
    access=TILL,
    summary="Cancel a redemption: its points go back to the member",
    response=RedemptionView,
    errors=(404, 503),
)
def post_cancel(redemption_id: str) -> object:
    return reply(200, redemption.cancel(bp.merchant_id(), redemption_id, utcnow()))


app = create_app("redeem", bp)


@observed_handler
def release_holds(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    result = redemption.release_expired_holds(scheduled_now(event), time_left(context))
    logger.info("holds released", extra=result)
    return result
