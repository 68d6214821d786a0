"""The member aggregate: a member's state, and the one way it changes.

Every operation on a member (``domain.purchases``, ``domain.spending``, ``domain.occasions``,
``domain.membership``, ``domain.profile``) takes the member as read and returns a
``MemberChange``: the member after the change, its ledger entries, the coupons it issued or
revoked. A service loads the member, calls one operation, and commits the change; the data layer
derives what else must be written (look-ups, the expiry, tier and birthday indexes) from the
difference between ``before`` and ``after``.

Invariant kept by ``Draft``: the ledger explains the wallet. Every entry moves the running balance
by its points, and a change whose entries do not add up to the wallet's balance is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from loyalty.domain.coupons import Coupon
from loyalty.domain.ledger import EntryKind, LedgerEntry
from loyalty.domain.tiers import TierState
from loyalty.domain.wallet import Allocation, LotKey, Wallet
from loyalty.errors import NotFound, RuleViolation
from loyalty.ids import new_id


class MemberStatus(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"  # the shop stopped the card: no earning or spending until unblocked
    ERASED = "erased"  # personal data erased on request; the ledger stays, anonymised


@dataclass(frozen=True)
class Contact:
    """Personal data as the data layer keeps it: ciphertexts and a keyed look-up hash. The domain
    never reads them; services encrypt and decrypt."""

    phone_enc: str
    phone_hash: str
    name_enc: str | None = None
    email_enc: str | None = None
    email_hash: str | None = None


@dataclass(frozen=True)
class Totals:
    """Running totals; only refunds and reversals take them back."""

    earned: int = 0
    spent: int = 0
    purchases: int = 0
    spend_kopecks: int = 0
    last_purchase_at: datetime | None = None


@dataclass(frozen=True)
class Activity:
    """What counts towards tiers, by month ("2026-11"): kopecks spent and points earned; and, for
    the KPI report, the member's live (not fully refunded) purchases per month of the program's
    time zone (``domain.kpis``)."""

    spend_by_month: Mapping[str, int] = field(default_factory=dict)
    earned_by_month: Mapping[str, int] = field(default_factory=dict)
    purchases_by_month: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Referral:
    code: str | None = None  # the member's own code, to invite others
    referred_by: str | None = None  # the member who invited them
    done: bool = False  # the invitation's bonuses were paid (a qualifying purchase)


@dataclass(frozen=True)
class Member:
    merchant_id: str
    member_id: str
    card_number: str
    created_at: datetime
    contact: Contact
    status: MemberStatus = MemberStatus.ACTIVE
    language: str = "ru"
    timezone: str | None = None
    birthday: date | None = None
    wallet: Wallet = field(default_factory=Wallet)
    tier: TierState = field(default_factory=TierState)
    totals: Totals = field(default_factory=Totals)
    activity: Activity = field(default_factory=Activity)
    referral: Referral = field(default_factory=Referral)
    stamps: Mapping[str, int] = field(default_factory=dict)  # stamps per stamp card (negative: owed back)
    consents: Mapping[str, bool] = field(default_factory=dict)
    cards: tuple[str, ...] = ()  # plastic cards linked beside ``card_number`` (the card the app shows)
    blocked_cards: tuple[str, ...] = ()  # lost or blocked numbers: they find no one and link to no one
    block_reason: str | None = None  # why the shop blocked the member (while BLOCKED)
    version: int = 0  # bumped by every committed change: optimistic concurrency and ledger order

    @property
    def ref(self) -> str:
        return member_ref(self.merchant_id, self.member_id)

    @property
    def is_active(self) -> bool:
        return self.status is MemberStatus.ACTIVE

    @property
    def all_cards(self) -> tuple[str, ...]:
        """Every number that finds the member, the app's card first."""
        return (self.card_number, *self.cards)


def ensure_exists(member: Member) -> None:
    """An erased member is gone for everyone; a blocked one is still the shop's to look after."""
    if member.status is MemberStatus.ERASED:
        raise NotFound("member not found", code="member_not_found")


def ensure_can_transact(member: Member) -> None:
    """What the till and the app may do only for an active member: earn, spend, claim. A blocked
    member is refused with a reason the cashier can read out, not as an unknown card."""
    ensure_exists(member)
    if member.status is MemberStatus.BLOCKED:
        raise RuleViolation(
            "the shop has blocked this member: no earning or spending until it is unblocked",
            code="member_blocked",
            details={"reason": member.block_reason} if member.block_reason else None,
        )


def member_ref(merchant_id: str, member_id: str) -> str:
    """A member's reference across the system: what its personal data is encrypted for, what
    event ids name. Not a storage key (those are the data layer's)."""
    return f"{merchant_id}/{member_id}"


@dataclass(frozen=True)
class MemberChange:
    """Everything one operation changes about a member, committed at once or not at all."""

    before: Member | None  # None: the member is new
    after: Member
    entries: tuple[LedgerEntry, ...] = ()
    coupons: tuple[Coupon, ...] = ()  # issued by this change
    revoked_coupons: tuple[tuple[Coupon, Coupon], ...] = ()  # (as read, after) of coupons a refund took back

    @property
    def expiry_dates_added(self) -> list[date]:
        """Expiry dates the member has a bucket for now and did not before (the expiry job's queue)."""
        before = self.before.wallet.expiry_dates() if self.before else set()
        return sorted(self.after.wallet.expiry_dates() - before)

    @property
    def tier_due_added(self) -> date | None:
        """When the tier review must look at the member, if that is new."""
        due = self.after.tier.next_due()
        previous = self.before.tier.next_due() if self.before else None
        return due if due is not None and due != previous else None


class Draft:
    """A change being decided: the member as it becomes, and its ledger entries in order."""

    def __init__(self, member: Member, now: datetime, *, new: bool = False) -> None:
        self.before = None if new else member
        self.member = member
        self.now = now
        self.today = now.date()
        self.sequence = member.version + 1
        self.wallet = member.wallet.matured(self.today)
        self._balance = self.wallet.balance
        self.entries: list[LedgerEntry] = []
        self.coupons: list[Coupon] = []
        self.revoked: list[tuple[Coupon, Coupon]] = []

    @property
    def balance(self) -> int:
        return self._balance

    def update(self, **changes: Any) -> None:
        self.member = replace(self.member, **changes)

    def entry(
        self,
        kind: EntryKind,
        points: int,
        operation: str,
        *,
        lot_key: str | None = None,
        lot_points: int | None = None,
        allocation: Allocation | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> LedgerEntry:
        self._balance += points
        entry = LedgerEntry(
            entry_id=new_id("le"),
            merchant_id=self.member.merchant_id,
            member_id=self.member.member_id,
            sequence=self.sequence,
            position=len(self.entries),
            kind=kind,
            points=points,
            balance_after=self._balance,
            operation=operation,
            created_at=self.now,
            lot_key=lot_key,
            lot_points=lot_points,
            allocation=dict(allocation) if allocation else None,
            details={key: value for key, value in (details or {}).items() if value is not None},
        )
        self.entries.append(entry)
        return entry

    def credit(
        self, points: int, lot: LotKey, kind: EntryKind, operation: str, details: Mapping[str, Any] | None = None
    ) -> LedgerEntry:
        """Points into a lot (outstanding debt is repaid first), with their entry."""
        if not points:
            return self.entry(kind, 0, operation, details=details)
        self.wallet, kept = self.wallet.earn(lot, points)
        return self.entry(kind, points, operation, lot_key=lot.encode(), lot_points=kept, details=details)

    def debit(
        self, points: int, kind: EntryKind, operation: str, details: Mapping[str, Any] | None = None
    ) -> Allocation:
        """Spend points, soonest-expiring first; raises InsufficientPoints and changes nothing."""
        self.wallet, allocation = self.wallet.spend(points, self.today)
        self.entry(kind, -points, operation, allocation=allocation, details=details)
        return allocation

    def claw_back(
        self,
        points: int,
        kind: EntryKind,
        operation: str,
        *,
        preferred: LotKey | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> int:
        """Take points back (a refund, a reversed bonus): from ``preferred`` first, then oldest
        first; what the member already spent becomes debt. Returns the debt added."""
        self.wallet, allocation, debt = (
            self.wallet.claw_back(points, preferred, self.today)
            if points
            else (
                self.wallet,
                {},
                0,
            )
        )
        self.entry(kind, -points, operation, allocation=allocation, details={**(details or {}), "debt_added": debt})
        return debt

    def issue(self, coupon: Coupon) -> None:
        self.coupons.append(coupon)

    def revoke(self, coupon: Coupon, items: int) -> None:
        self.revoked.append((coupon, coupon.revoked(items)))

    def finish(self) -> MemberChange:
        if self.wallet.balance != self._balance:
            raise AssertionError(f"ledger entries add up to {self._balance}, the wallet holds {self.wallet.balance}")
        after = replace(self.member, wallet=self.wallet, version=self.sequence)
        return MemberChange(self.before, after, tuple(self.entries), tuple(self.coupons), tuple(self.revoked))
