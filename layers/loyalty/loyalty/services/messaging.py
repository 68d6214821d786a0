"""What merchants (and members) set about notifications: templates, settings, consents, opt-outs,
push devices; and the delivery log."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from botocore.exceptions import ClientError

from loyalty.api.notifications import (
    ConsentsUpdate,
    ConsentsView,
    DeliveryPage,
    DeliveryView,
    DeviceView,
    OptOutRequest,
    PreviewView,
    PushTokenRequest,
    TemplateBody,
    TemplateView,
)
from loyalty.data import members, merchants, notifications
from loyalty.data.members import Device
from loyalty.data.merchants import StoredTemplate
from loyalty.domain.member import Member
from loyalty.domain.profile import consents_of, set_consents
from loyalty.errors import InvalidRequest, Unavailable
from loyalty.notifications.settings import NotificationSettings
from loyalty.notifications.templates import DEFAULT_TEMPLATES, preview, validate
from loyalty.pii.cipher import PiiCipher
from loyalty.platform.aws import client
from loyalty.services.changes import Decision, apply_change
from loyalty.services.members import find_member_id
from loyalty.services.notify import merchant_templates, settings_of


# ---- templates -----------------------------------------------------------------------------
def list_templates(merchant_id: str) -> list[TemplateView]:
    custom = merchant_templates(merchant_id)
    views = []
    for (kind, channel, language), default in DEFAULT_TEMPLATES.items():
        own = custom.get((kind, channel, language))
        chosen = own or default
        views.append(
            TemplateView(
                kind=kind,
                channel=channel,
                language=language,
                subject=chosen.subject,
                body=chosen.body,
                custom=own is not None,
            )
        )
    return views


def _problems(template: TemplateBody) -> list[dict[str, str]]:
    return [
        {
            "field": problem.field,
            "code": problem.code.value,
            "message": problem.message,
            "template": f"{template.kind.value}/{template.channel.value}/{template.language}",
        }
        for problem in validate(
            template.kind, template.channel, template.subject, template.body, language=template.language
        )
    ]


def save_templates(merchant_id: str, templates: list[TemplateBody], now: datetime) -> list[TemplateView]:
    """Validate every template first (unknown placeholders, lengths); save all or none."""
    problems = [problem for template in templates for problem in _problems(template)]
    if problems:
        raise InvalidRequest("templates are invalid", details=problems)
    stored = [StoredTemplate(t.kind.value, t.channel.value, t.language, t.subject, t.body) for t in templates]
    merchants.save_templates(merchant_id, stored, now)
    return list_templates(merchant_id)


def preview_template(template: TemplateBody) -> PreviewView:
    problems = _problems(template)
    if problems:
        raise InvalidRequest("template is invalid", details=problems)
    rendered = preview(template.kind, template.channel, template.subject, template.body, template.language)
    return PreviewView(subject=rendered.subject, body=rendered.body, sms_segments=rendered.sms_segments)


# ---- settings ------------------------------------------------------------------------------
def get_settings(merchant_id: str) -> NotificationSettings:
    return settings_of(merchants.get(merchant_id).settings)


def save_settings(merchant_id: str, settings: NotificationSettings) -> NotificationSettings:
    merchant = merchants.get(merchant_id)
    merchants.save_settings(merchant_id, {**merchant.settings, "notifications": settings.model_dump(mode="json")})
    return settings


# ---- consents and opt-outs -----------------------------------------------------------------
def _consents_view(member_id: str, consents: dict[str, bool]) -> ConsentsView:
    return ConsentsView(member_id=member_id, **{k: consents[k] for k in ("sms", "push", "email", "marketing")})


def update_consents(merchant_id: str, member_id: str, update: ConsentsUpdate, now: datetime) -> ConsentsView:
    changes = {key: value for key, value in update.model_dump().items() if value is not None}

    def decide(member: Member) -> Decision[ConsentsView]:
        change = set_consents(member, changes, now)
        return Decision(change, _consents_view(member_id, consents_of(change.after)))

    view, _ = apply_change(merchant_id, member_id, decide, ConsentsView, now)
    return view


def opt_out(merchant_id: str, request: OptOutRequest, now: datetime, cipher: PiiCipher) -> ConsentsView:
    """Honoured at once: the next message is checked against it."""
    if (request.phone is None) == (request.member_id is None):
        raise InvalidRequest("give exactly one of phone or member_id", details={"fields": ["phone", "member_id"]})
    member_id = request.member_id or find_member_id(merchant_id, phone=request.phone, cipher=cipher)
    channels = ["sms", "push", "email", "marketing"] if request.channel == "all" else [request.channel]
    return update_consents(merchant_id, member_id, ConsentsUpdate(**dict.fromkeys(channels, False)), now)


def get_consents(merchant_id: str, member_id: str) -> ConsentsView:
    return _consents_view(member_id, consents_of(members.get(merchant_id, member_id, consistent=False)))


# ---- push devices --------------------------------------------------------------------------
DEVICE_ID = re.compile(r"[0-9a-f]{32}")


def device_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def register_device(
    merchant_id: str, member_id: str, request: PushTokenRequest, now: datetime, platform_applications: dict[str, str]
) -> DeviceView:
    members.get(merchant_id, member_id, consistent=False)  # 404 for an unknown member
    application = platform_applications.get(request.platform)
    if not application:
        raise Unavailable(f"push for {request.platform} is not configured", code="push_not_configured")
    try:
        endpoint = client("sns").create_platform_endpoint(
            PlatformApplicationArn=application, Token=request.token, CustomUserData=member_id
        )
    except ClientError as exc:
        raise InvalidRequest("the push token was refused", details={"field": "token"}) from exc
    identifier = device_id(request.token)
    members.save_device(
        merchant_id,
        member_id,
        Device(identifier, request.platform, endpoint["EndpointArn"], enabled=True, created_at=now),
    )
    _keep_the_newest(merchant_id, member_id)
    return DeviceView(device_id=identifier, platform=request.platform, enabled=True)


MAX_DEVICES = 5


def _keep_the_newest(merchant_id: str, member_id: str) -> None:
    """A member has at most MAX_DEVICES phones: a new one retires the longest-registered, so a
    member who changes phones is never refused and one event never becomes hundreds of pushes."""
    devices = sorted(members.devices(merchant_id, member_id), key=lambda device: device.created_at)
    for old in devices[: max(len(devices) - MAX_DEVICES, 0)]:
        members.delete_device(merchant_id, member_id, old.device_id)
        try:
            client("sns").delete_endpoint(EndpointArn=old.endpoint_arn)
        except ClientError:
            continue  # gone already: nothing to clean up


def remove_device(merchant_id: str, member_id: str, token_or_id: str) -> None:
    members.get(merchant_id, member_id, consistent=False)  # 404 for an unknown member
    # Only a device id is a key as it is: a push token (up to 4 KB) would exceed DynamoDB's key limit.
    identifiers = {device_id(token_or_id)} | ({token_or_id} if DEVICE_ID.fullmatch(token_or_id) else set())
    for identifier in identifiers:
        members.delete_device(merchant_id, member_id, identifier)


# ---- delivery log --------------------------------------------------------------------------
def deliveries(merchant_id: str, member_id: str, limit: int = 50) -> DeliveryPage:
    members.get(merchant_id, member_id, consistent=False)  # 404 for an unknown member
    return DeliveryPage(
        deliveries=[
            DeliveryView(
                event_id=logged.event_id,
                kind=logged.kind,
                channel=logged.channel,
                status=logged.status,
                reason=logged.reason,
                at=logged.at,
            )
            for logged in notifications.deliveries(merchant_id, member_id, limit)
        ]
    )
