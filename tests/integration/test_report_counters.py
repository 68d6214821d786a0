"""The other facts of the KPI report, each counted once from its table's real stream: messages sent
(the program's cost, by channel and price), points that expired, and gift cards sold and spent."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.provision import Stack
from tests.integration.conftest import configure
from tests.integration.test_gift_cards import place, standin_order, submit, webhook
from tests.integration.test_notifications import earned_event, enroll
from tests.support.api import GatewayClient
from tests.support.events import context
from tests.support.expiry import run_expiry_job
from tests.support.notifications import notify
from tests.support.reporting import Clock, Counting, local, local_clock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    with local_clock(monkeypatch) as move:
        yield move


@pytest.fixture
def reports_api(merchant: dict[str, Any]) -> GatewayClient:
    from functions.reports.app import app

    return GatewayClient(app, {"X-Api-Key": merchant["api_key"]})


@pytest.fixture
def gift_api(merchant: dict[str, Any]) -> GatewayClient:
    from functions.gift_cards.app import app

    return GatewayClient(app, {"X-Api-Key": merchant["api_key"]})


def kpis(reports_api: GatewayClient, first: str, last: str) -> list[dict[str, Any]]:
    reply = reports_api.get("/v1/reports/kpis", query={"from": first, "to": last})
    assert reply.status == 200, reply.body
    return list(reply.body["months"])


def test_messages_sent_are_counted_once_per_channel_and_priced_into_the_program_cost(
    stack: Stack,
    clock: Clock,
    program_api: GatewayClient,
    members_api: GatewayClient,
    accrue_api: GatewayClient,
    reports_api: GatewayClient,
) -> None:
    clock(local("2025-06", 10, 12))  # noon in Moscow: no quiet hours
    configure(program_api, costs={"monthly_fee_kopecks": 50_000, "sms_kopecks": 350, "push_kopecks": 20})
    member = enroll(members_api)
    events = [earned_event(accrue_api, member, f"N-{n}") for n in range(3)]
    assert notify(*events) == {"batchItemFailures": []}
    assert notify(events[0]) == {"batchItemFailures": []}  # redelivered: not sent again
    counting = Counting(stack, "NotificationsTable")
    counted = counting.count_new(random.Random(5))
    assert counted == 3
    for batch in counting.delivered:  # the stream's batches again
        assert counting.deliver(batch)["counted"] == 0
    clock(local("2025-07", 2, 12))
    configure(program_api, costs={"monthly_fee_kopecks": 60_000, "sms_kopecks": 500})  # from July on
    may, june, july = kpis(reports_api, "2025-05", "2025-07")
    assert may["program_cost_kopecks"] == 0  # the merchant was created in November 2026: nothing before
    assert june["program_cost_kopecks"] == 3 * 350 + 50_000
    assert july["program_cost_kopecks"] == 60_000


def test_expired_points_leave_the_outstanding_balance_in_the_month_they_expire(
    stack: Stack,
    clock: Clock,
    program_api: GatewayClient,
    members_api: GatewayClient,
    accrue_api: GatewayClient,
    reports_api: GatewayClient,
) -> None:
    configure(program_api, expiry_months=1)
    clock(local("2025-01", 10, 12))
    member = enroll(members_api)
    reply = accrue_api.post(
        "/v1/purchases", body={"transaction_id": "E-1", "member_id": member["member_id"], "amount_kopecks": 100_000}
    )
    assert reply.status == 201 and reply.body["points_earned"] == 10
    march = local("2025-03", 2, 6)
    clock(march)
    assert run_expiry_job(stack, march)["points"] == 10
    counting = Counting(stack)
    counting.count_new(random.Random(2))
    for batch in counting.delivered:
        counting.deliver(batch)
    months = kpis(reports_api, "2025-01", "2025-03")
    assert [m["points_issued"] for m in months] == [10, 0, 0]
    assert [m["points_expired"] for m in months] == [0, 0, 10]
    assert [m["points_outstanding"] for m in months] == [10, 10, 0]
    assert [m["liability_kopecks"] for m in months] == [1_000, 1_000, 0]


def test_gift_cards_sold_and_spent_are_counted_once_from_the_gift_card_stream(
    stack: Stack, gift_api: GatewayClient, merchant: dict[str, Any], reports_api: GatewayClient
) -> None:
    from functions.gift_cards.app import handle_stream

    assert place(gift_api, "GC-1").status == 201
    submit(merchant, "GC-1")
    sd_order = standin_order()
    for status in ("in_production", "shipped", "delivered"):
        assert webhook(gift_api, sd_order, status).status == 200
    code = sd_order["printed_codes"][0]
    spent = gift_api.post(
        "/v1/gift-cards/{code}/redeem",
        path_params={"code": code},
        body={"redemption_id": "till-1", "amount_kopecks": 120_000},
    )
    assert spent.status == 200, spent.body
    counting = Counting(stack, "GiftCardsTable")
    records = counting.tap.take()
    half = len(records) // 2
    for batch in (records[:half], records, records[half:], records):  # bisected, retried, repeated
        handle_stream(counting.tap.event(batch), context("gift-card-stream", 30))
    reply = reports_api.get("/v1/reports/gift-cards")
    assert reply.status == 200, reply.body
    this_month = reply.body["months"][-1]
    assert this_month["cards_sold"] == 2
    assert (this_month["nominal_sold_kopecks"], this_month["redeemed_kopecks"]) == (600_000, 120_000)
    assert this_month["outstanding_kopecks"] == 480_000


def test_program_costs_are_validated_settings_that_default_to_zero(program_api: GatewayClient) -> None:
    assert program_api.get("/v1/program").body["program"]["costs"] == {
        "monthly_fee_kopecks": 0,
        "sms_kopecks": 0,
        "push_kopecks": 0,
        "email_kopecks": 0,
    }
    current = program_api.get("/v1/program").body["program"]
    refused = program_api.put("/v1/program", body={"program": {**current, "costs": {"sms_kopecks": -1}}})
    assert refused.status == 400, refused.body
    typo = program_api.put("/v1/program", body={"program": {**current, "costs": {"sms_price": 1}}})
    assert typo.status == 400, typo.body
