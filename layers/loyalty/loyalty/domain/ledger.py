"""Ledger entries: every change of a member is one or more immutable entries, in commit order.

``sequence`` is the member's version that the change committed (each change of a member bumps it
by one, conditioned on the version it read), and ``position`` orders the entries of one change, so
(sequence, position) is the order in which changes really happened, and each entry's
``balance_after`` follows from the one before it. A client paging history by cursor never misses
an entry: a new one always sorts after every entry that existed before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EntryKind(StrEnum):
    ENROLLED = "enrolled"  # the member joined (with the welcome bonus, if any)
    EARN = "earn"  # a purchase
    REFUND = "refund"  # points of a refunded part taken back
    REDEEM = "redeem"  # points paid part of a check (immediately or held)
    REDEEM_REVERSAL = "redeem_reversal"  # a cancelled or lapsed hold gave them back
    REWARD = "reward"  # points bought a reward's coupon
    COUPON = "coupon"  # a coupon issued for free (a full stamp card)
    COUPON_REVOKED = "coupon_revoked"  # a refund took back a stamp card's coupon
    BONUS = "bonus"  # welcome, birthday, review, survey, referral
    BONUS_REVERSAL = "bonus_reversal"  # a refund undid the purchase that qualified a bonus
    ADJUSTMENT = "adjustment"  # the shop corrected the balance, with a reason
    EXPIRE = "expire"
    TIER = "tier"  # the tier changed
    MEMBERSHIP = "membership"  # a paid membership was bought or extended
    PROFILE = "profile"  # the member changed their profile
    CONSENT = "consent"  # notification consents changed
    ERASED = "erased"  # personal data erased
    GIFT_CARD = "gift_card"  # points paid for a gift-card order
    GIFT_CARD_REFUND = "gift_card_refund"  # a failed or cancelled order gave them back
    STATUS = "status"  # the shop blocked or unblocked the member
    CARD = "card"  # a card was linked, replaced or blocked


@dataclass(frozen=True)
class LedgerEntry:
    entry_id: str
    merchant_id: str
    member_id: str
    sequence: int
    position: int
    kind: EntryKind
    points: int
    balance_after: int
    operation: str
    created_at: datetime
    lot_key: str | None = None
    lot_points: int | None = None
    allocation: Mapping[str, int] | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
