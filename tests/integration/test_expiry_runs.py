"""The expiry job through the expiry queue (issue 15, goal 7): the schedule fans out one message per
shard of every month end due; each message expires a bounded page of its shard and queues the rest;
a message received twice, or failing half way, expires no member twice; a poison message goes to
the dead-letter queue with its reason. The warnings before a month end go through the same queue,
a bounded page of a shard per message, each member warned once."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from loyalty.clock import utcnow

from infra.local.invoke import FakeLambdaContext, scheduled_event
from infra.local.provision import REGION, Stack
from tests.integration.conftest import earn, new_phone
from tests.support.api import GatewayClient
from tests.support.expiry import drain, run_expiry_job

if TYPE_CHECKING:
    from loyalty.services.expiry import ShardOutcome, ShardRun

MEMBERS = 33  # over 16 shards: some shard holds three at least, more than a batch of two
BATCH = 2


@pytest.fixture
def a_year_on() -> datetime:
    """A day when every point earned today has expired and no warning horizon (3, 7, 14, 30 days)
    lands on a month end, so the schedule queues expiry runs only."""
    return (utcnow() + timedelta(days=400)).replace(day=10)


def enroll_earners(members_api: GatewayClient, accrue_api: GatewayClient, count: int) -> list[dict[str, Any]]:
    """Members with 10 points each, all expiring at the same month end."""
    enrolled = []
    for _ in range(count):
        reply = members_api.post("/v1/members", body={"phone": new_phone()})
        assert reply.status == 201, reply.body
        earn(accrue_api, reply.body, 10)
        enrolled.append(dict(reply.body))
    return enrolled


def shard_of(merchant_id: str, member: dict[str, Any]) -> int:
    from loyalty.data.members import member_key, shard_of
    from loyalty.data.operations import EXPIRY_SHARDS

    return shard_of(member_key(merchant_id, member["member_id"]), EXPIRY_SHARDS)


def expire_entries_per_member() -> Counter[str]:
    items = boto3.resource("dynamodb", region_name=REGION).Table("ledger").scan()["Items"]  # a test may scan
    return Counter(str(item["member_id"]) for item in items if item.get("kind") == "expire")


def balances(members_api: GatewayClient, members: list[dict[str, Any]]) -> set[int]:
    """The balances the API shows for these members."""
    return {
        members_api.get("/v1/members/{member_id}", path_params={"member_id": member["member_id"]}).body["balance"]
        for member in members
    }


def assert_each_expired_once(members_api: GatewayClient, members: list[dict[str, Any]]) -> None:
    """One expire entry per member in the ledger, and nothing left on any balance."""
    assert expire_entries_per_member() == Counter({member["member_id"]: 1 for member in members})
    assert balances(members_api, members) == {0}


def watch_runs(monkeypatch: pytest.MonkeyPatch, name: str) -> list[tuple[ShardRun, ShardOutcome]]:
    """Each run the expiry queue's worker hands to ``expiry.<name>`` (``expire_shard`` or
    ``warn_shard``), with its outcome, in order."""
    from loyalty.services import expiry

    seen: list[tuple[ShardRun, ShardOutcome]] = []
    real = getattr(expiry, name)

    def watched(run: ShardRun, *args: Any, **kwargs: Any) -> ShardOutcome:
        outcome = real(run, *args, **kwargs)
        seen.append((run, outcome))
        return outcome

    monkeypatch.setattr(f"loyalty.services.expiry_runs.{name}", watched)
    return seen


def visible_messages(stack: Stack, queue: str) -> int:
    attributes = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=stack.queue_url(queue), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def test_the_schedule_fans_out_one_run_per_shard_of_every_month_end_due(stack: Stack, a_year_on: datetime) -> None:
    from loyalty.data.operations import EXPIRY_SHARDS
    from loyalty.services.expiry import due_dates

    from functions.expire.app import CONFIG, handle

    event = scheduled_event("expire", a_year_on, REGION)
    answer = handle(event, FakeLambdaContext("expire", 900, REGION))
    due = due_dates(a_year_on.date(), CONFIG.expiry_lookback_months)
    assert answer["queued"] == len(due) * EXPIRY_SHARDS == 3 * 16
    handle(event, FakeLambdaContext("expire", 900, REGION))  # EventBridge delivered the schedule twice
    assert visible_messages(stack, "ExpiryQueue") == 48  # the second fan-out was deduplicated
    runs = drain(stack).runs
    assert sorted((run["day"], run["shard"]) for run in runs) == sorted(
        (day.isoformat(), shard) for day in due for shard in range(EXPIRY_SHARDS)
    )
    assert all(run["after"] is None for run in runs)  # nothing was due: no continuation


def test_a_shard_larger_than_a_batch_finishes_through_continuations_expiring_each_member_once(
    stack: Stack,
    merchant: dict[str, Any],
    members_api: GatewayClient,
    accrue_api: GatewayClient,
    a_year_on: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from loyalty.services import expiry

    monkeypatch.setattr(expiry, "BATCH_MEMBERS", BATCH)
    members = enroll_earners(members_api, accrue_api, MEMBERS)
    merchant_id = merchant["merchant_id"]
    per_shard = Counter(shard_of(merchant_id, member) for member in members)
    assert max(per_shard.values()) > BATCH
    result = run_expiry_job(stack, a_year_on)
    assert result["points"] == 10 * MEMBERS
    assert_each_expired_once(members_api, members)
    assert drain(stack).runs == []  # the job ran to its end


def test_each_message_expires_a_bounded_page_and_queues_the_rest(
    stack: Stack,
    merchant: dict[str, Any],
    members_api: GatewayClient,
    accrue_api: GatewayClient,
    a_year_on: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from loyalty.services import expiry

    from functions.expire.app import handle

    monkeypatch.setattr(expiry, "BATCH_MEMBERS", BATCH)
    members = enroll_earners(members_api, accrue_api, MEMBERS)
    merchant_id = merchant["merchant_id"]
    per_shard = Counter(shard_of(merchant_id, member) for member in members)
    handle(scheduled_event("expire", a_year_on, REGION), FakeLambdaContext("expire", 900, REGION))
    runs = watch_runs(monkeypatch, "expire_shard")
    drained = drain(stack)
    expired_by_run = [(run.shard, outcome.members) for run, outcome in runs]
    assert max(members for _shard, members in expired_by_run) == BATCH  # never more than a batch
    runs_per_shard = Counter(shard for shard, members in expired_by_run if members)
    for shard, count in per_shard.items():
        assert runs_per_shard[shard] == -(-count // BATCH), shard  # ceil(members / batch) runs did the work
    continuations = [run for run in drained.runs if run["after"] is not None]
    assert len(continuations) >= sum(-(-count // BATCH) - 1 for count in per_shard.values())
    assert_each_expired_once(members_api, members)


def test_a_run_received_again_expires_nothing_twice(
    stack: Stack,
    merchant: dict[str, Any],
    members_api: GatewayClient,
    accrue_api: GatewayClient,
    a_year_on: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A message whose work was done but which was not deleted (the worker timed out, or SQS
    delivered it twice) runs again: no member loses points twice."""
    from loyalty.services import expiry

    from functions.expire.app import handle

    monkeypatch.setattr(expiry, "BATCH_MEMBERS", BATCH)
    members = enroll_earners(members_api, accrue_api, MEMBERS)
    handle(scheduled_event("expire", a_year_on, REGION), FakeLambdaContext("expire", 900, REGION))
    drained = drain(stack, deliveries=2)
    assert drained.points == 10 * MEMBERS and drained.failures == 0
    assert_each_expired_once(members_api, members)


def test_a_run_that_fails_half_way_is_retried_and_expires_each_member_once(
    stack: Stack,
    merchant: dict[str, Any],
    members_api: GatewayClient,
    accrue_api: GatewayClient,
    a_year_on: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from loyalty.services import expiry

    monkeypatch.setattr(expiry, "BATCH_MEMBERS", 5)
    members = enroll_earners(members_api, accrue_api, MEMBERS)
    real = expiry.expire_member
    calls = {"n": 0}

    def dies_now_and_then(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        if calls["n"] % 4 == 0:  # a member in the middle of a page: the worker dies
            raise RuntimeError("the worker was killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(expiry, "expire_member", dies_now_and_then)
    result = run_expiry_job(stack, a_year_on)
    assert result["points"] == 10 * MEMBERS
    assert_each_expired_once(members_api, members)


def test_a_message_that_is_not_a_run_goes_to_the_dead_letter_queue_with_its_reason(stack: Stack) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = stack.queue_url("ExpiryQueue")
    for body in ('{"day": "2026-13-40", "shard": 3, "as_of": "2026-12-01T00:00:00Z"}', "not json"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="poison", MessageDeduplicationId=body[:20])
    drained = drain(stack)
    assert drained.failures == 0  # dead-lettered at once, not retried
    dead = sqs.receive_message(
        QueueUrl=stack.queue_url("ExpiryDLQ"), MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )["Messages"]
    assert sorted(m["Body"] for m in dead) == sorted(
        ['{"day": "2026-13-40", "shard": 3, "as_of": "2026-12-01T00:00:00Z"}', "not json"]
    )
    assert {m["MessageAttributes"]["failure_kind"]["StringValue"] for m in dead} == {"permanent"}


# ---- warnings before a month end ---------------------------------------------------------------
def expiry_day_of_todays_points() -> datetime:
    """The month end today's points expire at (the expiry queue they were filed under; a test may scan)."""
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName="operations")["Items"]
    [day] = {item["pk"]["S"].split("#")[1] for item in items if item["pk"]["S"].startswith("EXPQ#")}
    return datetime.fromisoformat(f"{day}T09:00:00+00:00")


def published_warnings(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What the expiry worker publishes, kept here instead of sent to the bus."""
    events: list[Any] = []
    monkeypatch.setattr("functions.expire.app.publish", lambda _bus, published: events.extend(published))
    return events


def test_warnings_go_through_the_queue_a_bounded_page_per_message_each_member_warned_once(
    stack: Stack,
    merchant: dict[str, Any],
    members_api: GatewayClient,
    accrue_api: GatewayClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Seven days before the month end (the program's default), the schedule queues one warning
    run per shard; every message warns at most a batch and queues the rest; each message is
    delivered twice, and the repeated warnings carry the same event ids (a notification is sent
    once per event id)."""
    from loyalty.data.operations import EXPIRY_SHARDS
    from loyalty.services import expiry

    from functions.expire.app import handle

    monkeypatch.setattr(expiry, "BATCH_MEMBERS", BATCH)
    members = enroll_earners(members_api, accrue_api, MEMBERS)
    events = published_warnings(monkeypatch)
    warn_at = expiry_day_of_todays_points() - timedelta(days=7)
    runs = watch_runs(monkeypatch, "warn_shard")
    answer = handle(scheduled_event("expire", warn_at, REGION), FakeLambdaContext("expire", 900, REGION))
    assert answer["warning_runs"] == EXPIRY_SHARDS
    drained = drain(stack, deliveries=2)
    looked_at = [outcome.members for _run, outcome in runs]
    assert drained.failures == 0 and drained.points == 0  # warnings expire nothing
    assert max(looked_at) == BATCH and sum(looked_at) == 2 * MEMBERS  # every member, a page at a time, twice
    assert Counter(event.member_id for event in events) == Counter({m["member_id"]: 2 for m in members})
    assert len({event.event_id for event in events}) == MEMBERS  # the second delivery repeats the same ids
    assert {(event.type, event.data["points"]) for event in events} == {("points_expiring", 10)}
    assert balances(members_api, members) == {10}  # nothing expired


def test_a_member_whose_program_warns_at_another_horizon_is_not_warned_today(
    stack: Stack,
    merchant: dict[str, Any],
    admin: GatewayClient,
    members_api: GatewayClient,
    accrue_api: GatewayClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from functions.expire.app import handle
    from functions.program.app import app

    program_api = GatewayClient(app, {"X-Api-Key": merchant["api_key"]})
    program = program_api.get("/v1/program").body["program"]
    assert program_api.put("/v1/program", body={"program": {**program, "expiry_warning_days": 14}}).status == 200
    enroll_earners(members_api, accrue_api, 3)
    events = published_warnings(monkeypatch)
    expires_on = expiry_day_of_todays_points()
    handle(scheduled_event("expire", expires_on - timedelta(days=7), REGION), FakeLambdaContext("expire", 900, REGION))
    drain(stack)
    assert events == []
    handle(scheduled_event("expire", expires_on - timedelta(days=14), REGION), FakeLambdaContext("expire", 900, REGION))
    drain(stack)
    assert len(events) == 3
