"""The kinds of notification, the placeholders each may use, the channels and the languages."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class NotificationKind(StrEnum):
    WELCOME = "welcome"
    POINTS_EARNED = "points_earned"
    POINTS_REDEEMED = "points_redeemed"
    POINTS_HELD = "points_held"  # reserved at the till for a payment the POS confirms
    POINTS_RETURNED = "points_returned"  # a cancelled or lapsed hold gave them back
    REFUND_APPLIED = "refund_applied"
    BONUS_RECEIVED = "bonus_received"  # review, survey, referral
    TIER_CHANGED = "tier_changed"
    POINTS_EXPIRING = "points_expiring"
    BIRTHDAY = "birthday"  # with birthday points: it reports points credited
    BIRTHDAY_GREETING = "birthday_greeting"  # a greeting without points: advertising
    COUPON_ISSUED = "coupon_issued"
    GIFT_CARD_STATUS = "gift_card_status"
    SIGN_IN_CODE = "sign_in_code"
    CAMPAIGN = "campaign"


class Channel(StrEnum):
    SMS = "sms"
    PUSH = "push"
    EMAIL = "email"


_BALANCE_CHANGE = frozenset({"merchant", "name", "points", "points_word", "balance", "balance_word"})

PLACEHOLDERS: Mapping[NotificationKind, frozenset[str]] = MappingProxyType(
    {
        NotificationKind.WELCOME: frozenset({"merchant", "name", "card_number", "bonus_points", "bonus_points_word"}),
        NotificationKind.POINTS_EARNED: _BALANCE_CHANGE,
        NotificationKind.POINTS_REDEEMED: _BALANCE_CHANGE,
        NotificationKind.POINTS_HELD: _BALANCE_CHANGE,
        NotificationKind.POINTS_RETURNED: _BALANCE_CHANGE,
        NotificationKind.REFUND_APPLIED: _BALANCE_CHANGE,
        NotificationKind.BONUS_RECEIVED: _BALANCE_CHANGE | {"bonus"},
        NotificationKind.TIER_CHANGED: frozenset({"merchant", "name", "old_tier", "new_tier"}),
        NotificationKind.POINTS_EXPIRING: frozenset({"merchant", "name", "points", "points_word", "expires_on"}),
        NotificationKind.BIRTHDAY: frozenset({"merchant", "name", "bonus_points", "bonus_points_word"}),
        NotificationKind.BIRTHDAY_GREETING: frozenset({"merchant", "name"}),
        NotificationKind.COUPON_ISSUED: frozenset({"merchant", "name", "reward", "code", "expires_on"}),
        # Gift-card orders and sign-in codes may concern someone who is not (yet) a named member.
        NotificationKind.GIFT_CARD_STATUS: frozenset({"merchant", "status", "order_id"}),
        NotificationKind.SIGN_IN_CODE: frozenset({"merchant", "code", "minutes"}),
        NotificationKind.CAMPAIGN: frozenset({"merchant", "name", "text"}),
    }
)

# Advertising needs the member's explicit consent (Russian law on advertising, 38-FZ, art. 18);
# everything else reports what happened to the member's own account: a birthday bonus or a bonus
# for a review reports points credited (transactional), a greeting without points advertises.
_MARKETING = frozenset({NotificationKind.BIRTHDAY_GREETING, NotificationKind.CAMPAIGN})


def is_marketing(kind: NotificationKind) -> bool:
    """Marketing needs marketing consent and counts against the daily cap; transactional does not."""
    return kind in _MARKETING


LANGUAGES = ("ru", "en")  # the languages of the default templates
DEFAULT_LANGUAGE = "ru"


def primary_language(tag: str) -> str:
    """The primary subtag of a language tag, lower-case: "en-US" -> "en", "RU" -> "ru"."""
    return tag.strip().replace("_", "-").split("-")[0].lower()
