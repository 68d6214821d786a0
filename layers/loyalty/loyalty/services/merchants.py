"""Merchants and their program (with a short per-container cache)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from loyalty.data import merchants
from loyalty.data.merchants import Merchant
from loyalty.data.transaction import AlreadyExists, Stale, Transaction
from loyalty.domain.kpis import month_of
from loyalty.domain.program import DEFAULT_PROGRAM, Mode, Program
from loyalty.errors import Conflict, RuleViolation
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
    prices = {month_of(now, program.timezone): price_entry(program)}
    merchant = Merchant(merchant_id, name, now, program.model_dump(mode="json"), 1, prices=prices)
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


def price_entry(program: Program) -> dict[str, int]:
    """What the KPI report prices a month with: the program's costs and a point's value."""
    return {"unit_value_kopecks": program.unit_value_kopecks, **program.costs.model_dump()}


def prices_history(
    history: Mapping[str, Mapping[str, int]], before: Program, after: Program, now: datetime
) -> dict[str, dict[str, int]] | None:
    """The history with this month's prices, if the change moves them (None: unchanged)."""
    if price_entry(after) == price_entry(before) and history:
        return None
    return {
        **{month: dict(entry) for month, entry in history.items()},
        month_of(now, after.timezone): price_entry(after),
    }


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
        value = VersionedProgram(merchant.program_version, Program.model_validate(merchant.program, strict=False))
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
    """Store a new version; purchases accrued from now on use it. New costs or a new point value
    price the KPI report from this month on (``prices_history``). Switching between points and
    cashback is refused while members hold a balance: a points balance and a cashback balance
    (kopecks) are not the same thing, and switching would revalue every balance x100 or /100."""
    merchant = merchants.get(merchant_id)
    current = merchant.program_version
    before = Program.model_validate(merchant.program, strict=False)
    if (
        before.unit_value_kopecks != program.unit_value_kopecks
        and Mode.CASHBACK in (before.mode, program.mode)
        and _balances_held(merchant_id)
    ):
        raise RuleViolation(
            "members hold balances in the current unit; switching between points and cashback would revalue them",
            code="mode_change_with_balances",
            details={"field": "mode", "from": before.mode.value, "to": program.mode.value},
        )
    if expected_version is not None and expected_version != current:
        raise Conflict(f"program is at version {current}, not {expected_version}", code="version_conflict")
    try:
        merchants.save_program(
            merchant_id,
            program.model_dump(mode="json"),
            current + 1,
            now,
            prices_history(merchant.prices, before, program, now),
        )
    except Stale as exc:
        raise Conflict("the program was changed concurrently; read it again", code="version_conflict") from exc
    programs.invalidate(merchant_id)
    return VersionedProgram(current + 1, program)


def _balances_held(merchant_id: str) -> bool:
    """Whether the merchant's members hold any points, from the KPI counters of every month (a
    few seconds behind the ledger: a switch right after the very first purchase may still go
    through)."""
    outstanding = 0
    for counters in merchants.read_months(merchant_id, LAST_MONTH).values():
        outstanding += counters.get("points_issued", 0)
        outstanding -= sum(
            counters.get(name, 0) for name in ("points_redeemed", "points_expired", "points_clawed_back")
        )
    return outstanding != 0


LAST_MONTH = "9999-12"  # counters of backdated and future-dated facts alike
