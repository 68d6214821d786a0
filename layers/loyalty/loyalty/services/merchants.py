"""Merchants and their program (with a short per-container cache)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from loyalty.data import merchants
from loyalty.data.merchants import Merchant
from loyalty.data.transaction import AlreadyExists, Stale, Transaction
from loyalty.domain.program import DEFAULT_PROGRAM, Program
from loyalty.errors import Conflict
from loyalty.ids import new_id
from loyalty.services import keys


@dataclass(frozen=True)
class CreatedMerchant:
    merchant_id: str
    name: str
    api_key: str  # shown once; only its hash is stored
    key_id: str


@dataclass(frozen=True)
class VersionedProgram:
    version: int
    program: Program


def create_merchant(
    name: str, now: datetime, program: Program = DEFAULT_PROGRAM, merchant_id: str | None = None
) -> CreatedMerchant:
    """A merchant, its first program version and its first API key (scope ``full``), in one write."""
    merchant_id = merchant_id or new_id("mch")
    merchant = Merchant(merchant_id, name, now, program.model_dump(mode="json"), 1)
    tx = Transaction()
    merchants.stage_create(tx, merchant)
    issued = keys.stage_first_key(tx, merchant_id, now)
    try:
        tx.commit()
    except AlreadyExists as exc:
        raise Conflict("a merchant with this id exists", code="merchant_exists") from exc
    return CreatedMerchant(merchant_id=merchant_id, name=name, api_key=issued.secret, key_id=issued.key.key_id)


def get_merchant(merchant_id: str) -> Merchant:
    return merchants.get(merchant_id)


class ProgramCache:
    """Programs change rarely and are read on every purchase: cache each for ``ttl`` seconds.
    A change is visible at once in the container that made it and within ``ttl`` elsewhere."""

    def __init__(self, ttl_seconds: float = 30.0) -> None:
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, VersionedProgram]] = {}

    def get(self, merchant_id: str) -> VersionedProgram:
        now = time.monotonic()
        with self._lock:
            cached = self._entries.get(merchant_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        merchant = merchants.get(merchant_id)
        value = VersionedProgram(merchant.program_version, Program.model_validate(merchant.program))
        with self._lock:
            self._entries[merchant_id] = (now + self._ttl, value)
        return value

    def invalidate(self, merchant_id: str) -> None:
        with self._lock:
            self._entries.pop(merchant_id, None)

    def invalidate_all(self) -> None:
        with self._lock:
            self._entries.clear()


programs = ProgramCache()


def update_program(
    merchant_id: str, program: Program, now: datetime, expected_version: int | None = None
) -> VersionedProgram:
    """Store a new version; purchases accrued from now on use it."""
    current = merchants.get(merchant_id).program_version
    if expected_version is not None and expected_version != current:
        raise Conflict(f"program is at version {current}, not {expected_version}", code="version_conflict")
    try:
        merchants.save_program(merchant_id, program.model_dump(mode="json"), current + 1, now)
    except Stale as exc:
        raise Conflict("the program was changed concurrently; read it again", code="version_conflict") from exc
    programs.invalidate(merchant_id)
    return VersionedProgram(current + 1, program)
