"""The merchant's program configuration: read it, change it (each change is a new version)."""

from __future__ import annotations

from loyalty import runtime
from loyalty.api.merchants import EarnPreviewRequest, EarnPreviewView, ProgramView, UpdateProgramRequest
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.http.access import MANAGE
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, reply
from loyalty.services import earn_preview, merchants

CONFIG = CoreConfig.from_env()
runtime.bootstrap(CONFIG)

bp = ApiBlueprint(__name__, tags=("Program",))


@bp.route(
    "/v1/program",
    methods=["GET"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="The merchant's current program and its version",
    response=ProgramView,
)
def get_program() -> object:
    current = merchants.programs.get(bp.merchant_id())
    return reply(200, ProgramView(version=current.version, program=current.program))


@bp.route(
    "/v1/program",
    methods=["PUT"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Replace the program; purchases from now on use the new version",
    request=UpdateProgramRequest,
    response=ProgramView,
    errors=(409, 422),
)
def put_program() -> object:
    request = bp.parse(UpdateProgramRequest)
    updated = merchants.update_program(
        bp.merchant_id(), request.program, utcnow(), expected_version=request.expected_version
    )
    return reply(200, ProgramView(version=updated.version, program=updated.program))


@bp.route(
    "/v1/program/earn-preview",
    methods=["POST"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="What a sample purchase would earn, rule by rule, under the program or a draft of it (nothing written)",
    request=EarnPreviewRequest,
    response=EarnPreviewView,
    reads_only=True,
)
def post_earn_preview() -> object:
    request = bp.parse(EarnPreviewRequest)
    return reply(200, earn_preview.preview(bp.merchant_id(), request, utcnow()))


app = create_app("program", bp)
