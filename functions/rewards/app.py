"""The rewards catalog and coupons: claim a reward for points, check and use a coupon at the till."""

from __future__ import annotations

from loyalty import runtime
from loyalty.api.redemptions import (
    ClaimRequest,
    CouponRedeemRequest,
    CouponView,
    RewardEdit,
    RewardList,
    RewardRequest,
    RewardView,
)
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.http.access import MANAGE, TILL
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, idempotent_reply, reply
from loyalty.services import rewards

CONFIG = CoreConfig.from_env()
runtime.bootstrap(CONFIG)

bp = ApiBlueprint(__name__, tags=("Rewards and coupons",))


@bp.route(
    "/v1/rewards",
    methods=["GET"],
    authorizer=merchant_key,
    access=TILL,
    summary="The rewards catalog",
    response=RewardList,
)
def get_rewards() -> object:
    return reply(200, RewardList(rewards=rewards.list_rewards(bp.merchant_id())))


@bp.route(
    "/v1/rewards",
    methods=["POST"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Add a reward to the catalog, once per reward_id",
    request=RewardRequest,
    response=RewardView,
    status=201,
    errors=(409,),
    idempotent=True,
)
def post_reward() -> object:
    view, replayed = rewards.create_reward(bp.merchant_id(), bp.parse(RewardRequest), utcnow())
    return idempotent_reply(201, view, replayed)


@bp.route(
    "/v1/rewards/{reward_id}",
    methods=["PATCH"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Edit a reward (name, description, points, coupon validity; active false retires it); "
    "coupons already claimed stay as issued and valid",
    request=RewardEdit,
    response=RewardView,
    errors=(404,),
)
def patch_reward(reward_id: str) -> object:
    return reply(200, rewards.edit_reward(bp.merchant_id(), reward_id, bp.parse(RewardEdit)))


@bp.route(
    "/v1/rewards/{reward_id}",
    methods=["DELETE"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Retire a reward: no new claims; coupons already claimed stay valid",
    response=RewardView,
    errors=(404,),
)
def retire_reward(reward_id: str) -> object:
    return reply(200, rewards.edit_reward(bp.merchant_id(), reward_id, RewardEdit(active=False)))


@bp.route(
    "/v1/coupons",
    methods=["POST"],
    authorizer=merchant_key,
    access=TILL,
    summary="Claim a reward for points: a coupon is issued, once per claim_id",
    request=ClaimRequest,
    response=CouponView,
    status=201,
    errors=(404, 409, 422, 503),
    idempotent=True,
)
def post_coupon() -> object:
    request = bp.parse(ClaimRequest)
    coupon, replayed = rewards.claim(bp.merchant_id(), request, utcnow(), runtime.current().cipher())
    return idempotent_reply(201, coupon, replayed)


@bp.route(
    "/v1/coupons/{code}",
    methods=["GET"],
    authorizer=merchant_key,
    access=TILL,
    summary="Check a coupon at the till",
    response=CouponView,
    errors=(404,),
)
def get_coupon(code: str) -> object:
    return reply(200, rewards.coupon_view(rewards.get_coupon(bp.merchant_id(), code), utcnow()))


@bp.route(
    "/v1/coupons/{code}/redeem",
    methods=["POST"],
    authorizer=merchant_key,
    access=TILL,
    summary="Use a coupon's item(s) at the till, never more than it has (the same transaction_id again "
    "gets the same answer)",
    request=CouponRedeemRequest,
    response=CouponView,
    errors=(404, 409, 422, 503),
    idempotent=True,
)
def post_coupon_redeem(code: str) -> object:
    used, replayed = rewards.use_coupon(bp.merchant_id(), code, bp.parse(CouponRedeemRequest), utcnow())
    return idempotent_reply(200, used, replayed)


app = create_app("rewards", bp)
