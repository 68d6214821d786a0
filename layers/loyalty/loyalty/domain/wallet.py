"""A member's points as lots, and every way they change (pure, immutable values).

Each earning is a lot with an expiry date (the end of the month ``expiry_months`` after it was
earned) and, during a return window, a date from which it may be spent. Lots with the same dates
share a bucket on the member item, so the item stays small (one bucket per month of validity)
however often the member buys. Spending takes the soonest-expiring available points first (FIFO);
expiry removes exactly what is left of each expired bucket; every change names the buckets it
touched, so the ledger can say which lots a spend drew from.

Invariant kept by every operation: ``balance == sum(lots) - debt`` and ``debt > 0`` only when no
lots are left (a refund of points already spent leaves the member in debt, which new points repay).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from loyalty.clock import add_months, end_of_month
from loyalty.errors import InsufficientPoints

_NEVER = "never"


@dataclass(frozen=True, order=True)
class LotKey:
    """Bucket identity: when its points expire (None: never) and become spendable (None: now)."""

    expires_on: date | None
    available_on: date | None = None

    def encode(self) -> str:
        expires = self.expires_on.isoformat() if self.expires_on else _NEVER
        available = self.available_on.isoformat() if self.available_on else ""
        return f"{expires}|{available}"

    @classmethod
    def decode(cls, raw: str) -> LotKey:
        expires, _, available = raw.partition("|")
        return cls(
            expires_on=None if expires == _NEVER else date.fromisoformat(expires),
            available_on=date.fromisoformat(available) if available else None,
        )

    def is_expired(self, today: date) -> bool:
        return self.expires_on is not None and self.expires_on < today

    def is_available(self, today: date) -> bool:
        return self.available_on is None or self.available_on <= today

    def matured(self) -> LotKey:
        return LotKey(self.expires_on)

    def fifo_order(self) -> tuple[date, date]:
        return (self.expires_on or date.max, self.available_on or date.min)


def lot_for(earned_on: date, expiry_months: int | None, pending_days: int) -> LotKey:
    expires = end_of_month(add_months(earned_on, expiry_months)) if expiry_months else None
    available = earned_on + timedelta(days=pending_days) if pending_days else None
    return LotKey(expires, available)


Allocation = dict[str, int]  # encoded lot key -> points taken from (or returned to) it


@dataclass(frozen=True)
class Wallet:
    lots: Mapping[str, int] = field(default_factory=dict)
    debt: int = 0

    # ---- reading -------------------------------------------------------------------------
    @property
    def balance(self) -> int:
        return sum(self.lots.values()) - self.debt

    def _keys(self) -> list[tuple[LotKey, str]]:
        return sorted(((LotKey.decode(raw), raw) for raw in self.lots), key=lambda kr: kr[0].fifo_order())

    def spendable(self, today: date) -> int:
        available = sum(
            self.lots[raw] for key, raw in self._keys() if key.is_available(today) and not key.is_expired(today)
        )
        return available - self.debt

    def pending(self, today: date) -> int:
        return sum(
            self.lots[raw] for key, raw in self._keys() if not key.is_available(today) and not key.is_expired(today)
        )

    def expiry_dates(self) -> set[date]:
        """The dates on which some of the member's points expire."""
        return {key.expires_on for key, _ in self._keys() if key.expires_on is not None}

    def expiring(self, today: date, until: date) -> dict[date, int]:
        """Points that will expire by ``until``, by expiry date (for warnings)."""
        result: dict[date, int] = {}
        for key, raw in self._keys():
            if key.expires_on is not None and today <= key.expires_on <= until:
                result[key.expires_on] = result.get(key.expires_on, 0) + self.lots[raw]
        return result

    # ---- changing ------------------------------------------------------------------------
    def _with(self, lots: Mapping[str, int], debt: int) -> Wallet:
        return Wallet({raw: points for raw, points in lots.items() if points != 0}, debt)

    def matured(self, today: date) -> Wallet:
        """Merge buckets whose return window has passed into their plain expiry bucket."""
        merged: dict[str, int] = {}
        for key, raw in self._keys():
            target = key.matured().encode() if key.is_available(today) else raw
            merged[target] = merged.get(target, 0) + self.lots[raw]
        return self._with(merged, self.debt)

    def earn(self, key: LotKey, points: int) -> tuple[Wallet, int]:
        """Add a lot; outstanding debt is repaid from it first. Returns (wallet, points kept in the lot)."""
        repaid = min(points, self.debt)
        lots = dict(self.lots)
        kept = points - repaid
        if kept:
            lots[key.encode()] = lots.get(key.encode(), 0) + kept
        return self._with(lots, self.debt - repaid), kept

    def spend(self, points: int, today: date) -> tuple[Wallet, Allocation]:
        """Take ``points`` from available, unexpired lots, soonest-expiring first."""
        if points <= 0:
            raise ValueError("points to spend must be positive")
        if self.spendable(today) < points:
            raise InsufficientPoints(
                "not enough points",
                details={"requested": points, "available": max(self.spendable(today), 0)},
            )
        candidates = [raw for key, raw in self._keys() if key.is_available(today) and not key.is_expired(today)]
        return self._take(points, candidates)

    def take(self, points: int, today: date) -> tuple[Wallet, Allocation]:
        """Take ``points`` from any unexpired lot, soonest-expiring first, pending ones included
        (a correction by the shop); never more than the balance."""
        if points <= 0:
            raise ValueError("points to take must be positive")
        if self.balance < points:
            raise InsufficientPoints("not enough points", details={"requested": points, "balance": self.balance})
        return self._take(points, [raw for key, raw in self._keys() if not key.is_expired(today)])

    def _take(self, points: int, ordered_keys: Iterable[str]) -> tuple[Wallet, Allocation]:
        lots = dict(self.lots)
        allocation: Allocation = {}
        remaining = points
        for raw in ordered_keys:
            if remaining == 0:
                break
            taken = min(lots.get(raw, 0), remaining)
            if taken > 0:
                lots[raw] -= taken
                allocation[raw] = allocation.get(raw, 0) + taken
                remaining -= taken
        if remaining:
            raise InsufficientPoints("not enough points", details={"requested": points})
        return self._with(lots, self.debt), allocation

    def give_back(self, allocation: Mapping[str, int], today: date) -> tuple[Wallet, int, Allocation]:
        """Return points a spend took (a cancelled or lapsed hold) to the lots they came from.

        Points whose lot has expired meanwhile are not returned: they expire now. Returns
        (wallet, points returned, allocation of the points that expired)."""
        lots = dict(self.lots)
        expired: Allocation = {}
        returned = 0
        for raw, points in allocation.items():
            if LotKey.decode(raw).is_expired(today):
                expired[raw] = points
            else:
                lots[raw] = lots.get(raw, 0) + points
                returned += points
        wallet = self._with(lots, self.debt)
        if wallet.debt:
            repay = min(wallet.debt, sum(lots.values()))
            wallet, _ = Wallet(wallet.lots, 0)._take(repay, [raw for _, raw in wallet._keys()])
            wallet = Wallet(wallet.lots, self.debt - repay)
        return wallet, returned, expired

    def claw_back(self, points: int, preferred: LotKey | None, today: date) -> tuple[Wallet, Allocation, int]:
        """Take back points for a refund: from the purchase's own lot first, then oldest first
        (pending lots included); what cannot be covered becomes debt, never silently forgiven.
        Returns (wallet, allocation, debt added)."""
        order: list[str] = []
        if preferred is not None:
            order += [preferred.encode(), preferred.matured().encode()]
        order += [raw for _, raw in self._keys() if raw not in order]
        coverable = min(points, sum(self.lots.values()))
        wallet, allocation = self._take(coverable, order) if coverable else (self, {})
        shortfall = points - coverable
        return Wallet(wallet.lots, wallet.debt + shortfall), allocation, shortfall

    def expire(self, today: date) -> tuple[Wallet, Allocation]:
        """Remove what is left of every bucket that expired before ``today``."""
        expired = {raw: self.lots[raw] for key, raw in self._keys() if key.is_expired(today)}
        lots = {raw: points for raw, points in self.lots.items() if raw not in expired}
        return self._with(lots, self.debt), expired
