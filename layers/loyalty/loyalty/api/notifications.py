"""Notification templates and settings, consents, push devices, the delivery log, campaigns."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator

from loyalty.api.common import ClientId, Page, Phone, Reply, Request
from loyalty.notifications.kinds import Channel, NotificationKind
from loyalty.notifications.settings import NotificationSettings

Language = Literal["ru", "en"]


class TemplateBody(Request):
    kind: NotificationKind
    channel: Channel
    language: Language = "ru"
    subject: str | None = Field(default=None, max_length=300)
    body: str = Field(min_length=1, max_length=2000)


class TemplatesUpdate(Request):
    templates: list[TemplateBody] = Field(min_length=1, max_length=100)


class TemplateView(Reply):
    kind: NotificationKind
    channel: Channel
    language: str
    subject: str | None = None
    body: str
    custom: bool = Field(description="the merchant's own wording (else the default)")


class TemplateList(Reply):
    templates: list[TemplateView]


class PreviewView(Reply):
    subject: str | None = None
    body: str
    sms_segments: int | None = None


class SettingsView(Reply):
    settings: NotificationSettings

    @field_validator("settings")
    @classmethod
    def _quiet_hours_are_local(cls, settings: NotificationSettings) -> NotificationSettings:
        # Quiet hours are wall-clock times where the member is: with an offset, every delivery would fail.
        _ = settings.quiet_hours  # raises ValueError for times with an offset
        return settings


class ConsentsUpdate(Request):
    sms: bool | None = None
    push: bool | None = None
    email: bool | None = None
    marketing: bool | None = None


class ConsentsView(Reply):
    member_id: str
    sms: bool
    push: bool
    email: bool
    marketing: bool


class OptOutRequest(Request):
    """What an SMS gateway forwards when a shopper replies STOP (or an email unsubscribe link)."""

    phone: Phone | None = None
    member_id: str | None = Field(default=None, max_length=40)
    channel: Literal["sms", "push", "email", "marketing", "all"] = "all"
    source: str = Field(default="sms_stop", max_length=32)


class PushTokenRequest(Request):
    token: str = Field(min_length=8, max_length=4096)
    platform: Literal["fcm", "apns"]


class DeviceView(Reply):
    device_id: str
    platform: str
    enabled: bool


class DeviceRemovedView(Reply):
    deleted: Literal[True] = Field(description="always true: forgetting an unknown device is not an error")


class DeliveryView(Reply):
    event_id: str
    kind: str
    channel: str | None = None
    status: str
    reason: str | None = None
    at: datetime


class DeliveryPage(Page):
    deliveries: list[DeliveryView]


class Segment(Request):
    tier: str | None = Field(default=None, max_length=32)
    inactive_days: int | None = Field(default=None, ge=1, le=3650, description="no purchase for this many days")
    birthday_month: int | None = Field(default=None, ge=1, le=12)


class CampaignRequest(Request):
    campaign_id: ClientId
    segment: Segment = Segment()
    text: str = Field(min_length=1, max_length=600, description="the {text} of the campaign template")


class CampaignView(Reply):
    campaign_id: str
    status: str = Field(description="queued, running, done")
    targeted: int = Field(description="members looked at so far")
    queued: int = Field(description="messages queued to members in the segment")
    created_at: datetime
