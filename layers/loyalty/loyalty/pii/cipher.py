"""Field-level encryption of personal data (AES-256-GCM) and keyed hashes for look-ups.

Phone numbers, emails and names are stored only as ciphertext; a look-up by phone uses an
HMAC-SHA256 of the normalised value under a separate key, so the index reveals nothing without it.
The ciphertext names its key version so keys can be rotated without rewriting data at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1"
_NONCE_BYTES = 12


class PiiCipher:
    def __init__(self, encryption_key: bytes, lookup_key: bytes) -> None:
        if len(encryption_key) != 32 or len(lookup_key) < 32:
            raise ValueError("PII keys must be 32 bytes")
        self._aead = AESGCM(encryption_key)
        self._lookup_key = lookup_key

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """``context`` (e.g. the member id) is bound as associated data: a ciphertext copied to
        another record does not decrypt there."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, context: str) -> str:
        version, _, payload = token.partition(".")
        if version != _VERSION:
            raise ValueError(f"unknown PII key version {version!r}")
        raw = base64.urlsafe_b64decode(payload)
        return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode()).decode()

    def lookup_hash(self, kind: str, normalised_value: str) -> str:
        """Deterministic keyed hash for equality look-ups; ``kind`` separates phones from emails."""
        message = f"{kind}:{normalised_value}".encode()
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()


def hash_api_key(api_key: str) -> str:
    """API keys carry 256 random bits, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(api_key.encode()).hexdigest()
