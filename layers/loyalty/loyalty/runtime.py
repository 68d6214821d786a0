"""Container-level wiring, done once at cold start: tables bound, keys and ciphers on demand."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from loyalty.config import CoreConfig
from loyalty.data.base import bind_tables, connect
from loyalty.pii.cipher import PiiCipher
from loyalty.platform import aws, cold_start
from loyalty.platform.secrets import KeyRing, is_admin_token, load_key_ring


@dataclass
class Runtime:
    config: CoreConfig
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cipher: tuple[KeyRing, PiiCipher] | None = None

    def keys(self) -> KeyRing:
        # The secret is cached for ``secret_cache_seconds`` (platform.secrets); a rotation is seen after that.
        return load_key_ring(self.config.keys_secret_name, max_age=self.config.secret_cache_seconds)

    def cipher(self) -> PiiCipher:
        ring = self.keys()
        with self._lock:
            if self._cipher is None or self._cipher[0] != ring:
                self._cipher = (ring, PiiCipher(ring.pii_key, ring.lookup_key))
            return self._cipher[1]

    def is_admin_token(self, candidate: str) -> bool:
        return is_admin_token(candidate, self.config.admin_secret_name, self.config.secret_cache_seconds)


_runtime: Runtime | None = None


def bootstrap(config: CoreConfig) -> Runtime:
    global _runtime  # noqa: PLW0603 - the one container-wide instance
    bind_tables(config)
    if aws.in_lambda():  # elsewhere (tests, the API document) an import must not need AWS
        connect()
    _runtime = Runtime(config)
    cold_start.loaded()
    return _runtime


def current() -> Runtime:
    if _runtime is None:
        raise RuntimeError("loyalty.runtime.bootstrap(config) was not called at cold start")
    return _runtime
