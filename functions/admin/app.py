"""Platform administration (platform admin token): creating merchants and inviting their owners."""

from __future__ import annotations

from loyalty import runtime
from loyalty.api.common import ErrorBody
from loyalty.api.merchants import CreatedMerchantView, CreateMerchantRequest
from loyalty.api.staff import InviteOwnerRequest, StaffView
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.domain.access import Role
from loyalty.domain.program import DEFAULT_PROGRAM
from loyalty.errors import LoyaltyError
from loyalty.http.app import create_app
from loyalty.http.auth import admin_token
from loyalty.http.blueprint import ApiBlueprint, reply
from loyalty.pii.contact import normalise_email
from loyalty.platform import usage_plans
from loyalty.services import merchants, staff


class AdminConfig(CoreConfig):
    usage_plan_name: str = ""  # empty: no per-merchant usage plan keys


CONFIG = AdminConfig.from_env()
runtime.bootstrap(CONFIG)

bp = ApiBlueprint(__name__, tags=("Platform administration",))


@bp.route(
    "/v1/admin/merchants",
    methods=["POST"],
    authorizer=admin_token,
    summary="Create a merchant (and invite its owner); its API key is shown only in this answer",
    request=CreateMerchantRequest,
    response=CreatedMerchantView,
    status=201,
)
def create_merchant() -> object:
    request = bp.parse(CreateMerchantRequest)
    if request.owner_email is not None:
        normalise_email(request.owner_email)  # a malformed address is a 400 before anything is made
    created = merchants.create_merchant(request.name, utcnow(), request.program or DEFAULT_PROGRAM)
    if CONFIG.usage_plan_name:
        usage_plans.register_merchant(CONFIG.usage_plan_name, created.merchant_id, runtime.current().keys().token_key)
    owner, owner_error = None, None
    if request.owner_email is not None:
        try:
            owner = invite_owner(created.merchant_id, request.owner_email, request.owner_name)
        except LoyaltyError as exc:  # the merchant exists: say why, and let the admin invite again
            owner_error = ErrorBody(code=exc.code, message=exc.message)
    return reply(
        201,
        CreatedMerchantView(
            merchant_id=created.merchant_id,
            name=created.name,
            api_key=created.api_key,
            key_id=created.key_id,
            program_version=1,
            owner=owner,
            owner_error=owner_error,
        ),
    )


def invite_owner(merchant_id: str, email: str, name: str | None) -> StaffView:
    return staff.invite(
        merchant_id, email, name, Role.OWNER, utcnow(), runtime.current().cipher(), invited_by="platform-admin"
    )


@bp.route(
    "/v1/admin/merchants/{merchant_id}/owners",
    methods=["POST"],
    authorizer=admin_token,
    summary="Invite an owner for a merchant (a new owner, or the first one when the invitation was lost)",
    request=InviteOwnerRequest,
    response=StaffView,
    status=201,
    errors=(409, 503),
)
def post_owner(merchant_id: str) -> object:
    request = bp.parse(InviteOwnerRequest)
    merchants.get_merchant(merchant_id)  # 404 for an unknown merchant
    return reply(201, invite_owner(merchant_id, request.email, request.name))


app = create_app("admin", bp)
