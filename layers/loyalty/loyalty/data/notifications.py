"""The notifications table: what makes a delivery happen once, the delivery log, messages waiting
for quiet hours to end, the daily marketing counters, and campaigns.

Keys:
- delivery claim  pk ``DELIVERY#<event id>#<channel>``          sk ``D``
- delivery log    pk ``DLOG#<merchant>#<member>``                sk ``<time>#<event id>#<channel>``
- deferred        pk ``DEFER#<hour due>``                         sk ``<due time>#<event id>#<channel>``
- marketing cap   pk ``CAP#<merchant>#<member>#<local date>``     sk ``C``
- campaign        pk ``CAMPAIGN#<merchant>#<campaign id>``        sk ``C``
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from loyalty.clock import isoformat
from loyalty.data.base import Item, stream_records, table_base
from loyalty.data.members import member_key
from loyalty.data.transaction import Transaction

KEEP_DAYS = 90


@table_base
class _NotificationsTable(Item):
    table_env = "notifications_table"

    class Meta:
        table_name = "unbound"


class DeliveryItem(_NotificationsTable):
    status = UnicodeAttribute()  # sending, sent, failed
    message_id = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    merchant_id = UnicodeAttribute(null=True)  # set when sent: the KPI report counts messages per merchant
    channel = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    expires_at = NumberAttribute(null=True)  # TTL: cleanup only


class DeliveryLogItem(_NotificationsTable):
    event_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    channel = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # sent, deferred, skipped, failed
    reason = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    expires_at = NumberAttribute(null=True)


class DeferredItem(_NotificationsTable):
    event = JSONAttribute()
    channel = UnicodeAttribute()
    due_at = UTCDateTimeAttribute()


class CapItem(_NotificationsTable):
    sent = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


class CampaignItem(_NotificationsTable):
    campaign_id = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    request = JSONAttribute()
    status = UnicodeAttribute(default="queued")  # queued, running, done
    request_hash = UnicodeAttribute()
    targeted = NumberAttribute(default=0)
    queued = NumberAttribute(default=0)
    pages = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)


def _ttl(now: datetime) -> int:
    return int((now + timedelta(days=KEEP_DAYS)).timestamp())


# ---- once per event and channel --------------------------------------------------------------
def _delivery_pk(event_id: str, channel: str) -> str:
    return f"DELIVERY#{event_id}#{channel}"


def claim_delivery(event_id: str, channel: str, kind: str, now: datetime) -> bool:
    """Claim the right to send this event on this channel; False when it was sent (or is being
    sent) before. A failed attempt can be claimed again."""
    claim = DeliveryItem(
        _delivery_pk(event_id, channel), "D", status="sending", updated_at=now, kind=kind, expires_at=_ttl(now)
    )
    try:
        claim.save(condition=DeliveryItem.pk.does_not_exist() | (DeliveryItem.status == "failed"))
    except PutError:
        return False
    return True


def mark_sent(event_id: str, channel: str, kind: str, message_id: str, now: datetime, *, merchant_id: str) -> None:
    DeliveryItem(
        _delivery_pk(event_id, channel),
        "D",
        status="sent",
        message_id=message_id,
        kind=kind,
        merchant_id=merchant_id,
        channel=channel,
        updated_at=now,
        expires_at=_ttl(now),
    ).save()


@dataclass(frozen=True)
class SentMessage:
    """A message that went out (what the table's stream says): once per event and channel."""

    delivery: str  # the delivery's key: the same for every record of the same send
    merchant_id: str
    channel: str
    sent_at: datetime


def sent_from_stream(event: Mapping[str, Any]) -> list[SentMessage]:
    """The messages a batch of the table's stream (NEW_IMAGE) marks as sent."""
    sent = []
    for record in stream_records(event, _NotificationsTable):
        image = record.get("dynamodb", {}).get("NewImage")
        if not image or not str(image["pk"]["S"]).startswith("DELIVERY#"):
            continue
        item = DeliveryItem.from_raw_data(image)
        if item.status == "sent" and item.merchant_id and item.channel:
            sent.append(SentMessage(str(item.pk), item.merchant_id, item.channel, item.updated_at))
    return sent


def release_claim(event_id: str, channel: str, now: datetime) -> None:
    """The send failed: let a retry claim it again. If even this fails the claim stays "sending"
    and a retry skips the channel: a lost message is preferred to a duplicate one."""
    try:
        DeliveryItem(_delivery_pk(event_id, channel), "D").update(
            actions=[DeliveryItem.status.set("failed"), DeliveryItem.updated_at.set(now)]
        )
    except UpdateError:
        return


# ---- the delivery log --------------------------------------------------------------------------
@dataclass(frozen=True)
class LoggedDelivery:
    event_id: str
    kind: str
    channel: str | None
    status: str
    reason: str | None
    at: datetime


def log_delivery(merchant_id: str, member_id: str, entry: LoggedDelivery) -> None:
    """What was sent, deferred or skipped, and why. No message text and no address: the log is
    for support, not for personal data."""
    DeliveryLogItem(
        f"DLOG#{merchant_id}#{member_id}",
        f"{isoformat(entry.at)}#{entry.event_id}#{entry.channel or '-'}",
        event_id=entry.event_id,
        kind=entry.kind,
        channel=entry.channel,
        status=entry.status,
        reason=entry.reason,
        created_at=entry.at,
        expires_at=_ttl(entry.at),
    ).save()


def deliveries(merchant_id: str, member_id: str, limit: int) -> list[LoggedDelivery]:
    items = DeliveryLogItem.query(f"DLOG#{merchant_id}#{member_id}", scan_index_forward=False, limit=limit)
    return [LoggedDelivery(i.event_id, i.kind, i.channel, i.status, i.reason, i.created_at) for i in items]


# ---- quiet hours -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Deferred:
    event: Mapping[str, Any]
    channel: str
    due_at: datetime
    _item: DeferredItem | None = None

    def forget(self) -> None:
        if self._item is not None:
            self._item.delete()


def defer(event_id: str, event: Mapping[str, Any], channel: str, due: datetime) -> None:
    DeferredItem(
        f"DEFER#{due:%Y-%m-%dT%H}",
        f"{isoformat(due)}#{event_id}#{channel}",
        event=dict(event),
        channel=channel,
        due_at=due,
    ).save()


def deferred_due(now: datetime, lookback_hours: int) -> Iterator[Deferred]:
    for back in range(lookback_hours, -1, -1):
        hour = (now - timedelta(hours=back)).strftime("%Y-%m-%dT%H")
        for item in DeferredItem.query(f"DEFER#{hour}", DeferredItem.sk <= f"{isoformat(now)}~"):
            yield Deferred(dict(item.event), item.channel, item.due_at, item)


# ---- the daily marketing cap -------------------------------------------------------------------
def _cap_pk(merchant_id: str, member_id: str, local_day: date) -> str:
    return f"CAP#{member_key(merchant_id, member_id)}#{local_day.isoformat()}"


def marketing_sent(merchant_id: str, member_id: str, local_day: date) -> int:
    try:
        return int(CapItem.get(_cap_pk(merchant_id, member_id, local_day), "C").sent)
    except DoesNotExist:
        return 0


def count_marketing(merchant_id: str, member_id: str, local_day: date, now: datetime) -> None:
    CapItem(_cap_pk(merchant_id, member_id, local_day), "C").update(
        actions=[CapItem.sent.add(1), CapItem.expires_at.set(_ttl(now))]
    )


# ---- campaigns ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Campaign:
    merchant_id: str
    campaign_id: str
    request: Mapping[str, Any]
    request_hash: str
    created_at: datetime
    status: str = "queued"
    targeted: int = 0
    queued: int = 0
    pages: int = 0


def _campaign_pk(merchant_id: str, campaign_id: str) -> str:
    return f"CAMPAIGN#{merchant_id}#{campaign_id}"


def create_campaign(campaign: Campaign) -> None:
    """``AlreadyExists("campaign")`` when the id was used."""
    tx = Transaction()
    tx.create(
        CampaignItem(
            _campaign_pk(campaign.merchant_id, campaign.campaign_id),
            "C",
            campaign_id=campaign.campaign_id,
            merchant_id=campaign.merchant_id,
            request=dict(campaign.request),
            request_hash=campaign.request_hash,
            status=campaign.status,
            created_at=campaign.created_at,
        ),
        name="campaign",
    )
    tx.commit()


def get_campaign(merchant_id: str, campaign_id: str) -> Campaign | None:
    try:
        item = CampaignItem.get(_campaign_pk(merchant_id, campaign_id), "C", consistent_read=True)
    except DoesNotExist:
        return None
    return Campaign(
        item.merchant_id,
        item.campaign_id,
        dict(item.request),
        item.request_hash,
        item.created_at,
        item.status,
        int(item.targeted),
        int(item.queued),
        int(item.pages),
    )


def count_campaign_page(
    merchant_id: str, campaign_id: str, page: int, *, targeted: int, queued: int, done: bool, now: datetime
) -> bool:
    """Count a page once (its message may come twice): False when page ``page`` was counted."""
    try:
        CampaignItem(_campaign_pk(merchant_id, campaign_id), "C").update(
            condition=CampaignItem.pages == page,
            actions=[
                CampaignItem.targeted.add(targeted),
                CampaignItem.queued.add(queued),
                CampaignItem.pages.add(1),
                CampaignItem.status.set("done" if done else "running"),
                CampaignItem.updated_at.set(now),
            ],
        )
    except UpdateError:
        return False
    return True
