"""The owner's staff routes: invite people by e-mail with a role, list them, change a role, send an
invitation again, remove an account."""

from __future__ import annotations

from loyalty import runtime
from loyalty.api.staff import InviteStaffRequest, RoleChangeRequest, StaffList, StaffView
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.http.access import OWNER
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, reply
from loyalty.services import staff

CONFIG = CoreConfig.from_env()
runtime.bootstrap(CONFIG)

bp = ApiBlueprint(__name__, tags=("Staff",))


def actor_id() -> str:
    principal = bp.principal()
    return principal.actor_id if principal else "unknown"


@bp.route(
    "/v1/staff",
    methods=["GET"],
    authorizer=merchant_key,
    access=OWNER,
    summary="The merchant's staff: invited, active and removed accounts with their roles",
    response=StaffList,
)
def list_staff() -> object:
    return reply(200, StaffList(staff=staff.list_staff(bp.merchant_id(), runtime.current().cipher())))


@bp.route(
    "/v1/staff",
    methods=["POST"],
    authorizer=merchant_key,
    access=OWNER,
    summary="Invite a person by e-mail with a role: Cognito e-mails a temporary password (valid 7 days)",
    request=InviteStaffRequest,
    response=StaffView,
    status=201,
    errors=(409, 503),
)
def invite_staff() -> object:
    request = bp.parse(InviteStaffRequest)
    invited = staff.invite(
        bp.merchant_id(), request.email, request.name, request.role, utcnow(), runtime.current().cipher(), actor_id()
    )
    return reply(201, invited)


@bp.route(
    "/v1/staff/{staff_id}",
    methods=["GET"],
    authorizer=merchant_key,
    access=OWNER,
    summary="A staff member",
    response=StaffView,
)
def get_staff(staff_id: str) -> object:
    return reply(200, staff.get(bp.merchant_id(), staff_id, runtime.current().cipher()))


@bp.route(
    "/v1/staff/{staff_id}/role",
    methods=["PUT"],
    authorizer=merchant_key,
    access=OWNER,
    summary="Change a staff member's role; it applies from their next request",
    request=RoleChangeRequest,
    response=StaffView,
    errors=(409,),
)
def change_staff_role(staff_id: str) -> object:
    request = bp.parse(RoleChangeRequest)
    return reply(200, staff.change_role(bp.merchant_id(), staff_id, request.role, runtime.current().cipher()))


@bp.route(
    "/v1/staff/{staff_id}/invitation",
    methods=["POST"],
    authorizer=merchant_key,
    access=OWNER,
    summary="Send the invitation again with a new temporary password (before the first sign-in only)",
    response=StaffView,
    errors=(409, 503),
)
def resend_invitation(staff_id: str) -> object:
    return reply(200, staff.resend_invitation(bp.merchant_id(), staff_id, runtime.current().cipher()))


@bp.route(
    "/v1/staff/{staff_id}",
    methods=["DELETE"],
    authorizer=merchant_key,
    access=OWNER,
    summary="Remove a staff account: it stops working from its next request (the merchant keeps an owner)",
    response=StaffView,
    errors=(409,),
)
def remove_staff(staff_id: str) -> object:
    return reply(200, staff.remove(bp.merchant_id(), staff_id, utcnow(), runtime.current().cipher()))


app = create_app("staff", bp)
