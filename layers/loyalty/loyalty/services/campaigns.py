"""Campaigns: one message to a segment of a merchant's members, fanned out page by page through
a queue, with its progress counted as it goes.

Each page message reads one page of the merchant's members (an index query, never a scan), queues
a campaign notification for each member in the segment, and queues the next page. The message id
of each notification is the campaign and the member, so a redelivered page sends nothing twice.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from loyalty.api.common import Request
from loyalty.api.notifications import CampaignRequest, CampaignView, Segment
from loyalty.data import members, notifications
from loyalty.data.members import MemberSummary
from loyalty.data.notifications import Campaign
from loyalty.data.transaction import AlreadyExists
from loyalty.errors import NotFound
from loyalty.events import DomainEvent
from loyalty.platform.aws import client
from loyalty.services.idempotency import ClientRequest, ensure_same_request

PAGE_SIZE = 200


class PageMessage(Request):
    merchant_id: str
    campaign_id: str
    page: int = 0
    cursor: str | None = None


def view(campaign: Campaign) -> CampaignView:
    return CampaignView(
        campaign_id=campaign.campaign_id,
        status=campaign.status,
        targeted=campaign.targeted,
        queued=campaign.queued,
        created_at=campaign.created_at,
    )


def get_campaign(merchant_id: str, campaign_id: str) -> CampaignView:
    campaign = notifications.get_campaign(merchant_id, campaign_id)
    if campaign is None:
        raise NotFound("campaign not found", code="campaign_not_found")
    return view(campaign)


def start(
    merchant_id: str, request: CampaignRequest, now: datetime, campaign_queue_url: str
) -> tuple[CampaignView, bool]:
    client_request = ClientRequest.of(request, merchant_id, "campaign", request.campaign_id)
    campaign = Campaign(merchant_id, request.campaign_id, request.model_dump(mode="json"), client_request.digest, now)
    try:
        notifications.create_campaign(campaign)
    except AlreadyExists:
        existing = notifications.get_campaign(merchant_id, request.campaign_id)
        if existing is None:
            raise
        ensure_same_request(client_request, existing.request_hash)
        return view(existing), True  # its progress now
    client("sqs").send_message(
        QueueUrl=campaign_queue_url,
        MessageBody=PageMessage(merchant_id=merchant_id, campaign_id=request.campaign_id).model_dump_json(),
    )
    return view(campaign), False


def in_segment(member: MemberSummary, segment: Segment, today: date) -> bool:
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
        and (member.birthday is None or member.birthday.month != segment.birthday_month)
    )


def run_page(message: PageMessage, now: datetime, notify_queue_url: str, campaign_queue_url: str) -> int:
    """One page of the fan-out; returns how many notifications it queued."""
    campaign = notifications.get_campaign(message.merchant_id, message.campaign_id)
    if campaign is None:
        raise NotFound("campaign not found", code="campaign_not_found")
    request = CampaignRequest.model_validate(campaign.request, strict=False)
    page, next_cursor = members.page(message.merchant_id, limit=PAGE_SIZE, cursor=message.cursor)
    chosen = [member for member in page if in_segment(member, request.segment, now.date())]
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
    counted = notifications.count_campaign_page(
        message.merchant_id,
        message.campaign_id,
        message.page,
        targeted=len(page),
        queued=len(events),
        done=next_cursor is None,
        now=now,
    )
    if not counted:
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
