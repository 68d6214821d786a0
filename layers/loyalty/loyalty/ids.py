"""Identifiers: opaque, URL-safe, time-ordered where that helps pagination."""

from __future__ import annotations

import hashlib
import secrets

from loyalty.clock import utcnow

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _base32(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, rest = divmod(number, 32)
        chars.append(_ALPHABET[rest])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """``prefix_`` + 10 chars of milliseconds + 16 random chars: sortable by creation time."""
    millis = int(utcnow().timestamp() * 1000)
    return f"{prefix}_{_base32(millis, 10)}{_base32(secrets.randbits(80), 16)}"


def new_secret(prefix: str, nbytes: int = 32) -> str:
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


def derived_id(prefix: str, millis: int, key: bytes) -> str:
    """Like ``new_id``, but the same ``key`` at the same time always gives the same id (for things
    that must exist once per key, yet sort by time)."""
    digest = hashlib.sha256(key).digest()
    return f"{prefix}_{_base32(millis, 10)}{_base32(int.from_bytes(digest[:10], 'big'), 16)}"


def id_bound(prefix: str, millis: int, *, last: bool) -> str:
    """The smallest (or, with ``last``, the largest) id ``new_id`` can make in millisecond ``millis``:
    bounds of a creation-time range over ids."""
    return f"{prefix}_{_base32(millis, 10)}" + (_ALPHABET[-1] * 16 if last else "")
