"""Notifications on the local stack: a purchase's SMS in the dev inbox, none after an opt-out,
none twice, and one held back by quiet hours until the member's morning (travelling in time)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.support.local_stack import RunningStack, Shop, running_stack, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-notify")]


@pytest.fixture(scope="module")
def local() -> Iterator[RunningStack]:
    with running_stack() as stack:
        yield stack


def zone_where_it_is(hour: int) -> str:
    """An IANA zone (fixed offset) where the local hour is ``hour`` right now."""
    offset = (hour - datetime.now(UTC).hour) % 24
    if offset > 14:
        offset -= 24
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"


def inbox(local: RunningStack, phone: str, kind: str = "points_earned") -> list[dict[str, Any]]:
    reply = requests.get(f"{local.api}/_local/inbox", params={"channel": "sms", "to": phone}, timeout=10)
    return [message for message in reply.json()["messages"] if message["kind"] == kind]


def test_one_sms_per_purchase_none_after_opt_out_none_twice(local: RunningStack) -> None:
    shop = Shop(local, "Пекарня")
    anna = shop.call("POST", "/v1/members", {"phone": "+79161230001", "name": "Анна", "timezone": zone_where_it_is(12)})
    boris = shop.call("POST", "/v1/members", {"phone": "+79161230002", "timezone": zone_where_it_is(12)})
    shop.call("POST", "/v1/opt-outs", {"phone": "+79161230002", "channel": "sms"})
    for number, member in enumerate((anna, boris)):
        shop.call(
            "POST",
            "/v1/purchases",
            {"transaction_id": f"p-{number}", "member_id": member["member_id"], "amount_kopecks": 150_000},
        )
    [message] = wait_for(lambda: inbox(local, "+79161230001"), timeout=30)
    assert message["text"] == "Пекарня: +15 баллов. Баланс 15 баллов"
    assert message["kind"] == "points_earned"

    # the same event delivered again changes nothing
    entry = shop.call("GET", f"/v1/members/{anna['member_id']}/transactions")["entries"][0]
    event = {
        "event_id": entry["entry_id"],
        "type": "points_earned",
        "merchant_id": shop.merchant_id,
        "member_id": anna["member_id"],
        "occurred_at": entry["created_at"],
        "data": {"points": 15, "balance": 15},
    }
    sqs = local.aws_client("sqs")
    sqs.send_message(QueueUrl=local.queue_url("notify"), MessageBody=json.dumps({"detail": event}))

    def drained() -> bool:
        counts = sqs.get_queue_attributes(
            QueueUrl=local.queue_url("notify"),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return counts["ApproximateNumberOfMessages"] == counts["ApproximateNumberOfMessagesNotVisible"] == "0"

    wait_for(drained, timeout=15)
    log = shop.call("GET", f"/v1/members/{boris['member_id']}/notifications")["deliveries"]
    assert [(d["kind"], d["status"], d["reason"]) for d in log] == [
        ("points_earned", "skipped", "no_consent"),
        ("welcome", "skipped", "no_consent"),
    ]
    assert len(inbox(local, "+79161230001")) == 1
    assert inbox(local, "+79161230002") == []


def test_an_evening_purchase_is_announced_at_the_end_of_quiet_hours(local: RunningStack) -> None:
    shop = Shop(local, "Салон")
    zone = zone_where_it_is(23)
    member = shop.call("POST", "/v1/members", {"phone": "+79161230003", "timezone": zone})
    shop.call(
        "POST", "/v1/purchases", {"transaction_id": "late", "member_id": member["member_id"], "amount_kopecks": 200_000}
    )
    deferred = wait_for(
        lambda: [
            d
            for d in shop.call("GET", f"/v1/members/{member['member_id']}/notifications")["deliveries"]
            if d["kind"] == "points_earned"
        ]
    )
    assert deferred[0]["status"] == "deferred"
    assert inbox(local, "+79161230003") == []
    offset_hours = int(zone.removeprefix("Etc/GMT") or 0) * -1
    now = datetime.now(UTC)
    local_now = now + timedelta(hours=offset_hours)
    morning_local = (local_now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    if local_now.hour < 9:
        morning_local -= timedelta(days=1)
    morning_utc = (morning_local - timedelta(hours=offset_hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
    early = (datetime.fromisoformat(morning_utc.replace("Z", "+00:00")) - timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    # the job sends whatever else on this stack was deferred (the demo shop's members, other tests'),
    # so look at this member's own deliveries
    shop.call("POST", f"/_local/jobs/notify-deferred?now={early}")
    assert inbox(local, "+79161230003") == []
    # the welcome SMS of the evening's enrollment waited too (the job also sends what other tests
    # on this stack deferred to the same morning, so count this member's deliveries instead)
    assert shop.call("POST", f"/_local/jobs/notify-deferred?now={morning_utc}")["result"]["sent"] >= 2
    log = shop.call("GET", f"/v1/members/{member['member_id']}/notifications")["deliveries"]
    assert sorted((d["kind"], d["status"]) for d in log) == [
        ("points_earned", "deferred"),
        ("points_earned", "sent"),
        ("welcome", "deferred"),
        ("welcome", "sent"),
    ]
    [message] = inbox(local, "+79161230003")
    assert message["text"] == "Салон: +20 баллов. Баланс 20 баллов"


def test_members_are_warned_before_their_points_expire(local: RunningStack) -> None:
    from loyalty.clock import add_months, end_of_month

    shop = Shop(local, "Чайная")
    program = shop.call("GET", "/v1/program")["program"]
    shop.call("PUT", "/v1/program", {"program": {**program, "expiry_months": 1, "expiry_warning_days": 7}})
    member = shop.call("POST", "/v1/members", {"phone": "+79161230009", "timezone": zone_where_it_is(12)})
    shop.call(
        "POST", "/v1/purchases", {"transaction_id": "w-1", "member_id": member["member_id"], "amount_kopecks": 250_000}
    )
    expires_on = end_of_month(add_months(datetime.now(UTC).date(), 1))
    warn_day = expires_on - timedelta(days=7)
    result = shop.job("expire", f"{warn_day.isoformat()}T09:00:00Z")["result"]
    assert result["warning_runs"] == 16  # a run per shard of the month end, through the expiry queue
    [warning] = wait_for(lambda: inbox(local, "+79161230009", kind="points_expiring"), timeout=60)
    assert warning["text"] == f"Чайная: {expires_on:%d.%m.%Y} сгорит 25 баллов. Успейте потратить"
    assert shop.job("expire", f"{warn_day.isoformat()}T10:00:00Z")["result"]["warning_runs"] == 16  # again
    wait_for(
        lambda: (
            local.aws_client("sqs").get_queue_attributes(
                QueueUrl=local.queue_url("expiry-runs.fifo"),
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
        ),
        timeout=60,
    )
    time.sleep(3)  # what the second run published has been through the bus and the worker by now
    assert len(inbox(local, "+79161230009", kind="points_expiring")) == 1  # the member is warned once


def test_the_local_stack_expires_points_through_the_expiry_queue(local: RunningStack) -> None:
    """The schedule only fans out (a message per shard of every month end due); the stack's poller
    feeds the expiry queue to its worker, as Lambda's event source mapping would."""
    shop = Shop(local, "Пекарня у дома")
    member = shop.call("POST", "/v1/members", {"phone": "+79161230011"})
    shop.call(
        "POST", "/v1/purchases", {"transaction_id": "x-1", "member_id": member["member_id"], "amount_kopecks": 120_000}
    )
    a_year_on = datetime.now(UTC) + timedelta(days=400)
    result = shop.job("expire", a_year_on.strftime("%Y-%m-%dT%H:%M:%SZ"))["result"]
    assert result["queued"] == 3 * 16
    wait_for(lambda: shop.member(member["member_id"])["balance"] == 0, timeout=90)
    history = shop.call("GET", f"/v1/members/{member['member_id']}/transactions")["entries"]
    assert [entry["points"] for entry in history if entry["kind"] == "expire"] == [-12]
