"""Whether to send a notification now, later, or not at all.

The order of the checks is the order of the reasons a member would accept: no address, no
consent for the channel, no consent to marketing, enough marketing today, then the time of day.

Quiet hours hold back transactional messages too: points earned at a 24-hour shop at 3 a.m. are
still no reason to wake the member, so the message waits for the morning. Only a sign-in code
goes at once and whatever the consents, because the member is waiting for it right now.

A deferred message is decided again when it is due: consents may be withdrawn and the day's
marketing may be used up by then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from loyalty.notifications.kinds import Channel, NotificationKind, is_marketing
from loyalty.notifications.quiet_hours import QuietHours


class Action(StrEnum):
    SEND_NOW = "send_now"
    DEFER = "defer"
    SKIP = "skip"


class SkipReason(StrEnum):
    NO_ADDRESS = "no_address"  # no phone, push token or email for the channel
    NO_CONSENT = "no_consent"  # the member opted out of the channel (or never opted in)
    NO_MARKETING_CONSENT = "no_marketing_consent"
    DAILY_CAP = "daily_cap"  # the member already got today's share of marketing


@dataclass(frozen=True)
class Decision:
    """One of ``Decision.send_now()``, ``Decision.defer_until(when)`` or ``Decision.skip(reason)``."""

    action: Action
    until: datetime | None = None  # only for DEFER: the UTC instant to send at
    reason: SkipReason | None = None  # only for SKIP

    def __post_init__(self) -> None:
        if (self.action is Action.DEFER) != (self.until is not None):
            raise ValueError("a deferral, and only a deferral, has 'until'")
        if (self.action is Action.SKIP) != (self.reason is not None):
            raise ValueError("a skip, and only a skip, has 'reason'")

    @classmethod
    def send_now(cls) -> Decision:
        return cls(Action.SEND_NOW)

    @classmethod
    def defer_until(cls, until: datetime) -> Decision:
        return cls(Action.DEFER, until=until)

    @classmethod
    def skip(cls, reason: SkipReason) -> Decision:
        return cls(Action.SKIP, reason=reason)


def decide(
    kind: NotificationKind,
    channel: Channel,
    *,
    consents: Mapping[Channel, bool],
    marketing_consent: bool,
    has_address: bool,
    sent_marketing_today: int,
    daily_marketing_cap: int,
    now_utc: datetime,
    timezone: str,
    quiet_hours: QuietHours,
) -> Decision:
    """Decide one notification to one member over one channel.

    ``consents`` maps a channel to the member's consent; a channel missing from it counts as no
    consent. ``sent_marketing_today`` counts marketing messages already sent to the member on the
    merchant's current local day; a cap of 0 allows no marketing at all. ``timezone`` is the
    merchant's IANA zone (Moscow when invalid).
    """
    reason = _skip_reason(
        kind,
        channel,
        consents=consents,
        marketing_consent=marketing_consent,
        has_address=has_address,
        sent_marketing_today=sent_marketing_today,
        daily_marketing_cap=daily_marketing_cap,
    )
    if reason is not None:
        return Decision.skip(reason)
    if kind is NotificationKind.SIGN_IN_CODE:
        return Decision.send_now()
    allowed_at = quiet_hours.next_allowed(now_utc, timezone)
    return Decision.send_now() if allowed_at == now_utc else Decision.defer_until(allowed_at)


def _skip_reason(
    kind: NotificationKind,
    channel: Channel,
    *,
    consents: Mapping[Channel, bool],
    marketing_consent: bool,
    has_address: bool,
    sent_marketing_today: int,
    daily_marketing_cap: int,
) -> SkipReason | None:
    if not has_address:
        return SkipReason.NO_ADDRESS
    if kind is NotificationKind.SIGN_IN_CODE:
        return None
    if not consents.get(channel, False):
        return SkipReason.NO_CONSENT
    if is_marketing(kind):
        if not marketing_consent:
            return SkipReason.NO_MARKETING_CONSENT
        if sent_marketing_today >= daily_marketing_cap:
            return SkipReason.DAILY_CAP
    return None
