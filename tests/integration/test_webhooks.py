"""Outgoing webhooks on moto: endpoints and secrets, the path from a purchase to a signed POST
(ledger stream -> bus -> rule -> fan-out -> delivery queue -> worker), retries with backoff through
the queue, disabling an endpoint that keeps failing (with a notice), once per event and endpoint,
test sends, replays and the delivery log. Receivers verify with tests/support/webhooks.py, written
from the Standard Webhooks documentation."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from loyalty.events import DomainEvent

from infra.local.pollers import SqsPoller, StreamPoller
from infra.local.provision import ACCOUNT_ID, REGION, Stack
from tests.integration.conftest import create_merchant, new_phone
from tests.support.api import GatewayClient, Reply
from tests.support.events import context, sqs_record
from tests.support.expiry import run_expiry_job
from tests.support.notifications import bus_envelope, ledger_events
from tests.support.webhooks import Receiver, receiver, verify

MAX_ATTEMPTS = 16


@pytest.fixture
def hooks(merchant: dict[str, Any]) -> GatewayClient:
    from functions.webhooks.app import app

    return GatewayClient(app, {"X-Api-Key": merchant["api_key"]})


@pytest.fixture
def crm() -> Iterator[Receiver]:
    with receiver() as running:
        yield running


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries after 1 s, 2 s, ...; an endpoint is disabled after 3 failures in a row."""
    from functions.webhooks import app

    quick = app.CONFIG.model_copy(
        update={"webhook_retry_seconds": 1, "webhook_disable_after_failures": 3, "webhook_disable_after_seconds": 0}
    )
    monkeypatch.setattr(app, "CONFIG", quick)


class Pipeline:
    """What Lambda's event sources and EventBridge do in AWS: streams to the outbox functions, the
    bus rule to the fan-out queue, the queues to the workers."""

    def __init__(self, stack: Stack) -> None:
        from functions.events.app import publish_coupon_events, publish_ledger_events
        from functions.webhooks.app import handle_deliveries, handle_events

        sqs, streams = boto3.client("sqs", region_name=REGION), boto3.client("dynamodbstreams", region_name=REGION)
        self.streams = [
            StreamPoller(
                "ledger",
                streams,
                stack.attributes[("LedgerTable", "StreamArn")],
                publish_ledger_events,
                100,
                30,
                REGION,
            ),
            StreamPoller(
                "members",
                streams,
                stack.attributes[("MembersTable", "StreamArn")],
                publish_coupon_events,
                100,
                30,
                REGION,
            ),
        ]
        self.events = self._queue(stack, sqs, "WebhookEventsQueue", handle_events)
        self.deliveries = self._queue(stack, sqs, "WebhookDeliveriesQueue", handle_deliveries)

    @staticmethod
    def _queue(stack: Stack, sqs: Any, queue_id: str, handler: Any) -> SqsPoller:
        url, arn = stack.queue_url(queue_id), stack.attributes[(queue_id, "Arn")]
        return SqsPoller(queue_id, sqs, url, arn, handler, 10, 60, REGION)

    def run(self) -> None:
        for stream in self.streams:
            stream.poll_once()
        self.events.poll_once()
        self.deliveries.poll_once()


@pytest.fixture
def pipeline(stack: Stack) -> Pipeline:
    return Pipeline(stack)


def subscribe(hooks: GatewayClient, url: str, *types: str, **extra: Any) -> dict[str, Any]:
    reply = hooks.post("/v1/webhook-endpoints", body={"url": url, "event_types": list(types) or None, **extra})
    assert reply.status == 201, reply.body
    return dict(reply.body)


def patch(hooks: GatewayClient, endpoint_id: str, body: dict[str, Any]) -> Reply:
    return hooks.call(
        "PATCH", "/v1/webhook-endpoints/{endpoint_id}", path_params={"endpoint_id": endpoint_id}, body=body
    )


def endpoint_of(hooks: GatewayClient, endpoint_id: str) -> dict[str, Any]:
    reply = hooks.get("/v1/webhook-endpoints/{endpoint_id}", path_params={"endpoint_id": endpoint_id})
    assert reply.status == 200, reply.body
    return dict(reply.body)


def log_of(hooks: GatewayClient, endpoint_id: str, **query: str) -> list[dict[str, Any]]:
    reply = hooks.get(
        "/v1/webhook-endpoints/{endpoint_id}/deliveries", path_params={"endpoint_id": endpoint_id}, query=query or None
    )
    assert reply.status == 200, reply.body
    return list(reply.body["deliveries"])


def enroll_and_buy(merchant: dict[str, Any], amount_kopecks: int = 150_000, transaction_id: str = "till-1") -> str:
    from functions.accrue.app import app as accrue
    from functions.members.app import app as members

    key = {"X-Api-Key": merchant["api_key"]}
    member = GatewayClient(members, key).post("/v1/members", body={"phone": new_phone(), "name": "Анна"})
    assert member.status == 201, member.body
    member_id = str(member.body["member_id"])
    bought = GatewayClient(accrue, key).post(
        "/v1/purchases",
        body={"transaction_id": transaction_id, "member_id": member_id, "amount_kopecks": amount_kopecks},
    )
    assert bought.status == 201, bought.body
    return member_id


def fan_out(*events: DomainEvent) -> dict[str, Any]:
    from functions.webhooks.app import handle_events

    records = [sqs_record(bus_envelope(event), queue="webhook-events") for event in events]
    return dict(handle_events({"Records": records}, context("webhook-fan-out", 30)))


def deliver_job(job: dict[str, Any], receive_count: int = 1) -> dict[str, Any]:
    """A delivery message as the worker receives it (its receive count as SQS would say)."""
    from functions.webhooks.app import handle_deliveries

    record = sqs_record(json.dumps(job), receive_count=receive_count, queue="webhook-deliveries")
    return dict(handle_deliveries({"Records": [record]}, context("webhook-delivery", 60)))


def queued_jobs(stack: Stack) -> list[dict[str, Any]]:
    """Take every message off the delivery queue (for tests that feed the worker themselves)."""
    sqs, url = boto3.client("sqs", region_name=REGION), stack.queue_url("WebhookDeliveriesQueue")
    jobs = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            jobs.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return jobs


def emails_sent() -> list[Any]:
    from moto.sesv2.models import sesv2_backends

    return list(sesv2_backends[ACCOUNT_ID][REGION].core_backend.sent_messages)


# ---- endpoints -------------------------------------------------------------------------------------
def test_an_endpoint_shows_its_secret_once_and_never_again(hooks: GatewayClient, crm: Receiver) -> None:
    created = subscribe(hooks, crm.url, "purchase.recorded", description="CRM", alert_email="Dev@Shop.Example")
    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == ["purchase.recorded"]
    assert created["enabled"] is True and created["alert_email"] == "dev@shop.example"
    listed = hooks.get("/v1/webhook-endpoints").body["endpoints"]
    assert [e["endpoint_id"] for e in listed] == [created["endpoint_id"]]
    assert "secret" not in listed[0] and "secret" not in endpoint_of(hooks, created["endpoint_id"])
    table = boto3.resource("dynamodb", region_name=REGION).Table("webhooks")
    stored = json.dumps(table.scan()["Items"], default=str)
    assert created["secret"] not in stored and "dev@shop.example" not in stored  # encrypted at rest


def test_an_endpoint_is_changed_paused_and_removed(hooks: GatewayClient, crm: Receiver) -> None:
    endpoint_id = subscribe(hooks, crm.url, "purchase.recorded")["endpoint_id"]
    changed = patch(hooks, endpoint_id, {"event_types": ["tier.changed", "tier.changed"], "description": "Битрикс24"})
    assert changed.status == 200, changed.body
    assert changed.body["event_types"] == ["tier.changed"] and changed.body["description"] == "Битрикс24"
    everything = patch(hooks, endpoint_id, {"event_types": None})
    assert everything.body["event_types"] is None  # every type, also those added later
    paused = patch(hooks, endpoint_id, {"enabled": False})
    assert paused.body["enabled"] is False and paused.body["disabled_reason"] == "paused by the merchant"
    path = {"endpoint_id": endpoint_id}
    assert hooks.call("DELETE", "/v1/webhook-endpoints/{endpoint_id}", path_params=path).body == {"deleted": True}
    assert hooks.get("/v1/webhook-endpoints/{endpoint_id}", path_params=path).status == 404
    assert patch(hooks, endpoint_id, {"enabled": True}).status == 404


BAD_ENDPOINTS: list[tuple[dict[str, Any], str]] = [
    ({"url": "https://crm.example.ru/hooks"}, "url"),  # locally: only this machine
    ({"url": "http://10.0.0.5/hooks"}, "url"),
    ({"url": "http://127.0.0.1:9/", "event_types": ["points.gifted"]}, "event_types.0"),
    ({"url": "http://127.0.0.1:9/", "event_types": []}, "event_types"),
    ({"url": "http://127.0.0.1:9/", "alert_email": "not-an-email"}, "alert_email"),
    ({"url": "http://127.0.0.1:9/", "secret": "whsec_mine"}, "secret"),
]


def test_bad_endpoints_are_refused_with_the_field_at_fault(hooks: GatewayClient) -> None:
    for body, field in BAD_ENDPOINTS:
        reply = hooks.post("/v1/webhook-endpoints", body=body)
        assert reply.status == 400, (body, reply.body)
        details = reply.body["error"]["details"]
        fields = [d["field"] for d in details] if isinstance(details, list) else [details["field"]]
        assert field in fields, (body, details)
    assert hooks.get("/v1/webhook-endpoints").body == {"endpoints": []}


def test_a_merchant_has_at_most_twenty_endpoints(hooks: GatewayClient, crm: Receiver) -> None:
    for _ in range(20):
        subscribe(hooks, crm.url)
    refused = hooks.post("/v1/webhook-endpoints", body={"url": crm.url})
    assert refused.status == 422 and refused.body["error"]["code"] == "too_many_endpoints"


def test_another_merchants_endpoint_is_not_found(admin: GatewayClient, hooks: GatewayClient, crm: Receiver) -> None:
    from functions.webhooks.app import app

    other = GatewayClient(app, {"X-Api-Key": create_merchant(admin, "Other")["api_key"]})
    endpoint_id = subscribe(hooks, crm.url)["endpoint_id"]
    path = {"endpoint_id": endpoint_id}
    assert other.get("/v1/webhook-endpoints/{endpoint_id}", path_params=path).status == 404
    assert other.get("/v1/webhook-endpoints/{endpoint_id}/deliveries", path_params=path).status == 404
    assert other.post("/v1/webhook-endpoints/{endpoint_id}/test", path_params=path).status == 404
    assert other.get("/v1/webhook-endpoints").body == {"endpoints": []}


def test_the_event_type_catalog_lists_every_type_with_an_example(hooks: GatewayClient) -> None:
    catalog = hooks.get("/v1/webhook-event-types").body
    names = [t["name"] for t in catalog["event_types"]]
    assert "purchase.recorded" in names and "coupon.redeemed" in names and "points.expired" in names
    assert set(catalog["headers"]) == {"webhook-id", "webhook-timestamp", "webhook-signature"}


# ---- from a purchase to a signed POST ------------------------------------------------------------
def test_a_purchase_reaches_subscribed_endpoints_signed_and_no_one_else(
    admin: GatewayClient, merchant: dict[str, Any], hooks: GatewayClient, pipeline: Pipeline
) -> None:
    from functions.webhooks.app import app

    with receiver() as shop, receiver() as tiers, receiver() as others:
        shop_hook = subscribe(hooks, shop.url, "purchase.recorded", "points.earned")
        subscribe(hooks, tiers.url, "tier.changed")
        stranger = GatewayClient(app, {"X-Api-Key": create_merchant(admin, "Other")["api_key"]})
        assert stranger.post("/v1/webhook-endpoints", body={"url": others.url}).status == 201
        member_id = enroll_and_buy(merchant, 150_000, "till-7-000123")
        pipeline.run()
        payloads = shop.payloads(shop_hook["secret"])
        assert sorted(p["type"] for p in payloads) == ["points.earned", "purchase.recorded"]
        purchase = next(p for p in payloads if p["type"] == "purchase.recorded")
        assert purchase["data"] == {
            "merchant_id": merchant["merchant_id"],
            "member_id": member_id,
            "transaction_id": "till-7-000123",
            "amount_kopecks": 150_000,
            "store_id": None,
            "points": 15,
            "balance": 15,
        }
        assert {r.path for r in shop.received} == {"/hooks"}
        assert {r.headers["Content-Type"] for r in shop.received} == {"application/json"}
        assert tiers.received == [] and others.received == []


def test_every_type_comes_from_its_outbox(
    stack: Stack, merchant: dict[str, Any], hooks: GatewayClient, crm: Receiver, pipeline: Pipeline
) -> None:
    """purchase.recorded also for a purchase that earned nothing; coupon.issued, and coupon.redeemed
    from the members table's stream (the till's use); points.expired from the expiry job's entries."""
    from functions.accrue.app import app as accrue
    from functions.rewards.app import app as rewards

    secret = subscribe(hooks, crm.url)["secret"]  # every type
    key = {"X-Api-Key": merchant["api_key"]}
    member_id = enroll_and_buy(merchant, 5_000, "small")  # 50 roubles: 0 points
    GatewayClient(accrue, key).post(
        "/v1/purchases", body={"transaction_id": "big", "member_id": member_id, "amount_kopecks": 150_000}
    )
    till = GatewayClient(rewards, key)
    till.post("/v1/rewards", body={"reward_id": "latte", "name": "Латте", "cost_points": 5})
    claimed = till.post("/v1/coupons", body={"claim_id": "c-1", "member_id": member_id, "reward_id": "latte"})
    assert claimed.status == 201, claimed.body
    code = claimed.body["code"]
    used = till.post("/v1/coupons/{code}/redeem", path_params={"code": code}, body={"transaction_id": "till-2"})
    assert used.status == 200, used.body
    a_year_on = datetime.now(UTC) + timedelta(days=400)
    assert run_expiry_job(stack, a_year_on)["points"] == 10
    pipeline.run()
    by_type: dict[str, list[dict[str, Any]]] = {}
    for payload in crm.payloads(secret):
        by_type.setdefault(payload["type"], []).append(payload["data"])
    assert sorted(p["transaction_id"] for p in by_type["purchase.recorded"]) == ["big", "small"]
    assert [p["transaction_id"] for p in by_type["points.earned"]] == ["big"]
    assert by_type["member.enrolled"][0]["member_id"] == member_id
    assert by_type["coupon.issued"][0] | {"merchant_id": None} == {
        "merchant_id": None,
        "member_id": member_id,
        "coupon": code,
        "reward_id": "latte",
        "reward_name": "Латте",
        "quantity": None,
        "expires_on": claimed.body["expires_on"],
        "points": 5,
        "balance": 10,
    }
    assert by_type["coupon.redeemed"] == [
        {
            "merchant_id": merchant["merchant_id"],
            "member_id": member_id,
            "coupon": code,
            "reward_id": "latte",
            "reward_name": "Латте",
            "quantity": 1,
            "uses_left": 0,
            "transaction_id": "till-2",
            "store_id": None,
        }
    ]
    assert by_type["points.expired"] == [
        {"merchant_id": merchant["merchant_id"], "member_id": member_id, "points": 10, "balance": 0}
    ]


def test_the_same_event_twice_makes_one_delivery_and_one_post(
    merchant: dict[str, Any], hooks: GatewayClient, crm: Receiver, stack: Stack
) -> None:
    secret = subscribe(hooks, crm.url, "purchase.recorded")["secret"]
    member_id = enroll_and_buy(merchant)
    [purchase] = [e for e in ledger_events(member_id) if e.type == "points_earned"]
    assert fan_out(purchase, purchase) == {"batchItemFailures": []}  # EventBridge delivers twice
    assert fan_out(purchase) == {"batchItemFailures": []}
    jobs = queued_jobs(stack)
    assert len(jobs) == 1
    for _ in range(3):  # the delivery's own message seen again, after it was delivered
        assert deliver_job(jobs[0]) == {"batchItemFailures": []}
    assert len(crm.received) == 1
    assert crm.payloads(secret)[0]["data"]["transaction_id"] == "till-1"


# ---- retries, failures, disabling -----------------------------------------------------------------
def test_a_failing_receiver_is_retried_with_growing_delays_until_it_answers(
    merchant: dict[str, Any], hooks: GatewayClient, crm: Receiver, pipeline: Pipeline, fast: None
) -> None:
    hook = subscribe(hooks, crm.url, "purchase.recorded")
    crm.fail_next(503, 500)
    enroll_and_buy(merchant)
    pipeline.run()
    assert [r.answered for r in crm.received] == [503]
    pipeline.deliveries.poll_once()  # the message is not back yet: the queue holds it for ~1 s
    deadline = time.monotonic() + 15
    while len(crm.received) < 3 and time.monotonic() < deadline:
        pipeline.deliveries.poll_once()
    assert [r.answered for r in crm.received] == [503, 500, 200]
    gaps = [later.at - earlier.at for earlier, later in zip(crm.received, crm.received[1:], strict=False)]
    assert 0.85 < gaps[0] < gaps[1], gaps  # ~1 s, then ~2 s
    ids = {r.headers["webhook-id"] for r in crm.received}
    assert len(ids) == 1  # the same id on every attempt
    for attempt in crm.received:
        verify(attempt.headers, attempt.body, hook["secret"])  # each attempt signed with its own timestamp
    [delivery] = log_of(hooks, hook["endpoint_id"])
    assert delivery["status"] == "delivered" and delivery["delivery_id"] in ids
    assert [a["status_code"] for a in delivery["attempts"]] == [503, 500, 200]
    assert [a["error"] for a in delivery["attempts"]] == ["answered 503", "answered 500", None]
    assert all(a["latency_ms"] >= 0 for a in delivery["attempts"])
    assert endpoint_of(hooks, hook["endpoint_id"])["failures_in_a_row"] == 0


def test_retry_after_is_honoured(merchant: dict[str, Any], hooks: GatewayClient, crm: Receiver, stack: Stack) -> None:
    from loyalty.services.webhook_deliveries import RetryLater

    from functions.webhooks.app import handle_deliveries, retry_delay

    subscribe(hooks, crm.url, "purchase.recorded")
    crm.fail_next(429)
    crm.retry_after = "120"
    member_id = enroll_and_buy(merchant)
    fan_out(*[e for e in ledger_events(member_id) if e.type == "points_earned"])
    [job] = queued_jobs(stack)
    delays: list[int | None] = []

    def spy(receives: int, exc: Exception) -> int | None:
        delays.append(retry_delay(receives, exc))
        assert isinstance(exc, RetryLater)
        return delays[-1]

    from functions.webhooks import app

    original = app.deliveries._retry_delay
    app.deliveries._retry_delay = spy
    try:
        record = sqs_record(json.dumps(job), queue="webhook-deliveries")
        assert handle_deliveries({"Records": [record]}, context("webhook-delivery", 60))["batchItemFailures"]
    finally:
        app.deliveries._retry_delay = original
    assert delays == [120]  # not the 54-66 s the schedule would give the first retry


def ledger_events_of_merchant(stack: Stack) -> list[DomainEvent]:
    from loyalty.data.ledger import entries_from_stream
    from loyalty.events import from_ledger_entry

    from tests.support.notifications import as_stream

    items = boto3.client("dynamodb", region_name=REGION).scan(TableName="ledger")["Items"]
    items.sort(key=lambda raw: raw["sk"]["S"])
    return [event for entry in entries_from_stream(as_stream(items)) for event in from_ledger_entry(entry)]


def test_an_endpoint_that_keeps_failing_is_disabled_with_a_notice_and_comes_back(
    merchant: dict[str, Any], hooks: GatewayClient, crm: Receiver, stack: Stack, fast: None
) -> None:
    hook = subscribe(hooks, crm.url, "purchase.recorded", alert_email="dev@shop.example")
    crm.fail_next(*[500] * 3)
    member_id = enroll_and_buy(merchant)
    fan_out(*[e for e in ledger_events(member_id) if e.type == "points_earned"])
    [job] = queued_jobs(stack)
    for receive in (1, 2):
        assert deliver_job(job, receive)["batchItemFailures"], "retried"
    assert deliver_job(job, 3) == {"batchItemFailures": []}  # the third failure disables: no more tries
    endpoint = endpoint_of(hooks, hook["endpoint_id"])
    assert endpoint["enabled"] is False
    assert endpoint["disabled_reason"].startswith("3 attempts in a row failed since")
    [delivery] = log_of(hooks, hook["endpoint_id"])
    assert delivery["status"] == "failed" and delivery["failure_reason"] == endpoint["disabled_reason"]
    [notice] = emails_sent()
    assert notice.destinations["ToAddresses"] == ["dev@shop.example"]
    assert "Вебхуки отключены" in notice.subject and crm.url in notice.body
    # while disabled, new events are not delivered to it
    enroll_and_buy(merchant, transaction_id="till-2")
    fan_out(*[e for e in ledger_events_of_merchant(stack) if e.type == "points_earned"])
    assert queued_jobs(stack) == []
    # the merchant fixes the receiver, enables the endpoint and replays what failed
    enabled = patch(hooks, hook["endpoint_id"], {"enabled": True})
    assert enabled.body["enabled"] is True and enabled.body["failures_in_a_row"] == 0
    replayed = hooks.post(
        "/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/replay",
        path_params={"endpoint_id": hook["endpoint_id"], "delivery_id": delivery["delivery_id"]},
    )
    assert replayed.status == 202 and replayed.body["status"] == "pending", replayed.body
    [again] = queued_jobs(stack)
    assert deliver_job(again) == {"batchItemFailures": []}
    assert [r.answered for r in crm.received] == [500, 500, 500, 200]
    assert len({r.headers["webhook-id"] for r in crm.received}) == 1
    assert log_of(hooks, hook["endpoint_id"], status="delivered")[0]["attempts"][-1]["status_code"] == 200
    assert len(emails_sent()) == 1


def test_410_gone_disables_the_endpoint_at_once(
    merchant: dict[str, Any], hooks: GatewayClient, crm: Receiver, stack: Stack
) -> None:
    hook = subscribe(hooks, crm.url, "purchase.recorded")
    crm.fail_next(410)
    member_id = enroll_and_buy(merchant)
    fan_out(*[e for e in ledger_events(member_id) if e.type == "points_earned"])
    [job] = queued_jobs(stack)
    assert deliver_job(job) == {"batchItemFailures": []}
    endpoint = endpoint_of(hooks, hook["endpoint_id"])
    assert endpoint["enabled"] is False and "410" in endpoint["disabled_reason"]
    assert emails_sent() == []  # no alert_email: the flag in the API is the notice


def test_after_the_last_attempt_a_delivery_fails_in_the_log_not_in_the_dlq(
    merchant: dict[str, Any], hooks: GatewayClient, crm: Receiver, stack: Stack
) -> None:
    hook = subscribe(hooks, crm.url, "purchase.recorded")
    crm.fail_next(502)
    member_id = enroll_and_buy(merchant)
    fan_out(*[e for e in ledger_events(member_id) if e.type == "points_earned"])
    [job] = queued_jobs(stack)
    assert deliver_job(job, MAX_ATTEMPTS) == {"batchItemFailures": []}
    [delivery] = log_of(hooks, hook["endpoint_id"], status="failed")
    assert delivery["failure_reason"] == f"no success in {MAX_ATTEMPTS} attempts"
    dlq = boto3.client("sqs", region_name=REGION).receive_message(QueueUrl=stack.queue_url("WebhookDeliveriesDLQ"))
    assert dlq.get("Messages", []) == []
    assert endpoint_of(hooks, hook["endpoint_id"])["enabled"] is True  # one failure over no time


def test_a_deleted_endpoints_pending_delivery_ends_without_a_post(
    merchant: dict[str, Any], hooks: GatewayClient, crm: Receiver, stack: Stack
) -> None:
    hook = subscribe(hooks, crm.url, "purchase.recorded")
    member_id = enroll_and_buy(merchant)
    fan_out(*[e for e in ledger_events(member_id) if e.type == "points_earned"])
    [job] = queued_jobs(stack)
    hooks.call("DELETE", "/v1/webhook-endpoints/{endpoint_id}", path_params={"endpoint_id": hook["endpoint_id"]})
    assert deliver_job(job) == {"batchItemFailures": []}
    assert crm.received == []


# ---- secrets, test sends, replays, the log ------------------------------------------------------
def test_a_rotated_secret_signs_with_the_old_one_alongside_for_the_grace_period(
    merchant: dict[str, Any], hooks: GatewayClient, crm: Receiver, stack: Stack
) -> None:
    hook = subscribe(hooks, crm.url)
    path = {"endpoint_id": hook["endpoint_id"]}
    rotated = hooks.post("/v1/webhook-endpoints/{endpoint_id}/rotate-secret", path_params=path, body={})
    assert rotated.status == 200 and rotated.body["secret"] != hook["secret"]
    assert rotated.body["previous_secret_expires_at"] is not None
    hooks.post("/v1/webhook-endpoints/{endpoint_id}/test", path_params=path)
    [job] = queued_jobs(stack)
    deliver_job(job)
    [first] = crm.received
    assert len(first.headers["webhook-signature"].split(" ")) == 2
    assert verify(first.headers, first.body, hook["secret"]) == verify(
        first.headers, first.body, rotated.body["secret"]
    )
    final = hooks.post(
        "/v1/webhook-endpoints/{endpoint_id}/rotate-secret",
        path_params=path,
        body={"previous_secret_valid_hours": 0},
    )
    hooks.post("/v1/webhook-endpoints/{endpoint_id}/test", path_params=path)
    deliver_job(queued_jobs(stack)[0])
    second = crm.received[-1]
    assert len(second.headers["webhook-signature"].split(" ")) == 1
    verify(second.headers, second.body, final.body["secret"])


def test_a_test_send_is_a_signed_webhook_test_even_to_a_disabled_endpoint(
    hooks: GatewayClient, crm: Receiver, stack: Stack
) -> None:
    hook = subscribe(hooks, crm.url, "tier.changed")
    patch(hooks, hook["endpoint_id"], {"enabled": False})
    sent = hooks.post("/v1/webhook-endpoints/{endpoint_id}/test", path_params={"endpoint_id": hook["endpoint_id"]})
    assert sent.status == 202 and sent.body["status"] == "pending" and sent.body["event_type"] == "webhook.test"
    [job] = queued_jobs(stack)
    deliver_job(job)
    [payload] = crm.payloads(hook["secret"])
    assert payload["type"] == "webhook.test" and payload["data"]["endpoint_id"] == hook["endpoint_id"]
    detail = hooks.get(
        "/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}",
        path_params={"endpoint_id": hook["endpoint_id"], "delivery_id": sent.body["delivery_id"]},
    ).body
    assert detail["status"] == "delivered" and detail["payload"] == payload


def test_replays_resend_the_same_delivery_and_never_a_pending_one(
    hooks: GatewayClient, crm: Receiver, stack: Stack
) -> None:
    hook = subscribe(hooks, crm.url)
    path = {"endpoint_id": hook["endpoint_id"]}
    delivery_id = hooks.post("/v1/webhook-endpoints/{endpoint_id}/test", path_params=path).body["delivery_id"]
    replay_path = {**path, "delivery_id": delivery_id}
    replay = "/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/replay"
    pending = hooks.post(replay, path_params=replay_path)
    assert pending.status == 409 and pending.body["error"]["code"] == "webhook_delivery_pending"
    deliver_job(queued_jobs(stack)[0])
    assert hooks.post(replay, path_params=replay_path).status == 202
    deliver_job(queued_jobs(stack)[0])
    assert [r.headers["webhook-id"] for r in crm.received] == [delivery_id, delivery_id]
    assert crm.received[0].body == crm.received[1].body
    missing = hooks.post(replay, path_params={**path, "delivery_id": "msg_0000000000nothinghere00000"})
    assert missing.status == 404


def test_the_delivery_log_pages_newest_first_and_filters_by_status(
    hooks: GatewayClient, crm: Receiver, stack: Stack
) -> None:
    hook = subscribe(hooks, crm.url)
    path = {"endpoint_id": hook["endpoint_id"]}
    sent = [
        hooks.post("/v1/webhook-endpoints/{endpoint_id}/test", path_params=path).body["delivery_id"] for _ in range(5)
    ]
    first_job, *other_jobs = queued_jobs(stack)
    deliver_job(first_job)
    crm.fail_next(*[400] * len(other_jobs))
    for job in other_jobs:
        deliver_job(job, MAX_ATTEMPTS)  # their last attempt
    first = hooks.get("/v1/webhook-endpoints/{endpoint_id}/deliveries", path_params=path, query={"limit": "3"}).body
    page = [d["delivery_id"] for d in first["deliveries"]]
    assert len(page) == 3 and page == sorted(page, reverse=True)  # ids sort by time: newest first
    rest = hooks.get(
        "/v1/webhook-endpoints/{endpoint_id}/deliveries",
        path_params=path,
        query={"limit": "3", "cursor": first["next_cursor"]},
    ).body
    more = [d["delivery_id"] for d in rest["deliveries"]]
    assert set(page + more) == set(sent) and page[-1] > more[0]
    failed = log_of(hooks, hook["endpoint_id"], status="failed")
    assert len(failed) == 4 and all(d["attempts"][0]["status_code"] == 400 for d in failed)
    assert [d["delivery_id"] for d in log_of(hooks, hook["endpoint_id"], status="delivered")] == [
        first_job["delivery_id"]
    ]
    bad = hooks.get("/v1/webhook-endpoints/{endpoint_id}/deliveries", path_params=path, query={"cursor": "!!"})
    assert bad.status == 400


def test_a_coupon_taken_back_by_a_refund_is_not_a_use() -> None:
    """Only a use at the till (items taken, ``used_at`` set) is coupon.redeemed."""
    from loyalty.data.members import _coupon_items, coupon_uses_from_stream
    from loyalty.domain.coupons import new_coupon

    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    issued = new_coupon(
        "mch_1", "mbr_1", reward_id="stamp:coffee", reward_name="Кофе", points=0, valid_days=30, now=now, quantity=3
    )
    used = issued.used(now + timedelta(minutes=5), "till-9", "store-1", items=1)
    revoked = used.revoked(2)

    def change(before: Any, after: Any) -> dict[str, Any]:
        images = {"OldImage": _coupon_items(before)[0].serialize(), "NewImage": _coupon_items(after)[0].serialize()}
        images["Keys"] = {"pk": images["NewImage"]["pk"], "sk": images["NewImage"]["sk"]}
        return {"eventName": "MODIFY", "dynamodb": images}

    member_copy = change(issued, used)
    member_copy["dynamodb"]["NewImage"] = _coupon_items(used)[1].serialize()
    uses = coupon_uses_from_stream({"Records": [change(issued, used), change(used, revoked), member_copy]})
    assert [(before.uses_left, after.uses_left) for before, after in uses] == [(3, 2)]


def test_without_an_alert_email_the_disabled_notice_goes_to_the_shops_active_owners(
    merchant: dict[str, Any], hooks: GatewayClient, crm: Receiver, stack: Stack
) -> None:
    from functions.staff.app import app as staff_app
    from functions.staff_auth.app import app as staff_auth_app
    from tests.integration.test_staff import join

    owner = join(GatewayClient(staff_app, {"X-Api-Key": merchant["api_key"]}), GatewayClient(staff_auth_app), "owner")
    before = len(emails_sent())
    hook = subscribe(hooks, crm.url, "purchase.recorded")
    crm.fail_next(410)
    member_id = enroll_and_buy(merchant)
    fan_out(*[e for e in ledger_events(member_id) if e.type == "points_earned"])
    [job] = queued_jobs(stack)
    assert deliver_job(job) == {"batchItemFailures": []}
    assert endpoint_of(hooks, hook["endpoint_id"])["enabled"] is False
    [notice] = emails_sent()[before:]
    assert notice.destinations["ToAddresses"] == [owner["email"]]
