"""Delivering a domain event to a member: pick the channel, honour consent, quiet hours and the
marketing cap, render the merchant's template in the member's language, send once, log it.

Once per event and channel: a delivery record is claimed with a conditional write before the
provider is called and marked sent after; a redelivered event finds it and sends nothing. A
failed send releases the claim and raises, so the queue retries it and, in the end, dead-letters
it with its reason. Messages that fall in quiet hours wait in a dated queue for the deferred job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from loyalty.clock import isoformat
from loyalty.data import members, merchants, notifications
from loyalty.data.notifications import LoggedDelivery
from loyalty.domain.member import Member
from loyalty.domain.profile import consents_of
from loyalty.domain.program import Mode
from loyalty.errors import NotFound
from loyalty.events import DomainEvent
from loyalty.notifications.kinds import Channel, NotificationKind, is_marketing
from loyalty.notifications.plural import ROUBLE_SIGN, points_word, roubles
from loyalty.notifications.rules import Action, Decision, decide
from loyalty.notifications.sending import Message, Provider, RecipientGone
from loyalty.notifications.settings import NotificationSettings
from loyalty.notifications.templates import Template, TemplateKey, render, template_for
from loyalty.pii.cipher import PiiCipher
from loyalty.services.merchants import programs

DEFERRED_LOOKBACK_HOURS = 36


@dataclass(frozen=True)
class Outcome:
    channel: str | None
    status: str  # sent, deferred, skipped, duplicate
    reason: str | None = None


def settings_of(merchant_settings: Mapping[str, object] | None) -> NotificationSettings:
    return NotificationSettings.model_validate((merchant_settings or {}).get("notifications", {}), strict=False)


def merchant_templates(merchant_id: str) -> dict[TemplateKey, Template]:
    return {
        (NotificationKind(stored.kind), Channel(stored.channel), stored.language): Template(stored.subject, stored.body)
        for stored in merchants.templates(merchant_id)
    }


def _format_day(value: str, language: str) -> str:
    year, month, day = value.split("-")
    return f"{day}.{month}.{year}" if language == "ru" else f"{day}/{month}/{year}"


ORDER_STATUS_TITLES = {
    "ru": {
        "created": "принят",
        "submitted": "передан в производство",
        "in_production": "изготавливается",
        "shipped": "отправлен",
        "delivered": "доставлен",
        "failed": "не выполнен",
        "cancelled": "отменён",
    },
    "en": {
        "created": "received",
        "submitted": "sent to production",
        "in_production": "in production",
        "shipped": "shipped",
        "delivered": "delivered",
        "failed": "failed",
        "cancelled": "cancelled",
    },
}
AMOUNTS = ("points", "balance", "bonus_points")
BONUS_TITLES = {  # (bonus, role) -> how "+20 баллов ..." ends
    "ru": {
        ("review", None): "за отзыв",
        ("survey", None): "за участие в опросе",
        ("referral", "referrer"): "за приглашённого друга",
        ("referral", "referred"): "по приглашению друга",
    },
    "en": {
        ("review", None): "for your review",
        ("survey", None): "for the survey",
        ("referral", "referrer"): "for inviting a friend",
        ("referral", "referred"): "for joining on a friend's invitation",
    },
}


def values_for(
    event: DomainEvent,
    merchant_name: str,
    member: Member | None,
    cipher: PiiCipher,
    tier_titles: Mapping[str, str],
    *,
    cashback: bool = False,
) -> dict[str, object]:
    """The values a template's placeholders take for this event. In a cashback program the
    balance is money: amounts read as roubles ("61,72 ₽"), never as points."""
    language = member.language if member is not None else "ru"
    data = event.data
    values: dict[str, object] = {"merchant": merchant_name, **{k: v for k, v in data.items() if v is not None}}
    if member is not None:
        name_enc = member.contact.name_enc
        values["name"] = cipher.decrypt(name_enc, context=member.ref) if name_enc else ""
        values["card_number"] = member.card_number
    if event.type in ("welcome", "birthday"):
        values["bonus_points"] = data.get("points", 0)
    for amount in AMOUNTS:
        if amount in values:
            number = int(str(values[amount]))
            values[amount] = roubles(number, language) if cashback else number
            values[f"{amount}_word"] = ROUBLE_SIGN if cashback else points_word(number, language)
    values.update(_renamed(data, language, tier_titles))
    return values


def _renamed(data: Mapping[str, object], language: str, tier_titles: Mapping[str, str]) -> dict[str, object]:
    """Event data under the names and in the words templates use."""
    renamed: dict[str, object] = {}
    if "reward_name" in data:
        renamed["reward"] = data["reward_name"]
    if "coupon" in data:
        renamed["code"] = data["coupon"]
    if "expires_on" in data:
        renamed["expires_on"] = _format_day(str(data["expires_on"]), language)
    for tier in ("old_tier", "new_tier"):
        if data.get(tier) is not None:
            renamed[tier] = tier_titles.get(str(data[tier]), str(data[tier]))
    words = "en" if language.startswith("en") else "ru"
    if "status" in data:
        renamed["status"] = ORDER_STATUS_TITLES[words].get(str(data["status"]), str(data["status"]))
    if "bonus" in data:
        key = (str(data["bonus"]), str(data["role"]) if data.get("role") else None)
        renamed["bonus"] = BONUS_TITLES[words].get(key, "")
    return renamed


class Notifier:
    def __init__(self, providers: Mapping[Channel, Provider], cipher: PiiCipher, email_from: str) -> None:
        self._providers = providers
        self._cipher = cipher
        self._email_from = email_from

    # ---- entry points --------------------------------------------------------------------
    def deliver(self, event: DomainEvent, now: datetime, *, only_channel: Channel | None = None) -> Outcome:
        try:
            kind = NotificationKind(event.type)
        except ValueError:
            return Outcome(None, "skipped", "not_a_notification")
        merchant = merchants.get(event.merchant_id)
        settings = settings_of(merchant.settings)
        member = self._member(event)
        if member is None:
            return Outcome(None, "skipped", "no_member")
        program = programs.get(event.merchant_id).program
        zone = member.timezone or program.timezone
        consents = consents_of(member)
        channels = [only_channel] if only_channel else settings.channels_for(kind)
        outcome = Outcome(None, "skipped", "no_channel")
        first_skip: Outcome | None = None
        for channel in channels:
            addresses = self._addresses(channel, member)
            decision = decide(
                kind,
                channel,
                consents={Channel(c): consents.get(c.value, False) for c in Channel},
                marketing_consent=consents["marketing"],
                has_address=bool(addresses),
                sent_marketing_today=self._sent_marketing(member, now, zone) if is_marketing(kind) else 0,
                daily_marketing_cap=settings.daily_marketing_cap,
                now_utc=now,
                timezone=zone,
                quiet_hours=settings.quiet_hours,
            )
            outcome = self._act(decision, kind, channel, event, member, addresses, settings, merchant.name, now, zone)
            if outcome.status != "skipped" or outcome.reason not in ("no_address", "no_consent"):
                break  # one channel per event: the first the member can receive
            first_skip = first_skip or outcome
        else:
            outcome = first_skip or outcome  # nothing went out: say why for the preferred channel
        self._log(event, kind, member, outcome, now)
        return outcome

    def deliver_deferred(self, now: datetime) -> dict[str, int]:
        """Send what quiet hours held back, now that its time has come."""
        sent = 0
        for waiting in notifications.deferred_due(now, DEFERRED_LOOKBACK_HOURS):
            event = DomainEvent.model_validate(waiting.event)
            outcome = self.deliver(event, now, only_channel=Channel(waiting.channel))
            sent += outcome.status == "sent"
            waiting.forget()
        return {"sent": sent}

    # ---- pieces --------------------------------------------------------------------------
    def _member(self, event: DomainEvent) -> Member | None:
        if event.member_id is None:
            return None
        try:
            member = members.get(event.merchant_id, event.member_id, consistent=False)
        except NotFound:
            return None
        return member if member.is_active else None

    def _addresses(self, channel: Channel, member: Member) -> list[str]:
        contact = member.contact
        if channel is Channel.SMS:
            return [self._cipher.decrypt(contact.phone_enc, context=member.ref)]
        if channel is Channel.EMAIL:
            return [self._cipher.decrypt(contact.email_enc, context=member.ref)] if contact.email_enc else []
        return [
            device.endpoint_arn for device in members.devices(member.merchant_id, member.member_id) if device.enabled
        ]

    @staticmethod
    def _local_day(now: datetime, zone: str) -> datetime:
        return now.astimezone(ZoneInfo(zone))

    def _sent_marketing(self, member: Member, now: datetime, zone: str) -> int:
        return notifications.marketing_sent(member.merchant_id, member.member_id, self._local_day(now, zone).date())

    def _act(
        self,
        decision: Decision,
        kind: NotificationKind,
        channel: Channel,
        event: DomainEvent,
        member: Member,
        addresses: list[str],
        settings: NotificationSettings,
        merchant_name: str,
        now: datetime,
        zone: str,
    ) -> Outcome:
        if decision.action is Action.SKIP:
            return Outcome(channel.value, "skipped", decision.reason.value if decision.reason else None)
        if decision.action is Action.DEFER and decision.until is not None:
            notifications.defer(event.event_id, event.model_dump(mode="json"), channel.value, decision.until)
            return Outcome(channel.value, "deferred", f"quiet hours until {isoformat(decision.until)}")
        if not notifications.claim_delivery(event.event_id, channel.value, event.type, now):
            return Outcome(channel.value, "duplicate")
        try:
            message_id = self._send(kind, channel, event, member, addresses, settings, merchant_name)
        except RecipientGone:
            notifications.release_claim(event.event_id, channel.value, now)
            # no device took the push (all disabled now): the next channel gets its turn
            return Outcome(channel.value, "skipped", "no_address" if channel is Channel.PUSH else "recipient_refused")
        except Exception:
            notifications.release_claim(event.event_id, channel.value, now)
            raise
        notifications.mark_sent(
            event.event_id, channel.value, kind.value, message_id, now, merchant_id=member.merchant_id
        )
        if is_marketing(kind):
            notifications.count_marketing(member.merchant_id, member.member_id, self._local_day(now, zone).date(), now)
        return Outcome(channel.value, "sent")

    def _send(
        self,
        kind: NotificationKind,
        channel: Channel,
        event: DomainEvent,
        member: Member,
        addresses: list[str],
        settings: NotificationSettings,
        merchant_name: str,
    ) -> str:
        program = programs.get(event.merchant_id).program
        titles = {level.name: level.title or level.name for level in program.tiers.levels} if program.tiers else {}
        template = template_for(kind, channel, member.language, merchant_templates(event.merchant_id))
        cashback = program.mode is Mode.CASHBACK
        values = values_for(event, merchant_name, member, self._cipher, titles, cashback=cashback)
        subject = render(template.subject, values) if template.subject else None
        body = render(template.body, values)
        sender = settings.sms_sender if channel is Channel.SMS else self._email_from
        message_ids = []
        for address in addresses:
            try:
                message_ids.append(
                    self._providers[channel].send(
                        Message(
                            to=address,
                            body=body,
                            subject=subject,
                            sender=sender,
                            marketing=is_marketing(kind),
                            reference=event.event_id,
                        )
                    )
                )
            except RecipientGone:
                if channel is not Channel.PUSH:
                    raise
                self._disable_device(member, address)
        if not message_ids:
            raise RecipientGone("no device accepted the push")
        return ",".join(message_ids)

    @staticmethod
    def _disable_device(member: Member, endpoint_arn: str) -> None:
        for device in members.devices(member.merchant_id, member.member_id):
            if device.endpoint_arn == endpoint_arn:
                members.disable_device(member.merchant_id, member.member_id, device.device_id)

    @staticmethod
    def _log(event: DomainEvent, kind: NotificationKind, member: Member, outcome: Outcome, now: datetime) -> None:
        if outcome.status == "duplicate":
            return
        notifications.log_delivery(
            member.merchant_id,
            member.member_id,
            LoggedDelivery(event.event_id, kind.value, outcome.channel, outcome.status, outcome.reason, now),
        )
