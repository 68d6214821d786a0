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

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from loyalty.data import members, operations
from loyalty.data.operations import Session, SignInCode
from loyalty.errors import NotFound, RateLimited, Unauthenticated
from loyalty.events import DomainEvent
from loyalty.ids import new_id
from loyalty.pii.cipher import PiiCipher
from loyalty.pii.contact import normalise_phone
from loyalty.services.members import find_member_id

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
    "verify-phone": (10, 3600),
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
    if not operations.hit_rate_limit(what, who, window, most, (window + 2) * seconds):
        retry_after = (window + 1) * seconds - int(now.timestamp())
        raise RateLimited(
            "too many attempts; try again later",
            retry_after_seconds=max(retry_after, 1),
            details={"retry_after_seconds": max(retry_after, 1)},
        )


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
        if not members.get(merchant_id, member_id, consistent=False).is_active:
            return None
    except NotFound:
        return None
    code = f"{secrets.randbelow(10**6):06d}"
    expires_at = int((now + timedelta(minutes=CODE_MINUTES)).timestamp())
    operations.save_sign_in_code(
        merchant_id, phone_hash, SignInCode(member_id, _code_hash(cipher, member_id, code), expires_at, 0)
    )
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
    """Sign in with the texted code. Each try is counted before it is compared, atomically, so at
    most CODE_ATTEMPTS guesses are ever compared per code, however many arrive at once."""
    rate_limit("verify-ip", ip, now)
    phone_hash = cipher.lookup_hash("phone", normalise_phone(phone_raw))
    rate_limit("verify-phone", phone_hash, now)
    refused = Unauthenticated("the code is wrong or has expired", code="invalid_code")
    counted = operations.count_sign_in_attempt(merchant_id, phone_hash, CODE_ATTEMPTS)
    if counted is None:
        current = operations.sign_in_code(merchant_id, phone_hash)
        if current is not None and current.attempts >= CODE_ATTEMPTS and current.expires_at >= now.timestamp():
            raise RateLimited(
                "this code has had all its tries; ask for a new one",
                code="too_many_attempts",
                retry_after_seconds=max(current.expires_at - int(now.timestamp()), 1),
            )
        raise refused
    if counted.expires_at < now.timestamp():
        raise refused
    expected = _code_hash(cipher, counted.member_id, code)
    if not hmac.compare_digest(counted.code_hash, expected):
        raise refused
    if not operations.use_sign_in_code(merchant_id, phone_hash, counted.code_hash):  # single use: first one wins
        raise refused
    return _start_session(merchant_id, counted.member_id, now, signing_key)


def _hash_refresh(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _access_token(claims: Claims, now: datetime, signing_key: bytes) -> str:
    import jwt  # imported where a token is signed or checked: it loads cryptography's RSA and EC keys

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
    operations.save_session(
        Session(
            session_id,
            merchant_id,
            member_id,
            _hash_refresh(refresh),
            revoked=False,
            created_at=now,
            expires_at=int((now + timedelta(days=REFRESH_DAYS)).timestamp()),
        )
    )
    claims = Claims(member_id, merchant_id, session_id)
    return Tokens(_access_token(claims, now, signing_key), f"{session_id}.{refresh}", ACCESS_MINUTES * 60)


def refresh(refresh_token: str, now: datetime, signing_key: bytes) -> Tokens:
    """Swap a refresh token for new tokens. The old refresh token stops working; presenting it
    again (a stolen copy being used) revokes the whole session. A secret the session never issued
    is only refused: knowing a session id (it is in the access token) must not let anyone end it."""
    refused = Unauthenticated("the refresh token is not valid", code="invalid_refresh_token")
    session_id, _, secret = refresh_token.partition(".")
    session = operations.get_session(session_id) if session_id and len(session_id) <= 64 else None
    if session is None or session.revoked or session.expires_at < now.timestamp():
        raise refused
    presented = _hash_refresh(secret)
    if not hmac.compare_digest(session.refresh_hash, presented):
        if session.previous_refresh_hash and hmac.compare_digest(session.previous_refresh_hash, presented):
            operations.revoke_session(session_id)
        raise refused
    if not members.get(session.merchant_id, session.member_id, consistent=False).is_active:
        raise refused
    new_refresh = f"rt_{secrets.token_urlsafe(32)}"
    if not operations.rotate_refresh(session, _hash_refresh(new_refresh), now):
        raise refused  # two refreshes raced with one token: only one may win
    claims = Claims(session.member_id, session.merchant_id, session_id)
    return Tokens(_access_token(claims, now, signing_key), f"{session_id}.{new_refresh}", ACCESS_MINUTES * 60)


def sign_out(session_id: str) -> None:
    operations.revoke_session(session_id)


def _expired(claims: dict[str, Any], now: datetime) -> bool:
    """Token times are checked against the system's one clock (``loyalty.clock``), not PyJWT's own
    reading of the system time: the local stack may move the clock."""
    try:
        return int(claims["exp"]) <= now.timestamp()
    except (TypeError, ValueError):
        return True


def verify_access_token(token: str, signing_key: bytes, now: datetime) -> Claims:
    """A valid, unexpired access token of a live session."""
    import jwt  # imported where a token is signed or checked: it loads cryptography's RSA and EC keys

    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            signing_key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "mid", "sid", "typ"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        raise Unauthenticated("the access token is not valid") from exc
    if _expired(payload, now):
        raise Unauthenticated("the access token is not valid")
    if payload.get("typ") != "access":
        raise Unauthenticated("not an access token")
    session = operations.get_session(str(payload["sid"]), consistent=False)
    if (
        session is None
        or session.revoked
        or session.member_id != payload["sub"]
        or session.expires_at < now.timestamp()
    ):
        raise Unauthenticated("the session has ended")
    return Claims(str(payload["sub"]), str(payload["mid"]), str(payload["sid"]))


# ---- the card's QR code --------------------------------------------------------------------
def qr_payload(merchant_id: str, card_number: str, now: datetime, signing_key: bytes) -> tuple[str, datetime]:
    """What the app shows as a QR code: signed and valid for a minute, so a screenshot is useless
    later."""
    import jwt  # imported where a token is signed or checked: it loads cryptography's RSA and EC keys

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


def card_from_qr(merchant_id: str, payload: str, signing_key: bytes, now: datetime) -> str:
    import jwt  # imported where a token is signed or checked: it loads cryptography's RSA and EC keys

    try:
        claims: dict[str, Any] = jwt.decode(
            payload,
            signing_key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "mid", "card", "typ"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        raise NotFound("this is not a member's QR code", code="qr_invalid") from exc
    if _expired(claims, now):
        raise NotFound("this QR code has expired: ask for a fresh one", code="qr_expired")
    if claims.get("typ") != "qr" or claims.get("mid") != merchant_id:
        raise NotFound("this is not a member's QR code", code="qr_invalid")
    return str(claims["card"])
