"""Campaigns: one message to a segment of a merchant's members, fanned out page by page through
a queue, with its progress counted as it goes.

Each page message reads one page of the merchant's members (an index query, never a scan), queues
a campaign notification for each member in the segment, and queues the next page. The message id
of each notification is the campaign and the member, so a redelivered page sends nothing twice.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from loyalty.api.common import Request
from loyalty.api.notifications import CampaignRequest, CampaignView, Segment
from loyalty.data.models import CampaignItem, MemberItem
from loyalty.errors import Conflict, NotFound
from loyalty.events import DomainEvent
from loyalty.platform.aws import client
from loyalty.services.ledger import request_hash

PAGE_SIZE = 200


class PageMessage(Request):
    merchant_id: str
    campaign_id: str
    page: int = 0
    cursor: dict[str, Any] | None = None


def _pk(merchant_id: str, campaign_id: str) -> str:
    return f"CAMPAIGN#{merchant_id}#{campaign_id}"


def view(item: CampaignItem) -> CampaignView:
    return CampaignView(
        campaign_id=item.campaign_id,
        status=item.status,
        targeted=int(item.targeted),
        queued=int(item.queued),
        created_at=item.created_at,
    )


def get_campaign(merchant_id: str, campaign_id: str) -> CampaignView:
    try:
        return view(CampaignItem.get(_pk(merchant_id, campaign_id), "C", consistent_read=True))
    except DoesNotExist as exc:
        raise NotFound("campaign not found", code="campaign_not_found") from exc


def start(
    merchant_id: str, request: CampaignRequest, now: datetime, campaign_queue_url: str
) -> tuple[CampaignView, bool]:
    digest = request_hash(request)
    item = CampaignItem(
        _pk(merchant_id, request.campaign_id),
        "C",
        campaign_id=request.campaign_id,
        merchant_id=merchant_id,
        request=request.model_dump(mode="json"),
        request_hash=digest,
        status="queued",
        created_at=now,
    )
    try:
        item.save(condition=CampaignItem.pk.does_not_exist())
    except PutError as exc:
        existing = CampaignItem.get(item.pk, "C", consistent_read=True)
        if existing.request_hash != digest:
            raise Conflict("this campaign id was used for another campaign", code="idempotency_conflict") from exc
        return view(existing), True
    client("sqs").send_message(
        QueueUrl=campaign_queue_url,
        MessageBody=PageMessage(merchant_id=merchant_id, campaign_id=request.campaign_id).model_dump_json(),
    )
    return view(item), False


def in_segment(member: MemberItem, segment: Segment, today: date) -> bool:
    if member.status != "active":
        return False
    if segment.tier is not None and member.tier != segment.tier:
        return False
    if segment.inactive_days is not None:
        cutoff = today - timedelta(days=segment.inactive_days)
        if member.last_purchase_at is not None and member.last_purchase_at.date() > cutoff:
            return False
    return not (
        segment.birthday_month is not None
        and (not member.birthday or int(member.birthday[5:7]) != segment.birthday_month)
    )


def run_page(message: PageMessage, now: datetime, notify_queue_url: str, campaign_queue_url: str) -> int:
    """One page of the fan-out; returns how many notifications it queued."""
    item = CampaignItem.get(_pk(message.merchant_id, message.campaign_id), "C", consistent_read=True)
    request = CampaignRequest.model_validate(item.request)
    page = MemberItem.by_merchant.query(message.merchant_id, limit=PAGE_SIZE, last_evaluated_key=message.cursor)
    members = list(page)
    chosen = [member for member in members if in_segment(member, request.segment, now.date())]
    events = [
        DomainEvent(
            event_id=f"campaign:{request.campaign_id}:{member.member_id}",
            type="campaign",
            merchant_id=message.merchant_id,
            member_id=member.member_id,
            occurred_at=now,
            data={"text": request.text},
        )
        for member in chosen
    ]
    sqs = client("sqs")
    for start_at in range(0, len(events), 10):
        batch = events[start_at : start_at + 10]
        sqs.send_message_batch(
            QueueUrl=notify_queue_url,
            Entries=[
                {"Id": str(n), "MessageBody": json.dumps(event.model_dump(mode="json"), ensure_ascii=False)}
                for n, event in enumerate(batch)
            ],
        )
    next_cursor = page.last_evaluated_key
    try:  # count each page once, even when its message is delivered again
        item.update(
            condition=CampaignItem.pages == message.page,
            actions=[
                CampaignItem.targeted.add(len(members)),
                CampaignItem.queued.add(len(events)),
                CampaignItem.pages.add(1),
                CampaignItem.status.set("running" if next_cursor else "done"),
                CampaignItem.updated_at.set(now),
            ],
        )
    except UpdateError:
        return 0  # this page was done before; so was queueing the next one
    if next_cursor:
        sqs.send_message(
            QueueUrl=campaign_queue_url,
            MessageBody=PageMessage(
                merchant_id=message.merchant_id,
                campaign_id=message.campaign_id,
                page=message.page + 1,
                cursor=next_cursor,
            ).model_dump_json(),
        )
    return len(events)
