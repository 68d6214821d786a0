"""Delivering a domain event to a member: pick the channel, honour consent, quiet hours and the
marketing cap, render the merchant's template in the member's language, send once, log it.

Once per event and channel: a delivery record is claimed with a conditional write before the
provider is called and marked sent after; a redelivered event finds it and sends nothing. A
failed send releases the claim and raises, so the queue retries it and, in the end, dead-letters
it with its reason. Messages that fall in quiet hours wait in a dated queue for the deferred job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from loyalty.clock import isoformat
from loyalty.data.models import (
    CapItem,
    DeferredItem,
    DeliveryItem,
    DeliveryLogItem,
    DeviceItem,
    MemberItem,
    TemplateItem,
    as_plain_map,
)
from loyalty.errors import NotFound
from loyalty.events import DomainEvent
from loyalty.notifications.kinds import Channel, NotificationKind, is_marketing
from loyalty.notifications.plural import points_word
from loyalty.notifications.providers import Message, Provider, RecipientGone
from loyalty.notifications.rules import Action, Decision, decide
from loyalty.notifications.settings import NotificationSettings
from loyalty.notifications.templates import Template, TemplateKey, render, template_for
from loyalty.pii.cipher import PiiCipher
from loyalty.services.members import get_member
from loyalty.services.merchants import get_merchant, programs

KEEP_DAYS = 90
DEFERRED_LOOKBACK_HOURS = 36
DEFAULT_CONSENTS = {"sms": True, "push": True, "email": True, "marketing": False}


@dataclass(frozen=True)
class Outcome:
    channel: str | None
    status: str  # sent, deferred, skipped, duplicate
    reason: str | None = None


def _ttl(now: datetime) -> int:
    return int((now + timedelta(days=KEEP_DAYS)).timestamp())


def settings_of(merchant_settings: Mapping[str, Any] | None) -> NotificationSettings:
    return NotificationSettings.model_validate((merchant_settings or {}).get("notifications", {}))


def consents_of(member: MemberItem) -> dict[str, bool]:
    return {**DEFAULT_CONSENTS, **{k: bool(v) for k, v in as_plain_map(member.consents).items()}}


def merchant_templates(merchant_id: str) -> dict[TemplateKey, Template]:
    items = TemplateItem.query(merchant_id, TemplateItem.sk.startswith("TEMPLATE#"))
    return {
        (NotificationKind(item.kind), Channel(item.channel), item.language): Template(item.subject, item.body)
        for item in items
    }


def _format_day(value: str, language: str) -> str:
    year, month, day = value.split("-")
    return f"{day}.{month}.{year}" if language == "ru" else f"{day}/{month}/{year}"


def values_for(
    event: DomainEvent, merchant_name: str, member: MemberItem | None, cipher: PiiCipher, tier_titles: Mapping[str, str]
) -> dict[str, object]:
    language = member.language if member is not None else "ru"
    data = event.data
    values: dict[str, object] = {"merchant": merchant_name, **{k: v for k, v in data.items() if v is not None}}
    if member is not None:
        values["name"] = cipher.decrypt(member.name_enc, context=str(member.pk)) if member.name_enc else ""
        values["card_number"] = member.card_number
    for amount in ("points", "balance", "bonus_points"):
        if amount in values:
            values[f"{amount}_word"] = points_word(int(str(values[amount])), language)
    if event.type in ("welcome", "birthday"):
        values["bonus_points"] = data.get("points", 0)
        values["bonus_points_word"] = points_word(int(data.get("points", 0)), language)
    if "reward_name" in data:
        values["reward"] = data["reward_name"]
    if "coupon" in data:
        values["code"] = data["coupon"]
    if "expires_on" in data:
        values["expires_on"] = _format_day(str(data["expires_on"]), language)
    for tier in ("old_tier", "new_tier"):
        if tier in data and data[tier] is not None:
            values[tier] = tier_titles.get(str(data[tier]), str(data[tier]))
    return values


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
        merchant = get_merchant(event.merchant_id)
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
        for back in range(DEFERRED_LOOKBACK_HOURS, -1, -1):
            hour = (now - timedelta(hours=back)).strftime("%Y-%m-%dT%H")
            for item in DeferredItem.query(f"DEFER#{hour}", DeferredItem.sk <= f"{isoformat(now)}~"):
                event = DomainEvent.model_validate(item.event)
                outcome = self.deliver(event, now, only_channel=Channel(item.channel))
                sent += outcome.status == "sent"
                item.delete()
        return {"sent": sent}

    # ---- pieces --------------------------------------------------------------------------
    def _member(self, event: DomainEvent) -> MemberItem | None:
        if event.member_id is None:
            return None
        try:
            member = get_member(event.merchant_id, event.member_id, consistent=False)
        except NotFound:
            return None
        return member if member.status == "active" else None

    def _addresses(self, channel: Channel, member: MemberItem) -> list[str]:
        key = str(member.pk)
        if channel is Channel.SMS:
            return [self._cipher.decrypt(member.phone_enc, context=key)]
        if channel is Channel.EMAIL:
            return [self._cipher.decrypt(member.email_enc, context=key)] if member.email_enc else []
        devices = DeviceItem.query(key, DeviceItem.sk.startswith("DEVICE#"))
        return [device.endpoint_arn for device in devices if device.enabled]

    def _sent_marketing(self, member: MemberItem, now: datetime, zone: str) -> int:
        try:
            return int(CapItem.get(self._cap_key(member, now, zone), "C").sent)
        except DoesNotExist:
            return 0

    @staticmethod
    def _cap_key(member: MemberItem, now: datetime, zone: str) -> str:
        from zoneinfo import ZoneInfo

        return f"CAP#{member.pk}#{now.astimezone(ZoneInfo(zone)).date().isoformat()}"

    def _act(
        self,
        decision: Decision,
        kind: NotificationKind,
        channel: Channel,
        event: DomainEvent,
        member: MemberItem,
        addresses: list[str],
        settings: NotificationSettings,
        merchant_name: str,
        now: datetime,
        zone: str,
    ) -> Outcome:
        if decision.action is Action.SKIP:
            return Outcome(channel.value, "skipped", decision.reason.value if decision.reason else None)
        if decision.action is Action.DEFER and decision.until is not None:
            due = decision.until
            DeferredItem(
                f"DEFER#{due.strftime('%Y-%m-%dT%H')}",
                f"{isoformat(due)}#{event.event_id}#{channel.value}",
                event=event.model_dump(mode="json"),
                channel=channel.value,
                due_at=due,
            ).save()
            return Outcome(channel.value, "deferred", f"quiet hours until {isoformat(due)}")
        if not self._claim(event, channel, now):
            return Outcome(channel.value, "duplicate")
        try:
            message_id = self._send(kind, channel, event, member, addresses, settings, merchant_name)
        except RecipientGone:
            self._release(event, channel, now)
            # no device took the push (all disabled now): the next channel gets its turn
            return Outcome(channel.value, "skipped", "no_address" if channel is Channel.PUSH else "recipient_refused")
        except Exception:
            self._release(event, channel, now)
            raise
        DeliveryItem(
            f"DELIVERY#{event.event_id}#{channel.value}",
            "D",
            status="sent",
            message_id=message_id,
            kind=kind.value,
            updated_at=now,
            expires_at=_ttl(now),
        ).save()
        if is_marketing(kind):
            CapItem(self._cap_key(member, now, zone), "C").update(
                actions=[CapItem.sent.add(1), CapItem.expires_at.set(_ttl(now))]
            )
        return Outcome(channel.value, "sent")

    def _send(
        self,
        kind: NotificationKind,
        channel: Channel,
        event: DomainEvent,
        member: MemberItem,
        addresses: list[str],
        settings: NotificationSettings,
        merchant_name: str,
    ) -> str:
        program = programs.get(event.merchant_id).program
        titles = {level.name: level.title or level.name for level in program.tiers.levels} if program.tiers else {}
        template = template_for(kind, channel, member.language, merchant_templates(event.merchant_id))
        values = values_for(event, merchant_name, member, self._cipher, titles)
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

    def _disable_device(self, member: MemberItem, endpoint_arn: str) -> None:
        for device in DeviceItem.query(str(member.pk), DeviceItem.sk.startswith("DEVICE#")):
            if device.endpoint_arn == endpoint_arn:
                device.update(actions=[DeviceItem.enabled.set(False)])

    def _claim(self, event: DomainEvent, channel: Channel, now: datetime) -> bool:
        claim = DeliveryItem(
            f"DELIVERY#{event.event_id}#{channel.value}",
            "D",
            status="sending",
            updated_at=now,
            kind=event.type,
            expires_at=_ttl(now),
        )
        try:
            claim.save(condition=DeliveryItem.pk.does_not_exist() | (DeliveryItem.status == "failed"))
        except PutError:
            return False
        return True

    def _release(self, event: DomainEvent, channel: Channel, now: datetime) -> None:
        # If even this fails, the claim stays "sending" and a retry skips the channel: we prefer a
        # lost message to a duplicate one.
        with contextlib.suppress(UpdateError):
            DeliveryItem(f"DELIVERY#{event.event_id}#{channel.value}", "D").update(
                actions=[DeliveryItem.status.set("failed"), DeliveryItem.updated_at.set(now)]
            )

    def _log(
        self, event: DomainEvent, kind: NotificationKind, member: MemberItem, outcome: Outcome, now: datetime
    ) -> None:
        if outcome.status == "duplicate":
            return
        DeliveryLogItem(
            f"DLOG#{member.merchant_id}#{member.member_id}",
            f"{isoformat(now)}#{event.event_id}#{outcome.channel or '-'}",
            event_id=event.event_id,
            kind=kind.value,
            channel=outcome.channel,
            status=outcome.status,
            reason=outcome.reason,
            created_at=now,
            expires_at=_ttl(now),
        ).save()
