"""Outgoing webhooks through the local stack: a purchase at the till becomes a signed webhook at the
stack's own receiver (in the dev inbox), verified by a receiver written from the documentation;
the receiver fails twice and the delivery arrives on the third try, after growing delays; an
endpoint that keeps failing is disabled, its developer emailed, and it comes back when enabled."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import requests

from tests.support.local_stack import RunningStack, Shop, running_stack, wait_for
from tests.support.webhooks import verify

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-webhooks")]


@pytest.fixture(scope="module")
def local() -> Iterator[RunningStack]:
    settings = {
        "WEBHOOK_RETRY_SECONDS": "1",  # retries after ~1 s, ~2 s, ~4 s, ...
        "WEBHOOK_DISABLE_AFTER_FAILURES": "3",
        "WEBHOOK_DISABLE_AFTER_SECONDS": "0",
    }
    with running_stack(settings) as stack:
        yield stack


def received(local: RunningStack, name: str, kind: str | None = None) -> list[dict[str, Any]]:
    reply = requests.get(f"{local.api}/_local/inbox", params={"channel": "webhook", "to": name}, timeout=10)
    return [m for m in reply.json()["messages"] if kind is None or m["kind"] == kind]


def emails_to(local: RunningStack, address: str) -> list[dict[str, Any]]:
    reply = requests.get(f"{local.api}/_local/inbox", params={"channel": "email", "to": address}, timeout=10)
    return list(reply.json()["messages"])


def fail_next(local: RunningStack, name: str, failures: int, status: int = 503) -> None:
    reply = requests.put(
        f"{local.api}/_local/webhook-receiver/{name}/faults", json={"failures": failures, "status": status}, timeout=10
    )
    assert reply.status_code == 200, reply.text


def test_a_purchase_arrives_signed_after_two_failures_with_growing_delays(local: RunningStack) -> None:
    shop = Shop(local, "Кофейня")
    hook = shop.call(
        "POST",
        "/v1/webhook-endpoints",
        {"url": f"{local.api}/_local/webhook-receiver/crm", "event_types": ["purchase.recorded"]},
    )
    fail_next(local, "crm", 2)
    member = shop.call("POST", "/v1/members", {"phone": "+79161239001", "name": "Анна"})
    shop.call(
        "POST",
        "/v1/purchases",
        {"transaction_id": "till-7-000123", "member_id": member["member_id"], "amount_kopecks": 125_000},
    )
    attempts = wait_for(lambda: (found := received(local, "crm")) and len(found) >= 3 and found, timeout=60)
    assert [a["answered"] for a in attempts] == [503, 503, 200]
    assert len({a["id"] for a in attempts}) == 1  # one delivery, retried
    payloads = [verify(a["headers"], a["text"].encode(), hook["secret"]) for a in attempts]
    assert payloads[-1] == {
        "type": "purchase.recorded",
        "timestamp": payloads[-1]["timestamp"],
        "data": {
            "merchant_id": shop.merchant_id,
            "member_id": member["member_id"],
            "transaction_id": "till-7-000123",
            "amount_kopecks": 125_000,
            "store_id": None,
            "points": 12,
            "balance": 12,
        },
    }
    arrived = [datetime.fromisoformat(a["received_at"]) for a in attempts]
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(arrived)]
    assert 0.8 < gaps[0] < gaps[1], gaps
    [delivery] = shop.call("GET", f"/v1/webhook-endpoints/{hook['endpoint_id']}/deliveries")["deliveries"]
    assert delivery["status"] == "delivered"
    assert [a["status_code"] for a in delivery["attempts"]] == [503, 503, 200]


def test_an_endpoint_that_keeps_failing_is_disabled_and_its_developer_emailed(local: RunningStack) -> None:
    shop = Shop(local, "Салон")
    hook = shop.call(
        "POST",
        "/v1/webhook-endpoints",
        {"url": f"{local.api}/_local/webhook-receiver/shop", "alert_email": "dev@salon.example"},
    )
    fail_next(local, "shop", 1000, status=500)
    sent = shop.call("POST", f"/v1/webhook-endpoints/{hook['endpoint_id']}/test")
    endpoint = wait_for(
        lambda: (
            (found := shop.call("GET", f"/v1/webhook-endpoints/{hook['endpoint_id']}"))["enabled"] is False and found
        ),
        timeout=60,
    )
    assert endpoint["disabled_reason"].startswith("3 attempts in a row failed")
    assert len(received(local, "shop")) == 3
    [notice] = wait_for(lambda: emails_to(local, "dev@salon.example"), timeout=10)  # sent just after disabling
    assert notice["subject"] == "Вебхуки отключены: получатель не отвечает"
    fail_next(local, "shop", 0)
    shop.call("PATCH", f"/v1/webhook-endpoints/{hook['endpoint_id']}", {"enabled": True})
    shop.call("POST", f"/v1/webhook-endpoints/{hook['endpoint_id']}/deliveries/{sent['delivery_id']}/replay")
    wait_for(lambda: [m for m in received(local, "shop") if m["answered"] == 200], timeout=30)
    verify(received(local, "shop")[-1]["headers"], received(local, "shop")[-1]["text"].encode(), hook["secret"])
