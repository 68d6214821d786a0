"""Staff sign-in with an e-mail and a password (Amazon Cognito): the first sign-in sets a new
password, tokens are refreshed, a forgotten password is reset with an e-mailed code, and signing
out ends every session of the account."""

from __future__ import annotations

from loyalty import runtime
from loyalty.api.staff import (
    Accepted,
    ForgotPasswordRequest,
    NewPasswordRequest,
    PasswordChanged,
    ResetPasswordRequest,
    SignInRequest,
    StaffMe,
    StaffRefreshRequest,
    StaffSignedOut,
    StaffSignIn,
)
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.errors import Unauthenticated
from loyalty.http.access import STAFF
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, reply
from loyalty.services import staff

CONFIG = CoreConfig.from_env()
runtime.bootstrap(CONFIG)

bp = ApiBlueprint(__name__, tags=("Staff sign-in",))


@bp.route(
    "/v1/staff/auth/sign-in",
    methods=["POST"],
    summary="Sign in with e-mail and password: tokens, or (first time) the challenge to set a password",
    request=SignInRequest,
    response=StaffSignIn,
    errors=(401, 503),
)
def staff_sign_in() -> object:
    request = bp.parse(SignInRequest)
    return reply(200, staff.sign_in(request.email, request.password, utcnow(), runtime.current().cipher()))


@bp.route(
    "/v1/staff/auth/new-password",
    methods=["POST"],
    summary="Set a new password on the first sign-in (with the session of the sign-in answer): tokens",
    request=NewPasswordRequest,
    response=StaffSignIn,
    errors=(401, 503),
)
def staff_new_password() -> object:
    request = bp.parse(NewPasswordRequest)
    answer = staff.set_first_password(
        request.email, request.session, request.new_password, utcnow(), runtime.current().cipher()
    )
    return reply(200, answer)


@bp.route(
    "/v1/staff/auth/refresh",
    methods=["POST"],
    summary="A new access token for a refresh token (until sign-out, a reset or 12 hours)",
    request=StaffRefreshRequest,
    response=StaffSignIn,
    errors=(401, 503),
)
def staff_refresh() -> object:
    return reply(200, staff.refresh(bp.parse(StaffRefreshRequest).refresh_token))


@bp.route(
    "/v1/staff/auth/forgot-password",
    methods=["POST"],
    summary="E-mail a code to reset the password (the answer is the same for any e-mail)",
    request=ForgotPasswordRequest,
    response=Accepted,
    status=202,
    errors=(503,),
)
def staff_forgot_password() -> object:
    staff.forgot_password(bp.parse(ForgotPasswordRequest).email, runtime.current().cipher())
    return reply(202, Accepted(accepted=True))


@bp.route(
    "/v1/staff/auth/reset-password",
    methods=["POST"],
    summary="Set a new password with the e-mailed code; every session of the account ends",
    request=ResetPasswordRequest,
    response=PasswordChanged,
    errors=(401, 503),
)
def staff_reset_password() -> object:
    request = bp.parse(ResetPasswordRequest)
    staff.reset_password(request.email, request.code, request.new_password, utcnow(), runtime.current().cipher())
    return reply(200, PasswordChanged(password_changed=True))


@bp.route(
    "/v1/staff/me",
    methods=["GET"],
    authorizer=merchant_key,
    access=STAFF,
    summary="The signed-in staff member: merchant, role, e-mail",
    response=StaffMe,
)
def staff_me() -> object:
    principal = bp.principal()
    if principal is None:
        raise Unauthenticated("this route needs a staff token")
    return reply(200, staff.me(principal, runtime.current().cipher()))


@bp.route(
    "/v1/staff/auth/sign-out",
    methods=["POST"],
    authorizer=merchant_key,
    access=STAFF,
    summary="Sign out everywhere: every token of this account stops working from its next request",
    response=StaffSignedOut,
    errors=(503,),
)
def staff_sign_out() -> object:
    principal = bp.principal()
    if principal is None:
        raise Unauthenticated("this route needs a staff token")
    staff.sign_out(principal, utcnow())
    return reply(200, StaffSignedOut(signed_out=True))


app = create_app("staff_auth", bp)
