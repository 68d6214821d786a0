"""The ledger under real concurrency and redelivery, on the local stack over HTTP and SQS."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.support.local_stack import ADMIN_TOKEN, RunningStack, running_stack, wait_for
from tests.support.partners import PartnerSender

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-ledger")]


@pytest.fixture(scope="module")
def local() -> Iterator[RunningStack]:
    with running_stack() as stack:
        yield stack


def new_merchant(local: RunningStack) -> tuple[str, dict[str, str]]:
    reply = requests.post(
        f"{local.api}/v1/admin/merchants",
        json={"name": "Till test"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=10,
    )
    assert reply.status_code == 201
    return reply.json()["merchant_id"], {"X-Api-Key": reply.json()["api_key"]}


def enroll(local: RunningStack, key: dict[str, str], phone: str) -> dict[str, Any]:
    reply = requests.post(f"{local.api}/v1/members", json={"phone": phone}, headers=key, timeout=10)
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def ledger_total(local: RunningStack, key: dict[str, str], member_id: str) -> int:
    total, cursor = 0, None
    while True:
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        page = requests.get(
            f"{local.api}/v1/members/{member_id}/transactions", params=params, headers=key, timeout=10
        ).json()
        total += sum(entry["points"] for entry in page["entries"])
        cursor = page["next_cursor"]
        if not cursor:
            return total


def test_fifty_concurrent_redemptions_against_a_balance_covering_ten(local: RunningStack) -> None:
    _, key = new_merchant(local)
    member = enroll(local, key, "+79163334455")
    earned = requests.post(
        f"{local.api}/v1/purchases",
        headers=key,
        timeout=10,
        json={"transaction_id": "big-check", "member_id": member["member_id"], "amount_kopecks": 100_000},
    )
    assert earned.json()["points_earned"] == 10

    def spend(n: int) -> requests.Response:
        return requests.post(
            f"{local.api}/v1/redemptions",
            headers=key,
            timeout=60,
            json={
                "redemption_id": f"till-{n}",
                "member_id": member["member_id"],
                "points": 1,
                "amount_kopecks": 10_000,
            },
        )

    with ThreadPoolExecutor(max_workers=50) as pool:
        replies = list(pool.map(spend, range(50)))
    statuses = sorted(reply.status_code for reply in replies)
    assert statuses == [201] * 10 + [409] * 40, statuses
    assert {r.json()["error"]["code"] for r in replies if r.status_code == 409} == {"insufficient_points"}
    balance = requests.get(f"{local.api}/v1/members/{member['member_id']}", headers=key, timeout=10).json()["balance"]
    assert balance == 0 == ledger_total(local, key, member["member_id"])


def test_every_queue_message_twice_in_shuffled_order_grants_points_once(local: RunningStack) -> None:
    merchant_id, key = new_merchant(local)
    members = [enroll(local, key, f"+7916444{n:04d}") for n in range(5)]
    events = [
        {
            "merchant_id": merchant_id,
            "transaction_id": f"partner-{m}-{n}",
            "member_id": member["member_id"],
            "amount_kopecks": 10_000 * (n + 1),
        }
        for m, member in enumerate(members)
        for n in range(4)
    ]
    deliveries = [json.dumps(event) for event in events] * 2
    random.Random(7).shuffle(deliveries)
    sqs, queue = local.aws_client("sqs"), local.queue_url("purchase-events")
    issued = requests.post(f"{local.api}/v1/partners", json={"name": "Web shop"}, headers=key, timeout=10).json()
    partner = PartnerSender(issued["partner_id"], issued["signing_secret"])
    for start in range(0, len(deliveries), 10):
        batch = deliveries[start : start + 10]
        sqs.send_message_batch(
            QueueUrl=queue,
            Entries=[
                {"Id": str(i), "MessageBody": b, "MessageAttributes": partner.message_attributes(b)}
                for i, b in enumerate(batch)
            ],
        )
    expected = 1 + 2 + 3 + 4  # per member: 100, 200, 300, 400 roubles at 1 point per 100

    def settled() -> bool:
        return all(
            requests.get(f"{local.api}/v1/members/{m['member_id']}", headers=key, timeout=10).json()["balance"]
            == expected
            for m in members
        )

    wait_for(settled, timeout=30)
    for member in members:
        assert ledger_total(local, key, member["member_id"]) == expected
    wait_for(lambda: not sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages"), timeout=10)
    assert ledger_total(local, key, members[0]["member_id"]) == expected
