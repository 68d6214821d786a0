"""Merchants' API keys: several named keys per merchant, each with a scope; created (the secret is
shown once), listed with their last use, rotated (the old secret keeps working for a grace
period) and revoked; and the check the merchant authorizer makes on every request.

Only a hash of each secret is stored (a secret carries 256 random bits, so SHA-256 is enough).
Revocation deletes the key's secrets in the same write that marks it revoked, and the authorizer
reads the secret's item on every request (API Gateway does not cache the decision): a revoked key
is refused from the next request on.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from loyalty.data import credentials
from loyalty.data.credentials import ApiKey
from loyalty.data.transaction import AlreadyExists, Stale, Transaction
from loyalty.domain.access import Principal, Scope
from loyalty.errors import Conflict, InvalidRequest, Unauthenticated
from loyalty.ids import new_id, new_secret
from loyalty.pii.cipher import hash_api_key
from loyalty.platform.observability import logger

SECRET_PREFIX = "lk_live"  # noqa: S105 - the prefix every key shows, not a secret
MAX_SECRET_LENGTH = 200
DEFAULT_GRACE = timedelta(hours=24)
MAX_GRACE = timedelta(days=7)
LAST_USE_INTERVAL = timedelta(minutes=1)
MAX_KEYS = 100  # per merchant, revoked ones included: a list the owner can read at a glance


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str  # shown once


def _hint(secret: str) -> str:
    """Enough of the secret to tell keys apart on a screen, never enough to use it."""
    return f"{secret[: len(SECRET_PREFIX) + 1]}…{secret[-4:]}"


def _new_key(
    merchant_id: str, name: str, scope: Scope, now: datetime, created_by: str | None, secret: str | None
) -> IssuedKey:
    secret = secret or new_secret(SECRET_PREFIX)
    key = ApiKey(
        key_id=new_id("key"),
        merchant_id=merchant_id,
        name=name,
        scope=scope,
        status="active",
        hint=_hint(secret),
        secret_hash=hash_api_key(secret),
        created_at=now,
        created_by=created_by,
    )
    return IssuedKey(key, secret)


def stage_first_key(tx: Transaction, merchant_id: str, now: datetime) -> IssuedKey:
    """A new merchant's first key: full scope, named "default"."""
    issued = _new_key(merchant_id, "default", Scope.FULL, now, "platform-admin", None)
    credentials.stage_new_key(tx, issued.key)
    return issued


def issue(
    merchant_id: str,
    name: str,
    scope: Scope,
    now: datetime,
    *,
    created_by: str | None = None,
    secret: str | None = None,
) -> IssuedKey:
    """A new key. ``secret`` registers a known secret (the local demo merchant's stable key)."""
    if len(credentials.keys_of(merchant_id)) >= MAX_KEYS:
        raise Conflict(f"a merchant has at most {MAX_KEYS} keys", code="too_many_keys")
    issued = _new_key(merchant_id, name, scope, now, created_by, secret)
    try:
        credentials.create_key(issued.key)
    except AlreadyExists as exc:
        raise Conflict("this API key is already registered", code="api_key_exists") from exc
    return issued


def list_keys(merchant_id: str) -> list[ApiKey]:
    return credentials.keys_of(merchant_id)


def _active(merchant_id: str, key_id: str) -> ApiKey:
    key = credentials.get_key(merchant_id, key_id)
    if key.status != "active":
        raise Conflict("this key has been revoked", code="key_revoked")
    return key


def rotate(merchant_id: str, key_id: str, now: datetime, grace: timedelta = DEFAULT_GRACE) -> IssuedKey:
    """A new secret for the key; the current one keeps working for ``grace`` (zero: it stops now),
    so tills can be switched over without a gap. A secret rotated out before stops now."""
    if not timedelta(0) <= grace <= MAX_GRACE:
        raise InvalidRequest(f"the grace period is at most {MAX_GRACE.days} days", details={"field": "grace_hours"})
    key = _active(merchant_id, key_id)
    secret = new_secret(SECRET_PREFIX)
    old_valid_until = now + grace if grace else None
    try:
        credentials.rotate_key(key, hash_api_key(secret), _hint(secret), now, old_valid_until)
    except Stale as exc:
        raise Conflict("the key changed meanwhile; read it again", code="key_changed") from exc
    return IssuedKey(credentials.get_key(merchant_id, key_id), secret)


def revoke(merchant_id: str, key_id: str, now: datetime) -> ApiKey:
    """Every secret of the key stops working; revoking a revoked key answers it again."""
    key = credentials.get_key(merchant_id, key_id)
    if key.status == "active":
        try:
            credentials.revoke_key(key, now)
        except Stale as exc:
            raise Conflict("the key changed meanwhile; try again", code="key_changed") from exc
    return credentials.get_key(merchant_id, key_id)


# ---- the authorizer's check ------------------------------------------------------------------------
class UseRecorder:
    """Records a key's last use at most once per ``LAST_USE_INTERVAL`` per container (and the
    stored time moves at most once per interval whatever the number of containers): a busy till
    costs one small write a minute, not one per request."""

    def __init__(self, interval: timedelta = LAST_USE_INTERVAL) -> None:
        self._interval = interval
        self._lock = threading.Lock()
        self._written: dict[str, float] = {}

    def note(self, key_id: str, now: datetime) -> None:
        moment = time.monotonic()
        with self._lock:
            last = self._written.get(key_id)
            if last is not None and moment - last < self._interval.total_seconds():
                return
            self._written[key_id] = moment
        try:
            credentials.touch_key(key_id, now, now - self._interval)
        except Exception:  # the request goes on: last use is a convenience, not a control
            logger.warning("could not record a key's last use", extra={"key_id": key_id})


uses = UseRecorder()


def authenticate(secret: str, now: datetime) -> Principal:
    """The merchant and scope of a presented secret, or ``Unauthenticated``."""
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        raise Unauthenticated("missing or invalid API key")
    found = credentials.key_secret(hash_api_key(secret))
    if found is None:
        raise Unauthenticated("missing, invalid or revoked API key")
    if found.valid_until is not None and found.valid_until <= now:
        raise Unauthenticated("this API key was rotated and its grace period is over")
    uses.note(found.key_id, now)
    return Principal(merchant_id=found.merchant_id, kind="key", actor_id=found.key_id, scope=found.scope)
