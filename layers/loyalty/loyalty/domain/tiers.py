"""Tier qualification and review (pure).

Qualification counts what was spent (or earned) in a rolling window of months, never the
spendable balance. A qualifying purchase upgrades at once. Downgrades happen only at a review,
``review_months`` after the tier was reached or last confirmed, and after ``grace_days`` more if
the member falls short. A paid membership holds its tier until it lapses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from loyalty.clock import add_months
from loyalty.domain.program import Tiers


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def window_months(today: date, months: int) -> list[str]:
    first = add_months(today.replace(day=1), -(months - 1))
    return [month_key(add_months(first, offset)) for offset in range(months)]


def add_to_month(by_month: Mapping[str, int], day: date, amount: int, keep_months: int) -> dict[str, int]:
    """Add ``amount`` to ``day``'s month and drop months older than anything a window can need."""
    updated = dict(by_month)
    key = month_key(day)
    updated[key] = updated.get(key, 0) + amount
    oldest = month_key(add_months(day.replace(day=1), -keep_months))
    return {month: value for month, value in updated.items() if month >= oldest and value != 0}


def window_total(by_month: Mapping[str, int], today: date, months: int) -> int:
    return sum(by_month.get(month, 0) for month in window_months(today, months))


KEEP_MONTHS = 37  # the longest window a program may use, plus one


@dataclass(frozen=True)
class TierState:
    tier: str | None = None
    review_on: date | None = None
    grace_until: date | None = None
    paid_tier: str | None = None
    paid_until: date | None = None

    def next_due(self) -> date | None:
        """When the review job must look at this member next."""
        review = self.grace_until or self.review_on  # a grace period postpones the review it started
        candidates = [review] if review is not None else []
        if self.paid_until is not None:
            candidates.append(self.paid_until + timedelta(days=1))
        return min(candidates) if candidates else None

    def is_due(self, today: date) -> bool:
        due = self.next_due()
        return due is not None and due <= today


@dataclass(frozen=True)
class TierChange:
    old: str | None
    new: str
    reason: str  # qualified, paid, review, lapsed


def entitled_tier(tiers: Tiers, state: TierState, total: int, today: date) -> str:
    """The highest tier the qualifying total reaches, or the paid one while it runs, if higher."""
    qualified = [level.name for level in tiers.levels if level.threshold <= total][-1]
    paid_active = state.paid_tier is not None and state.paid_until is not None and state.paid_until >= today
    if paid_active and tiers.rank(state.paid_tier) > tiers.rank(qualified):
        return str(state.paid_tier)
    return qualified


def on_activity(tiers: Tiers, state: TierState, total: int, today: date) -> tuple[TierState, TierChange | None]:
    """After a purchase or a paid membership: upgrade at once, never downgrade."""
    target = entitled_tier(tiers, state, total, today)
    if tiers.rank(target) <= tiers.rank(state.tier):
        return state, None
    reviewed = replace(state, tier=target, review_on=add_months(today, tiers.review_months), grace_until=None)
    return reviewed, TierChange(state.tier, target, "paid" if target == state.paid_tier else "qualified")


def on_review(tiers: Tiers, state: TierState, total: int, today: date) -> tuple[TierState, TierChange | None]:
    """The scheduled review: confirm, start the grace period, or downgrade."""
    if state.paid_until is not None and state.paid_until < today:
        state = replace(state, paid_tier=None, paid_until=None)
        lapsed = True
    else:
        lapsed = False
    target = entitled_tier(tiers, state, total, today)
    next_review = add_months(today, tiers.review_months)
    if tiers.rank(target) >= tiers.rank(state.tier):
        change = TierChange(state.tier, target, "qualified") if target != state.tier else None
        return replace(state, tier=target, review_on=next_review, grace_until=None), change
    if state.review_on is not None and state.review_on > today and not lapsed:
        return state, None  # not due: a stale reminder
    if not lapsed and tiers.grace_days and state.grace_until is None:
        return replace(state, grace_until=today + timedelta(days=tiers.grace_days)), None
    if not lapsed and state.grace_until is not None and state.grace_until > today:
        return state, None
    downgraded = replace(state, tier=target, review_on=next_review, grace_until=None)
    return downgraded, TierChange(state.tier, target, "lapsed" if lapsed else "review")
