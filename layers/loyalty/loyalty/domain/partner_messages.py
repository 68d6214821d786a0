"""Signed partner messages (pure): how a partner proves that a purchase event on the shared queue
comes from it.

The partner signs the exact message body with its signing secret (HMAC-SHA256) and sends, as SQS
message attributes, its key id (``partner_key``) and the signature (``signature``:
``v1=<hex digest>``). The consumer looks the key up, checks the signature in constant time, and
credits only the merchant that issued the key. ``v1`` leaves room for another scheme later.
"""

from __future__ import annotations

import hashlib
import hmac

KEY_ATTRIBUTE = "partner_key"
SIGNATURE_ATTRIBUTE = "signature"
VERSION = "v1"


def signature(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def is_signed_by(secret: str, body: str, presented: str) -> bool:
    return hmac.compare_digest(signature(secret, body).encode(), presented.strip().encode())
