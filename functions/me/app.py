"""The member's own API for the merchant's mobile app (``Authorization: Bearer <access token>``):
profile, history, the card with a short-lived QR code, rewards, coupons, push devices, erasure."""

from __future__ import annotations

from loyalty import runtime
from loyalty.api.history import EntryPage, HistoryQuery
from loyalty.api.me import CardView, Erased, MeClaim, MeUpdate, MeView
from loyalty.api.notifications import DeviceRemovedView, DeviceView, PushTokenRequest
from loyalty.api.redemptions import ClaimRequest, CouponList, CouponView, RewardList
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.errors import NotFound, Unauthenticated
from loyalty.http.app import create_app
from loyalty.http.blueprint import ApiBlueprint, idempotent_reply, reply
from loyalty.http.member_auth import member_token
from loyalty.services import auth, history, me, messaging, rewards
from loyalty.services.members import get_active
from pydantic import ValidationError


class MeConfig(CoreConfig):
    fcm_platform_application_arn: str = ""
    apns_platform_application_arn: str = ""


CONFIG = MeConfig.from_env()
runtime.bootstrap(CONFIG)
PLATFORM_APPLICATIONS = {"fcm": CONFIG.fcm_platform_application_arn, "apns": CONFIG.apns_platform_application_arn}

bp = ApiBlueprint(__name__, tags=("Mobile app (member)",))


def who() -> tuple[str, str]:
    """(merchant id, member id) of the signed-in member, from the authorizer."""
    context = dict((bp.current_request.context or {}).get("authorizer") or {})
    merchant_id, member_id = context.get("merchant_id"), context.get("member_id")
    if not merchant_id or not member_id:
        raise Unauthenticated("this route needs a member's access token")
    return str(merchant_id), str(member_id)


@bp.route(
    "/v1/me",
    methods=["GET"],
    authorizer=member_token,
    response=MeView,
    summary="The member's profile, tier and progress to the next one, balance, consents",
)
def get_me() -> object:
    merchant_id, member_id = who()
    return reply(200, me.me(merchant_id, member_id, runtime.current().cipher(), utcnow()))


@bp.route(
    "/v1/me",
    methods=["PATCH"],
    authorizer=member_token,
    request=MeUpdate,
    response=MeView,
    errors=(409,),
    summary="Change name, language, time zone or consents; set the birthday once",
)
def patch_me() -> object:
    merchant_id, member_id = who()
    return reply(200, me.update(merchant_id, member_id, bp.parse(MeUpdate), utcnow(), runtime.current().cipher()))


@bp.route(
    "/v1/me",
    methods=["DELETE"],
    authorizer=member_token,
    response=Erased,
    summary="Erase the member's personal data (the points history stays, anonymised)",
)
def delete_me() -> object:
    merchant_id, member_id = who()
    return reply(200, me.erase(merchant_id, member_id, utcnow()))


@bp.route(
    "/v1/me/transactions",
    methods=["GET"],
    authorizer=member_token,
    query=HistoryQuery,
    response=EntryPage,
    summary="The member's points history, newest first",
)
def get_my_transactions() -> object:
    merchant_id, member_id = who()
    query = bp.query_model(HistoryQuery)
    return reply(200, history.entries(merchant_id, member_id, limit=query.limit, cursor=query.cursor))


@bp.route(
    "/v1/me/card",
    methods=["GET"],
    authorizer=member_token,
    response=CardView,
    summary="The card number and a QR payload for the till, signed and valid for a minute",
)
def get_my_card() -> object:
    merchant_id, member_id = who()
    member = get_active(merchant_id, member_id)
    payload, expires = auth.qr_payload(merchant_id, member.card_number, utcnow(), runtime.current().keys().token_key)
    return reply(200, CardView(card_number=member.card_number, qr_payload=payload, qr_expires_at=expires))


@bp.route(
    "/v1/me/rewards",
    methods=["GET"],
    authorizer=member_token,
    response=RewardList,
    summary="The rewards the member can claim with points",
)
def get_my_rewards() -> object:
    merchant_id, _ = who()
    return reply(200, RewardList(rewards=rewards.list_rewards(merchant_id, active_only=True)))


@bp.route(
    "/v1/me/rewards/{reward_id}/claim",
    methods=["POST"],
    authorizer=member_token,
    request=MeClaim,
    response=CouponView,
    status=201,
    errors=(404, 409, 422),
    idempotent=True,
    summary="Spend points on a reward and get a coupon with a promo code, once per claim_id",
)
def post_my_claim(reward_id: str) -> object:
    merchant_id, member_id = who()
    body = bp.parse(MeClaim)
    try:
        claim = ClaimRequest(claim_id=body.claim_id, member_id=member_id, reward_id=reward_id)
    except ValidationError as exc:  # an id no reward can have
        raise NotFound("reward not found", code="reward_not_found") from exc
    coupon, replayed = rewards.claim(merchant_id, claim, utcnow(), runtime.current().cipher())
    return idempotent_reply(201, coupon, replayed)


@bp.route(
    "/v1/me/coupons",
    methods=["GET"],
    authorizer=member_token,
    response=CouponList,
    summary="The member's coupons, newest first",
)
def get_my_coupons() -> object:
    merchant_id, member_id = who()
    return reply(200, CouponList(coupons=rewards.member_coupons(merchant_id, member_id, utcnow())))


@bp.route(
    "/v1/me/push-tokens",
    methods=["POST"],
    authorizer=member_token,
    request=PushTokenRequest,
    response=DeviceView,
    status=201,
    errors=(503,),
    summary="Register this phone for push notifications",
)
def post_my_push_token() -> object:
    merchant_id, member_id = who()
    device = messaging.register_device(
        merchant_id, member_id, bp.parse(PushTokenRequest), utcnow(), PLATFORM_APPLICATIONS
    )
    return reply(201, device)


@bp.route(
    "/v1/me/push-tokens/{device_id}",
    methods=["DELETE"],
    authorizer=member_token,
    response=DeviceRemovedView,
    summary="Stop push notifications to a phone",
)
def delete_my_push_token(device_id: str) -> object:
    merchant_id, member_id = who()
    messaging.remove_device(merchant_id, member_id, device_id)
    return reply(200, DeviceRemovedView(deleted=True))


app = create_app("me", bp)
