"""Staff accounts per merchant: the owner invites people by e-mail with a role (owner, manager,
cashier), changes roles and removes accounts; people sign in with a password, set their own on
the first sign-in, reset a forgotten one and sign out.

Amazon Cognito holds the accounts and passwords and sends the invitation and reset e-mails; our
credentials table holds each account's merchant, role and state, which the merchant authorizer
reads on every request: a role change, a removal or a sign-out applies from the next request.
An e-mail address has one account (one merchant); names and e-mails are stored encrypted.
"""

from __future__ import annotations

import contextlib
import secrets
import string
from datetime import datetime

from loyalty.api.staff import StaffMe, StaffSignIn, StaffView
from loyalty.data import credentials
from loyalty.data.credentials import Staff
from loyalty.data.transaction import AlreadyExists, Stale
from loyalty.domain.access import Principal, Role
from loyalty.errors import Conflict, InvalidRequest, LoyaltyError, NotFound, Unauthenticated
from loyalty.ids import new_id
from loyalty.pii.cipher import PiiCipher
from loyalty.pii.contact import normalise_email
from loyalty.platform import cognito
from loyalty.platform.observability import logger

INVITED, ACTIVE, REMOVED = "invited", "active", "removed"
NEW_PASSWORD_REQUIRED = "NEW_PASSWORD_REQUIRED"  # noqa: S105 - Cognito's challenge name


def temporary_password(length: int = 16) -> str:
    """Random, and meeting the pool's policy: upper case, lower case and digits."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if (
            any(c.isupper() for c in candidate)
            and any(c.islower() for c in candidate)
            and any(c.isdigit() for c in candidate)
        ):
            return candidate


def _email_hash(cipher: PiiCipher, email: str) -> str:
    return cipher.lookup_hash("staff-email", email)


def view(staff: Staff, cipher: PiiCipher) -> StaffView:
    return StaffView(
        staff_id=staff.staff_id,
        email=cipher.decrypt(staff.email_enc, context=staff.staff_id),
        name=cipher.decrypt(staff.name_enc, context=staff.staff_id) if staff.name_enc else None,
        role=staff.role,
        status=staff.status,
        invited_at=staff.invited_at,
        activated_at=staff.activated_at,
        removed_at=staff.removed_at,
    )


# ---- the owner's routes ------------------------------------------------------------------------------
def invite(
    merchant_id: str,
    email_raw: str,
    name: str | None,
    role: Role,
    now: datetime,
    cipher: PiiCipher,
    invited_by: str,
) -> StaffView:
    """An account with a temporary password, which Cognito e-mails to the person (valid 7 days)."""
    email = normalise_email(email_raw)
    staff_id = new_id("stf")
    staff = Staff(
        staff_id=staff_id,
        merchant_id=merchant_id,
        role=role,
        status=INVITED,
        email_enc=cipher.encrypt(email, context=staff_id),
        email_hash=_email_hash(cipher, email),
        invited_at=now,
        name_enc=cipher.encrypt(name, context=staff_id) if name else None,
        invited_by=invited_by,
    )
    try:
        credentials.create_staff(staff)
    except AlreadyExists as exc:
        raise Conflict("this e-mail already has a staff account", code="staff_exists") from exc
    try:
        cognito.create_user(cognito.user_pool(), staff_id, email, temporary_password())
    except LoyaltyError:
        credentials.forget_staff(staff)  # nothing half-made: the e-mail can be invited again
        raise
    return view(staff, cipher)


def _member_of(merchant_id: str, staff_id: str) -> Staff:
    """The merchant's staff member (another merchant's is as unknown as a missing one)."""
    staff = credentials.get_staff(staff_id) if len(staff_id) <= 64 else None
    if staff is None or staff.merchant_id != merchant_id:
        raise NotFound("no such staff member", code="staff_not_found")
    return staff


def get(merchant_id: str, staff_id: str, cipher: PiiCipher) -> StaffView:
    return view(_member_of(merchant_id, staff_id), cipher)


def list_staff(merchant_id: str, cipher: PiiCipher) -> list[StaffView]:
    return [view(staff, cipher) for staff in credentials.staff_of(merchant_id)]


def owner_emails(merchant_id: str, cipher: PiiCipher) -> list[str]:
    """Where notices for the shop go when nobody named an address: its active owners."""
    return [
        member.email
        for member in list_staff(merchant_id, cipher)
        if member.role is Role.OWNER and member.status == "active"
    ]


def resend_invitation(merchant_id: str, staff_id: str, cipher: PiiCipher) -> StaffView:
    """A new temporary password, e-mailed again (only before the first sign-in)."""
    staff = _member_of(merchant_id, staff_id)
    if staff.status != INVITED:
        raise Conflict("only a pending invitation can be sent again", code="not_invited")
    email = cipher.decrypt(staff.email_enc, context=staff.staff_id)
    cognito.create_user(cognito.user_pool(), staff.staff_id, email, temporary_password(), resend=True)
    return view(staff, cipher)


def _keep_an_owner(merchant_id: str, leaving: Staff) -> None:
    """A merchant keeps an owner: the last one cannot be demoted or removed. (Checked on a read of
    the list, not in the write: two owners demoting each other at the same moment could both
    succeed; the platform admin then invites an owner again.)"""
    if leaving.role != Role.OWNER:
        return
    others = [
        staff
        for staff in credentials.staff_of(merchant_id)
        if staff.role == Role.OWNER and staff.status != REMOVED and staff.staff_id != leaving.staff_id
    ]
    if not others:
        raise Conflict("the merchant's last owner cannot stop being one", code="last_owner")


def change_role(merchant_id: str, staff_id: str, role: Role, cipher: PiiCipher) -> StaffView:
    staff = _member_of(merchant_id, staff_id)
    if staff.status == REMOVED:
        raise Conflict("this account was removed", code="staff_removed")
    if role != staff.role:
        _keep_an_owner(merchant_id, staff)
        try:
            credentials.set_role(staff_id, role)
        except Stale as exc:
            raise Conflict("this account was removed", code="staff_removed") from exc
    return view(_member_of(merchant_id, staff_id), cipher)


def remove(merchant_id: str, staff_id: str, now: datetime, cipher: PiiCipher) -> StaffView:
    """The account stops working from the next request; removing a removed one answers it again."""
    staff = _member_of(merchant_id, staff_id)
    if staff.status != REMOVED:
        _keep_an_owner(merchant_id, staff)
        with contextlib.suppress(Stale):  # removed meanwhile: the same outcome
            credentials.remove_staff(staff, now)
        # Our record already refuses every token; the user pool forgets the account too.
        cognito.delete_user(cognito.user_pool(), staff.staff_id)
    return view(_member_of(merchant_id, staff_id), cipher)


# ---- the merchant authorizer's check --------------------------------------------------------------
def authenticate(token: str, now: datetime) -> Principal:
    """The merchant and role behind a staff access token, or ``Unauthenticated``."""
    claims = cognito.verify_access_token(token, cognito.user_pool())
    staff = credentials.get_staff(claims.username)
    if staff is None or staff.status == REMOVED:
        raise Unauthenticated("this staff account no longer exists")
    if claims.issued_at <= staff.signed_out_at:
        raise Unauthenticated("this session has ended: sign in again")
    return Principal(merchant_id=staff.merchant_id, kind="staff", actor_id=staff.staff_id, role=staff.role)


def me(principal: Principal, cipher: PiiCipher) -> StaffMe:
    staff = _member_of(principal.merchant_id, principal.actor_id)
    shown = view(staff, cipher)
    return StaffMe(
        staff_id=staff.staff_id, merchant_id=staff.merchant_id, role=staff.role, email=shown.email, name=shown.name
    )


# ---- signing in ------------------------------------------------------------------------------------
def _staff_id(email_raw: str, cipher: PiiCipher) -> str | None:
    try:
        email = normalise_email(email_raw)
    except InvalidRequest:
        return None
    return credentials.staff_id_for_email(_email_hash(cipher, email))


def _answer(result: cognito.SignInResult) -> StaffSignIn:
    if result.challenge == NEW_PASSWORD_REQUIRED:
        return StaffSignIn(status="new_password_required", session=result.session)
    if not result.access_token:
        raise Unauthenticated("this sign-in needs a step the back office does not offer", code="unsupported_challenge")
    return StaffSignIn(
        status="signed_in",
        access_token=result.access_token,
        refresh_token=result.refresh_token,
        expires_in=result.expires_in,
    )


def _refused() -> Unauthenticated:
    return Unauthenticated("wrong e-mail or password", code="invalid_credentials")


def sign_in(email: str, password: str, now: datetime, cipher: PiiCipher) -> StaffSignIn:
    """Tokens for the right password; an invited person's first sign-in asks for a new password.
    An unknown e-mail is answered as a wrong password."""
    staff_id = _staff_id(email, cipher)
    if staff_id is None:
        raise _refused()
    answer = _answer(cognito.sign_in(cognito.user_pool(), staff_id, password))
    if answer.status == "signed_in":
        _activate(staff_id, now)
    return answer


def set_first_password(email: str, session: str, new_password: str, now: datetime, cipher: PiiCipher) -> StaffSignIn:
    staff_id = _staff_id(email, cipher)
    if staff_id is None:
        raise _refused()
    answer = _answer(cognito.set_new_password(cognito.user_pool(), staff_id, session, new_password))
    _activate(staff_id, now)
    return answer


def _activate(staff_id: str, now: datetime) -> None:
    staff = credentials.get_staff(staff_id)
    if staff is not None and staff.status == INVITED:
        with contextlib.suppress(Stale):  # another sign-in activated it first
            credentials.activate_staff(staff_id, now)


def refresh(refresh_token: str) -> StaffSignIn:
    return _answer(cognito.refresh(cognito.user_pool(), refresh_token))


def forgot_password(email: str, cipher: PiiCipher) -> None:
    """Cognito e-mails a code to reset the password; the same answer whether or not the e-mail has
    an account."""
    staff_id = _staff_id(email, cipher)
    if staff_id is None:
        return
    try:
        cognito.forgot_password(cognito.user_pool(), staff_id)
    except (Unauthenticated, InvalidRequest):
        logger.info("password reset not possible for this account now")


def reset_password(email: str, code: str, new_password: str, now: datetime, cipher: PiiCipher) -> None:
    """The new password, and every session of the account ends (whoever knew the old one)."""
    staff_id = _staff_id(email, cipher)
    if staff_id is None:
        raise InvalidRequest("the code is wrong", code="invalid_code")
    cognito.confirm_forgot_password(cognito.user_pool(), staff_id, code, new_password)
    credentials.sign_out_staff(staff_id, int(now.timestamp()))
    cognito.global_sign_out(cognito.user_pool(), staff_id)


def sign_out(principal: Principal, now: datetime) -> None:
    """Every session of this person ends: refresh tokens at once in the user pool, access tokens
    from the next request (the authorizer compares their issue time with ``signed_out_at``)."""
    credentials.sign_out_staff(principal.actor_id, int(now.timestamp()))
    cognito.global_sign_out(cognito.user_pool(), principal.actor_id)
