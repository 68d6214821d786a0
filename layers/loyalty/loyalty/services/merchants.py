"""Merchants, their API keys and their program (with a short per-container cache)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from loyalty.data.connection import connection
from loyalty.data.models import ApiKeyItem, MerchantItem, ProgramVersionItem
from loyalty.domain.program import DEFAULT_PROGRAM, Program
from loyalty.errors import Conflict, NotFound, Unauthenticated
from loyalty.ids import new_id, new_secret
from loyalty.pii.cipher import hash_api_key

PROFILE = "PROFILE"
API_KEY_SK = "APIKEY"


@dataclass(frozen=True)
class CreatedMerchant:
    merchant_id: str
    name: str
    api_key: str  # shown once; only its hash is stored


@dataclass(frozen=True)
class VersionedProgram:
    version: int
    program: Program


def program_version_sk(version: int) -> str:
    return f"PROGRAM#{version:06d}"


def create_merchant(
    name: str, now: datetime, program: Program = DEFAULT_PROGRAM, merchant_id: str | None = None
) -> CreatedMerchant:
    merchant_id = merchant_id or new_id("mch")
    api_key = new_secret("lk_live")
    program_json = program.model_dump(mode="json")
    merchant = MerchantItem(
        merchant_id,
        PROFILE,
        merchant_id=merchant_id,
        name=name,
        created_at=now,
        program=program_json,
        program_version=1,
        settings={},
    )
    history = ProgramVersionItem(merchant_id, program_version_sk(1), program=program_json, version=1, created_at=now)
    key = ApiKeyItem(f"APIKEY#{hash_api_key(api_key)}", API_KEY_SK, merchant_id=merchant_id, created_at=now)
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(merchant, condition=MerchantItem.pk.does_not_exist())
            tx.save(history)
            tx.save(key, condition=ApiKeyItem.pk.does_not_exist())
    except TransactWriteError as exc:
        raise Conflict("a merchant with this id exists", code="merchant_exists") from exc
    return CreatedMerchant(merchant_id=merchant_id, name=name, api_key=api_key)


def add_api_key(merchant_id: str, api_key: str, now: datetime, label: str = "default") -> None:
    """Register a known key (used to seed the local demo merchant with a stable key)."""
    item = ApiKeyItem(
        f"APIKEY#{hash_api_key(api_key)}", API_KEY_SK, merchant_id=merchant_id, created_at=now, label=label
    )
    try:
        item.save(condition=ApiKeyItem.pk.does_not_exist())
    except PutError as exc:
        raise Conflict("this API key is already registered", code="api_key_exists") from exc


def merchant_for_api_key(api_key: str) -> str:
    if not api_key or len(api_key) > 200:
        raise Unauthenticated("missing or invalid API key")
    try:
        item = ApiKeyItem.get(f"APIKEY#{hash_api_key(api_key)}", API_KEY_SK)
    except DoesNotExist as exc:
        raise Unauthenticated("missing or invalid API key") from exc
    if item.status != "active":
        raise Unauthenticated("this API key has been revoked")
    return str(item.merchant_id)


def get_merchant(merchant_id: str) -> MerchantItem:
    try:
        return MerchantItem.get(merchant_id, PROFILE)
    except DoesNotExist as exc:
        raise NotFound("merchant not found", code="merchant_not_found") from exc


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
        merchant = get_merchant(merchant_id)
        value = VersionedProgram(int(merchant.program_version), Program.model_validate(merchant.program))
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
    merchant = get_merchant(merchant_id)
    current = int(merchant.program_version)
    if expected_version is not None and expected_version != current:
        raise Conflict(f"program is at version {current}, not {expected_version}", code="version_conflict")
    new_version = current + 1
    program_json = program.model_dump(mode="json")
    merchant.program = program_json
    merchant.program_version = new_version
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(merchant, condition=MerchantItem.program_version == current)
            tx.save(
                ProgramVersionItem(
                    merchant_id,
                    program_version_sk(new_version),
                    program=program_json,
                    version=new_version,
                    created_at=now,
                )
            )
    except TransactWriteError as exc:
        raise Conflict("the program was changed concurrently; read it again", code="version_conflict") from exc
    programs.invalidate(merchant_id)
    return VersionedProgram(new_version, program)
