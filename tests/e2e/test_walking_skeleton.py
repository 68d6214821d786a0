"""The local stack end to end, as `make run` starts it: HTTP and the partner queue."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support.local_stack import ADMIN_TOKEN, DEMO_KEY, RunningStack, running_stack, wait_for
from tests.support.partners import PartnerSender

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-skeleton")]


@pytest.fixture(scope="module")
def local() -> Iterator[RunningStack]:
    with running_stack() as stack:
        yield stack


def post(local: RunningStack, path: str, body: Any, headers: dict[str, str]) -> requests.Response:
    return requests.post(f"{local.api}{path}", json=body, headers=headers, timeout=10)


def test_health_and_ready_quickly(local: RunningStack) -> None:
    health = requests.get(f"{local.api}/health", timeout=5)
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    print(f"\nmake-run equivalent healthy after {local.seconds_to_healthy:.2f}s")
    assert local.seconds_to_healthy < 60


def test_merchant_member_purchase_flow_over_http(local: RunningStack) -> None:
    created = post(local, "/v1/admin/merchants", {"name": "E2E Bakery"}, {"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert created.status_code == 201, created.text
    key = {"X-Api-Key": created.json()["api_key"]}
    member = post(local, "/v1/members", {"phone": "+79161112233", "name": "Ольга"}, key).json()
    first = post(
        local,
        "/v1/purchases",
        {"transaction_id": "pos-1", "card_number": member["card_number"], "amount_kopecks": 250_000},
        key,
    )
    again = post(
        local,
        "/v1/purchases",
        {"transaction_id": "pos-1", "card_number": member["card_number"], "amount_kopecks": 250_000},
        key,
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["points_earned"] == 25
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    found = requests.get(f"{local.api}/v1/members", params={"phone": "89161112233"}, headers=key, timeout=5).json()
    assert found["members"][0]["balance"] == 25
    other = requests.get(f"{local.api}/v1/members/{member['member_id']}", headers={"X-Api-Key": DEMO_KEY}, timeout=5)
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "member_not_found"
    anonymous = requests.get(f"{local.api}/v1/members/{member['member_id']}", timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.json() == {"error": {"code": "unauthorized", "message": "missing or invalid credentials"}}


def test_partner_queue_applies_events_and_parks_a_malformed_one_in_the_dlq(local: RunningStack) -> None:
    created = post(local, "/v1/admin/merchants", {"name": "Partner shop"}, {"Authorization": f"Bearer {ADMIN_TOKEN}"})
    merchant = created.json()
    key = {"X-Api-Key": merchant["api_key"]}
    member = post(local, "/v1/members", {"phone": "+79161112244"}, key).json()
    sqs = local.aws_client("sqs")
    queue = local.queue_url("purchase-events")
    bodies = [
        json.dumps(
            {
                "merchant_id": merchant["merchant_id"],
                "transaction_id": f"web-{n}",
                "member_id": member["member_id"],
                "amount_kopecks": 100_000,
            }
        )
        for n in range(3)
    ]
    issued = post(local, "/v1/partners", {"name": "Web shop"}, key).json()
    partner = PartnerSender(issued["partner_id"], issued["signing_secret"])
    sent = [("0", bodies[0]), ("bad", '{"merchant_id": 42}'), ("1", bodies[1]), ("2", bodies[2]), ("dup", bodies[0])]
    sqs.send_message_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": name, "MessageBody": body, "MessageAttributes": partner.message_attributes(body)}
            for name, body in sent
        ],
    )

    def balance() -> int:
        reply = requests.get(f"{local.api}/v1/members/{member['member_id']}", headers=key, timeout=5)
        return int(reply.json()["balance"])

    wait_for(lambda: balance() == 30, timeout=20)
    dlq = local.queue_url("purchase-events-dlq")
    dead = wait_for(lambda: sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"]).get("Messages"))
    assert [m["Body"] for m in dead] == ['{"merchant_id": 42}']
    assert dead[0]["MessageAttributes"]["failure_code"]["StringValue"] == "validation_error"
    assert balance() == 30
