"""Standard Webhooks signatures (symmetric, ``v1``; https://www.standardwebhooks.com).

Each endpoint has its own secret, shown to the merchant as ``whsec_`` + base64 of 32 random bytes.
A delivery carries three headers:

- ``webhook-id``: the delivery's id, the same on every retry (receivers dedupe on it);
- ``webhook-timestamp``: the attempt's time, integer unix seconds;
- ``webhook-signature``: space-separated ``v1,<base64 HMAC-SHA256>`` signatures of
  ``f"{id}.{timestamp}.{raw body}"``, one per secret in force: two while a rotated secret's grace
  period lasts, so receivers can switch secrets without losing a delivery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32  # the spec asks for 24 to 64
SIGNATURE_VERSION = "v1"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature of the delivery under ``secret``."""
    if "." in message_id:
        raise ValueError("a webhook id may not contain '.': it delimits the signed content")
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def headers(message_id: str, timestamp: int, body: bytes, secrets_in_force: Sequence[str]) -> dict[str, str]:
    """The three Standard Webhooks headers; one signature per secret in force (newest first)."""
    if not secrets_in_force:
        raise ValueError("a delivery is signed with at least one secret")
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: " ".join(signature(secret, message_id, timestamp, body) for secret in secrets_in_force),
    }
