"""Tiers: the scheduled review (downgrades after the grace period, lapsed paid memberships) and
selling a paid membership. Upgrades happen in the purchase's own write (loyalty.services.tiers)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty import runtime
from loyalty.api.tiers import MembershipRequest, MembershipView
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.http.access import MANAGE
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, idempotent_reply
from loyalty.platform.observability import logger, observed_handler
from loyalty.platform.schedule import scheduled_now, time_left
from loyalty.services import tiers

CONFIG = CoreConfig.from_env()
runtime.bootstrap(CONFIG)

bp = ApiBlueprint(__name__, tags=("Tiers and bonuses",))


@bp.route(
    "/v1/members/{member_id}/membership",
    methods=["POST"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Sell a paid tier for some months (the same tier again extends it); once per membership_id",
    request=MembershipRequest,
    response=MembershipView,
    status=201,
    errors=(404, 409, 422, 503),
    idempotent=True,
)
def post_membership(member_id: str) -> object:
    request = bp.parse(MembershipRequest)
    result, replayed = tiers.buy_membership(bp.merchant_id(), member_id, request, utcnow())
    return idempotent_reply(201, result, replayed)


app = create_app("tiers", bp)


@observed_handler
def review(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    result = tiers.run_tier_review(scheduled_now(event), time_left=time_left(context))
    logger.info("tier review", extra=result)
    return result
