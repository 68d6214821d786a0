"""Platform administration (platform admin token): creating merchants."""

from __future__ import annotations

from loyalty import runtime
from loyalty.api.merchants import CreatedMerchantView, CreateMerchantRequest
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.domain.program import DEFAULT_PROGRAM
from loyalty.http.app import create_app
from loyalty.http.auth import admin_token
from loyalty.http.blueprint import ApiBlueprint, reply
from loyalty.platform import usage_plans
from loyalty.services import merchants


class AdminConfig(CoreConfig):
    usage_plan_name: str = ""  # empty: no per-merchant usage plan keys


CONFIG = AdminConfig.from_env()
runtime.bootstrap(CONFIG)

bp = ApiBlueprint(__name__, tags=("Platform administration",))


@bp.route(
    "/v1/admin/merchants",
    methods=["POST"],
    authorizer=admin_token,
    summary="Create a merchant; its API key is shown only in this answer",
    request=CreateMerchantRequest,
    response=CreatedMerchantView,
    status=201,
)
def create_merchant() -> object:
    request = bp.parse(CreateMerchantRequest)
    created = merchants.create_merchant(request.name, utcnow(), request.program or DEFAULT_PROGRAM)
    if CONFIG.usage_plan_name:
        usage_plans.register_merchant(CONFIG.usage_plan_name, created.merchant_id, runtime.current().keys().token_key)
    return reply(
        201,
        CreatedMerchantView(
            merchant_id=created.merchant_id, name=created.name, api_key=created.api_key, program_version=1
        ),
    )


app = create_app("admin", bp)
