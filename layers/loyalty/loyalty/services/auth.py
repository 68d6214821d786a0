"""Member sign-in by phone: a one-time code by SMS, then short-lived access tokens (signed JWTs,
PyJWT) and a longer-lived refresh token that rotates on use; sign-out revokes the session.

Why JWTs and not Cognito: the tokens are verified by our own TOKEN authorizer with a key derived
from the secret in Secrets Manager, which runs the same way in Lambda and on the local stack;
Cognito's passwordless SMS flow needs its custom-auth Lambda triggers, which moto cannot run. The
crypto is PyJWT's (HS256); we write none.

Codes expire after five minutes, are single-use, are stored only as a keyed hash, and both asking
for codes and trying them are limited per phone and per IP. Asking for a code answers the same
whether or not the phone belongs to a member, so the route does not reveal who is enrolled.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError

from loyalty.data.models import RateItem, SessionItem, SignInCodeItem
from loyalty.errors import NotFound, RateLimited, Unauthenticated
from loyalty.events import DomainEvent
from loyalty.ids import new_id
from loyalty.pii.cipher import PiiCipher
from loyalty.pii.contact import normalise_phone
from loyalty.services.members import find_member_id, get_member

ISSUER = "loyalty"
ALGORITHM = "HS256"
ACCESS_MINUTES = 15
REFRESH_DAYS = 30
CODE_MINUTES = 5
CODE_ATTEMPTS = 5
QR_SECONDS = 60
LIMITS = {  # what: (most hits, per seconds)
    "code-phone": (3, 600),
    "code-ip": (20, 3600),
    "verify-ip": (30, 3600),
}


@dataclass(frozen=True)
class Claims:
    member_id: str
    merchant_id: str
    session_id: str


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


def rate_limit(what: str, who: str, now: datetime) -> None:
    """Count one hit; refuse with 429 beyond the limit of this window."""
    most, seconds = LIMITS[what]
    window = int(now.timestamp()) // seconds
    item = RateItem(f"RATE#{what}#{who}#{window}", "R")
    try:
        item.update(
            actions=[RateItem.hits.add(1), RateItem.expires_at.set((window + 2) * seconds)],
            condition=RateItem.hits.does_not_exist() | (RateItem.hits < most),
        )
    except UpdateError as exc:
        raise RateLimited("too many attempts; try again later", details={"retry_after_seconds": seconds}) from exc


def _code_hash(cipher: PiiCipher, member_id: str, code: str) -> str:
    return cipher.lookup_hash("sign-in-code", f"{member_id}:{code}")


def request_code(merchant_id: str, phone_raw: str, ip: str, now: datetime, cipher: PiiCipher) -> DomainEvent | None:
    """Make a code for the member with this phone; returns the event that texts it (None when the
    phone is not a member's: the caller answers the same either way)."""
    phone = normalise_phone(phone_raw)
    phone_hash = cipher.lookup_hash("phone", phone)
    rate_limit("code-ip", ip, now)
    rate_limit("code-phone", phone_hash, now)
    try:
        member_id = find_member_id(merchant_id, phone=phone, cipher=cipher)
        if get_member(merchant_id, member_id, consistent=False).status != "active":
            return None
    except NotFound:
        return None
    code = f"{secrets.randbelow(10**6):06d}"
    SignInCodeItem(
        f"OTP#{merchant_id}#{phone_hash}",
        "OTP",
        member_id=member_id,
        code_hash=_code_hash(cipher, member_id, code),
        expires_at=int((now + timedelta(minutes=CODE_MINUTES)).timestamp()),
        attempts=0,
    ).save()
    return DomainEvent(
        event_id=new_id("otp"),
        type="sign_in_code",
        merchant_id=merchant_id,
        member_id=member_id,
        occurred_at=now,
        data={"code": code, "minutes": CODE_MINUTES},
    )


def verify_code(
    merchant_id: str, phone_raw: str, code: str, ip: str, now: datetime, cipher: PiiCipher, signing_key: bytes
) -> Tokens:
    rate_limit("verify-ip", ip, now)
    phone_hash = cipher.lookup_hash("phone", normalise_phone(phone_raw))
    refused = Unauthenticated("the code is wrong or has expired", code="invalid_code")
    try:
        stored = SignInCodeItem.get(f"OTP#{merchant_id}#{phone_hash}", "OTP", consistent_read=True)
    except DoesNotExist as exc:
        raise refused from exc
    if stored.expires_at < now.timestamp() or stored.attempts >= CODE_ATTEMPTS:
        raise refused
    if not hmac.compare_digest(stored.code_hash, _code_hash(cipher, stored.member_id, code)):
        with contextlib.suppress(UpdateError):  # already used or gone: still wrong
            stored.update(actions=[SignInCodeItem.attempts.add(1)], condition=SignInCodeItem.pk.exists())
        raise refused
    try:  # single use: whoever deletes it first signs in
        stored.delete(condition=SignInCodeItem.code_hash == stored.code_hash)
    except DeleteError as exc:
        raise refused from exc
    return _start_session(merchant_id, stored.member_id, now, signing_key)


def _hash_refresh(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _access_token(claims: Claims, now: datetime, signing_key: bytes) -> str:
    payload = {
        "iss": ISSUER,
        "sub": claims.member_id,
        "mid": claims.merchant_id,
        "sid": claims.session_id,
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=ACCESS_MINUTES)).timestamp()),
    }
    return jwt.encode(payload, signing_key, algorithm=ALGORITHM)


def _start_session(merchant_id: str, member_id: str, now: datetime, signing_key: bytes) -> Tokens:
    session_id = new_id("ses")
    refresh = f"rt_{secrets.token_urlsafe(32)}"
    SessionItem(
        f"SESSION#{session_id}",
        "S",
        merchant_id=merchant_id,
        member_id=member_id,
        refresh_hash=_hash_refresh(refresh),
        created_at=now,
        expires_at=int((now + timedelta(days=REFRESH_DAYS)).timestamp()),
    ).save()
    claims = Claims(member_id, merchant_id, session_id)
    return Tokens(_access_token(claims, now, signing_key), f"{session_id}.{refresh}", ACCESS_MINUTES * 60)


def refresh(refresh_token: str, now: datetime, signing_key: bytes) -> Tokens:
    """Swap a refresh token for new tokens. The old refresh token stops working; using it again
    (a stolen copy) revokes the whole session."""
    refused = Unauthenticated("the refresh token is not valid", code="invalid_refresh_token")
    session_id, _, secret = refresh_token.partition(".")
    try:
        session = SessionItem.get(f"SESSION#{session_id}", "S", consistent_read=True)
    except DoesNotExist as exc:
        raise refused from exc
    if session.revoked or session.expires_at < now.timestamp():
        raise refused
    if not hmac.compare_digest(session.refresh_hash, _hash_refresh(secret)):
        session.update(actions=[SessionItem.revoked.set(True)])
        raise refused
    member = get_member(session.merchant_id, session.member_id, consistent=False)
    if member.status != "active":
        raise refused
    new_refresh = f"rt_{secrets.token_urlsafe(32)}"
    version = int(session.version)
    try:
        session.update(
            actions=[
                SessionItem.refresh_hash.set(_hash_refresh(new_refresh)),
                SessionItem.refreshed_at.set(now),
                SessionItem.version.set(version + 1),
            ],
            condition=SessionItem.version == version,
        )
    except UpdateError as exc:
        raise refused from exc  # two refreshes raced with one token: only one may win
    claims = Claims(session.member_id, session.merchant_id, session_id)
    return Tokens(_access_token(claims, now, signing_key), f"{session_id}.{new_refresh}", ACCESS_MINUTES * 60)


def sign_out(session_id: str) -> None:
    with contextlib.suppress(UpdateError):  # an unknown session is as ended as a revoked one
        SessionItem(f"SESSION#{session_id}", "S").update(
            actions=[SessionItem.revoked.set(True)], condition=SessionItem.pk.exists()
        )


def verify_access_token(token: str, signing_key: bytes, now: datetime) -> Claims:
    """A valid, unexpired access token of a live session."""
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            signing_key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "mid", "sid", "typ"]},
        )
    except jwt.PyJWTError as exc:
        raise Unauthenticated("the access token is not valid") from exc
    if payload.get("typ") != "access":
        raise Unauthenticated("not an access token")
    try:
        session = SessionItem.get(f"SESSION#{payload['sid']}", "S")
    except DoesNotExist as exc:
        raise Unauthenticated("the session has ended") from exc
    if session.revoked or session.member_id != payload["sub"] or session.expires_at < now.timestamp():
        raise Unauthenticated("the session has ended")
    return Claims(str(payload["sub"]), str(payload["mid"]), str(payload["sid"]))


# ---- the card's QR code --------------------------------------------------------------------
def qr_payload(merchant_id: str, card_number: str, now: datetime, signing_key: bytes) -> tuple[str, datetime]:
    """What the app shows as a QR code: signed and valid for a minute, so a screenshot is useless
    later."""
    expires = now + timedelta(seconds=QR_SECONDS)
    token = jwt.encode(
        {
            "iss": ISSUER,
            "typ": "qr",
            "mid": merchant_id,
            "card": card_number,
            "exp": int(expires.timestamp()),
            "n": secrets.token_hex(4),
        },
        signing_key,
        algorithm=ALGORITHM,
    )
    return token, expires


def card_from_qr(merchant_id: str, payload: str, signing_key: bytes) -> str:
    try:
        claims: dict[str, Any] = jwt.decode(
            payload,
            signing_key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "mid", "card", "typ"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise NotFound("this QR code has expired: ask for a fresh one", code="qr_expired") from exc
    except jwt.PyJWTError as exc:
        raise NotFound("this is not a member's QR code", code="qr_invalid") from exc
    if claims.get("typ") != "qr" or claims.get("mid") != merchant_id:
        raise NotFound("this is not a member's QR code", code="qr_invalid")
    return str(claims["card"])
