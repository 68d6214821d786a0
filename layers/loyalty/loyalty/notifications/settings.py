"""A merchant's notification settings: which channels per kind, quiet hours, caps, senders."""

from __future__ import annotations

from datetime import time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from loyalty.notifications.kinds import Channel, NotificationKind
from loyalty.notifications.quiet_hours import QuietHours

_CHANNELS_BY_KIND: dict[NotificationKind, list[Channel]] = {
    NotificationKind.WELCOME: [Channel.SMS, Channel.EMAIL],
    NotificationKind.POINTS_EARNED: [Channel.SMS],
    NotificationKind.POINTS_REDEEMED: [Channel.SMS],
    NotificationKind.POINTS_HELD: [Channel.PUSH, Channel.SMS],
    NotificationKind.POINTS_RETURNED: [Channel.PUSH, Channel.SMS],
    NotificationKind.REFUND_APPLIED: [Channel.SMS],
    NotificationKind.BONUS_RECEIVED: [Channel.PUSH, Channel.SMS],
    NotificationKind.TIER_CHANGED: [Channel.PUSH, Channel.SMS, Channel.EMAIL],
    NotificationKind.POINTS_EXPIRING: [Channel.PUSH, Channel.SMS, Channel.EMAIL],
    NotificationKind.BIRTHDAY: [Channel.PUSH, Channel.SMS, Channel.EMAIL],
    NotificationKind.BIRTHDAY_GREETING: [Channel.PUSH, Channel.EMAIL],
    NotificationKind.COUPON_ISSUED: [Channel.PUSH, Channel.SMS],
    NotificationKind.GIFT_CARD_STATUS: [Channel.EMAIL, Channel.SMS],
    NotificationKind.SIGN_IN_CODE: [Channel.SMS],
    NotificationKind.CAMPAIGN: [Channel.PUSH, Channel.SMS, Channel.EMAIL],
}


class NotificationSettings(BaseModel):
    """Each event goes out once, over the first channel in its list that the member can receive
    and has consented to (a push where there is an app, else an SMS, say)."""

    model_config = ConfigDict(extra="forbid", strict=True)  # stored settings are read with strict=False

    channels: dict[NotificationKind, Annotated[list[Channel], Field(max_length=3)]] = Field(
        default_factory=lambda: dict(_CHANNELS_BY_KIND),
        description="per kind, channels in order of preference; an empty list turns the kind off",
    )
    quiet_start: time = time(22, 0)
    quiet_end: time = time(9, 0)
    daily_marketing_cap: int = Field(default=2, ge=0, le=20)
    sms_sender: str = Field(
        default="Loyalty",
        min_length=1,
        max_length=11,
        pattern=r"^[A-Za-z0-9 .\-]+$",
        description="the SMS sender name (registered with the operators)",
    )

    def channels_for(self, kind: NotificationKind) -> list[Channel]:
        if kind is NotificationKind.SIGN_IN_CODE:
            return [Channel.SMS]  # a sign-in code always goes by SMS
        return list(self.channels.get(kind, _CHANNELS_BY_KIND[kind]))

    @property
    def quiet_hours(self) -> QuietHours:
        return QuietHours(self.quiet_start, self.quiet_end)
