"""Stamp cards (pure): "buy N, get one free" per category, from purchase lines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from loyalty.domain.earning import Line
from loyalty.domain.program import StampCard


@dataclass(frozen=True)
class CompletedCard:
    card: StampCard
    coupons: int


def add_stamps(
    cards: Iterable[StampCard], stamps: Mapping[str, int], lines: Iterable[Line]
) -> tuple[dict[str, int], list[CompletedCard]]:
    """Each unit bought in a card's category is a stamp; every full card becomes a coupon and
    the extra stamps carry over. Lines paid with a reward never stamp."""
    updated = dict(stamps)
    completed: list[CompletedCard] = []
    lines = tuple(lines)
    for card in cards:
        added = stamps_in(card, lines)
        if not added:
            continue
        total = updated.get(card.id, 0) + added
        # A negative count is stamps owed back (a refund of a purchase whose coupon was used):
        # new stamps repay it before they count towards a card.
        coupons, left = divmod(total, card.stamps_required) if total > 0 else (0, total)
        updated[card.id] = left
        if coupons:
            completed.append(CompletedCard(card, coupons))
    return {card_id: count for card_id, count in updated.items() if count}, completed


def stamps_in(card: StampCard, lines: Iterable[Line]) -> int:
    """The stamps a purchase's lines give a card: each unit of its category, not paid by a reward."""
    return sum(line.quantity for line in lines if not line.reward and line.category == card.category)
