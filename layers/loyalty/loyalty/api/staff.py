"""Staff accounts: invitations, roles, sign-in with a password (Amazon Cognito), reset, sign-out."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from loyalty.api.common import Reply, Request
from loyalty.domain.access import Role

Email = Field(min_length=3, max_length=254, examples=["anna@zerno.example"])
Password = Field(min_length=1, max_length=256)
NewPassword = Field(
    min_length=10,
    max_length=256,
    description="at least 10 characters with an upper-case letter, a lower-case letter and a digit",
)


class InviteStaffRequest(Request):
    email: str = Email
    name: str | None = Field(default=None, min_length=1, max_length=120)
    role: Role = Field(
        description="owner: everything; manager: program, rewards, campaigns, members, reports; "
        "cashier: till operations only"
    )


class InviteOwnerRequest(Request):
    email: str = Email
    name: str | None = Field(default=None, min_length=1, max_length=120)


class RoleChangeRequest(Request):
    role: Role


class StaffView(Reply):
    staff_id: str
    email: str
    name: str | None = None
    role: Role
    status: Literal["invited", "active", "removed"] = Field(
        description="invited until the first sign-in; removed accounts stay listed for the audit log"
    )
    invited_at: datetime
    activated_at: datetime | None = None
    removed_at: datetime | None = None


class StaffList(Reply):
    staff: list[StaffView]


class StaffMe(Reply):
    staff_id: str
    merchant_id: str
    role: Role
    email: str
    name: str | None = None


class SignInRequest(Request):
    email: str = Email
    password: str = Password


class NewPasswordRequest(Request):
    email: str = Email
    session: str = Field(min_length=20, max_length=2048, description="the session of the sign-in answer")
    new_password: str = NewPassword


class StaffRefreshRequest(Request):
    refresh_token: str = Field(min_length=10, max_length=4096)


class ForgotPasswordRequest(Request):
    email: str = Email


class ResetPasswordRequest(Request):
    email: str = Email
    code: str = Field(min_length=1, max_length=64, description="the code from the e-mail")
    new_password: str = NewPassword


class StaffSignIn(Reply):
    """Tokens, or (on the first sign-in with the temporary password) the challenge to set a new one."""

    status: Literal["signed_in", "new_password_required"]
    access_token: str | None = Field(
        default=None, description="send as `Authorization: Bearer <access_token>` to merchant routes"
    )
    refresh_token: str | None = None
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme's name, not a secret
    expires_in: int | None = Field(default=None, description="seconds the access token is valid")
    session: str | None = Field(default=None, description="pass to /v1/staff/auth/new-password")


class Accepted(Reply):
    accepted: bool = Field(description="always true: the answer does not reveal who has an account")


class StaffSignedOut(Reply):
    signed_out: bool


class PasswordChanged(Reply):
    password_changed: bool = Field(description="true; every session of the account has ended")
