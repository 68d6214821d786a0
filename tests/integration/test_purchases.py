"""Accrual over HTTP: base rate, idempotency on transaction_id, validation, refunds."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key

from infra.local.provision import REGION
from tests.support.api import GatewayClient


def purchase(accrue_api: GatewayClient, member: dict[str, Any], transaction_id: str, amount: int, **extra: Any) -> Any:
    return accrue_api.post(
        "/v1/purchases",
        body={
            "transaction_id": transaction_id,
            "member_id": member["member_id"],
            "amount_kopecks": amount,
            **extra,
        },
    )


def ledger_sum(member_id: str) -> int:
    table = boto3.resource("dynamodb", region_name=REGION).Table("ledger")
    items = [i for i in table.scan()["Items"] if i["member_id"] == member_id]
    return sum(int(i["points"]) for i in items)


def test_default_program_earns_one_point_per_100_roubles(accrue_api: GatewayClient, member: dict[str, Any]) -> None:
    reply = purchase(accrue_api, member, "T-1", 123_456)  # 1 234.56 RUB
    assert reply.status == 201, reply.body
    assert reply.body["points_earned"] == 12
    assert reply.body["breakdown"] == [{"rule": "base", "points": 12}]
    assert reply.body["balance"] == 12
    assert reply.body["lot"]["expires_on"].endswith(("-30", "-31", "-28", "-29"))


def test_a_purchase_posted_twice_earns_once(
    accrue_api: GatewayClient, members_api: GatewayClient, member: dict[str, Any]
) -> None:
    first = purchase(accrue_api, member, "T-2", 50_000)
    again = purchase(accrue_api, member, "T-2", 50_000)
    assert first.status == again.status == 201
    assert again.body == first.body
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    current = members_api.get("/v1/members/{member_id}", path_params={"member_id": member["member_id"]})
    assert current.body["balance"] == 5 == ledger_sum(member["member_id"])


def test_the_same_transaction_id_with_another_body_is_409(accrue_api: GatewayClient, member: dict[str, Any]) -> None:
    assert purchase(accrue_api, member, "T-3", 50_000).status == 201
    reply = purchase(accrue_api, member, "T-3", 60_000)
    assert reply.status == 409
    assert reply.body["error"]["code"] == "idempotency_conflict"


def test_concurrent_duplicates_of_one_purchase_earn_once(accrue_api: GatewayClient, member: dict[str, Any]) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda _: purchase(accrue_api, member, "T-race", 100_000), range(8)))
    assert {r.status for r in replies} == {201}
    assert sum(r.headers.get("Idempotent-Replayed") != "true" for r in replies) == 1
    assert ledger_sum(member["member_id"]) == 10


def test_purchase_by_card_and_by_phone(
    accrue_api: GatewayClient, member: dict[str, Any], members_api: GatewayClient
) -> None:
    by_card = accrue_api.post(
        "/v1/purchases",
        body={"transaction_id": "T-card", "card_number": member["card_number"], "amount_kopecks": 20_000},
    )
    assert by_card.status == 201, by_card.body
    assert by_card.body["member_id"] == member["member_id"]
    unknown = accrue_api.post(
        "/v1/purchases",
        body={"transaction_id": "T-nobody", "card_number": "7788000000000006", "amount_kopecks": 20_000},
    )
    assert unknown.status == 404


def test_invalid_purchases_are_400(accrue_api: GatewayClient, member: dict[str, Any]) -> None:
    base = {"transaction_id": "T-bad", "member_id": member["member_id"], "amount_kopecks": 1000}
    for change in (
        {"amount_kopecks": -1},
        {"transaction_id": ""},
        {"occurred_at": "yesterday"},
        {"lines": [{"amount_kopecks": 10}]},
        {"card_number": "7788000000000006"},
        {"occurred_at": "2999-01-01T00:00:00Z"},
    ):
        reply = accrue_api.post("/v1/purchases", body={**base, **change})
        assert reply.status == 400, (change, reply.body)
    assert accrue_api.post("/v1/purchases", body="{not json").status == 400


def test_refund_takes_back_the_refunded_share_once(accrue_api: GatewayClient, member: dict[str, Any]) -> None:
    assert purchase(accrue_api, member, "T-ref", 100_000).body["points_earned"] == 10
    refund = {"refund_id": "R-1", "amount_kopecks": 25_000}
    first = accrue_api.post(
        "/v1/purchases/{transaction_id}/refunds", path_params={"transaction_id": "T-ref"}, body=refund
    )
    assert first.status == 201, first.body
    assert first.body["points_clawed_back"] == 2
    again = accrue_api.post(
        "/v1/purchases/{transaction_id}/refunds", path_params={"transaction_id": "T-ref"}, body=refund
    )
    assert again.body == first.body
    rest = accrue_api.post(
        "/v1/purchases/{transaction_id}/refunds",
        path_params={"transaction_id": "T-ref"},
        body={"refund_id": "R-2", "amount_kopecks": 75_000},
    )
    assert rest.body["points_clawed_back"] == 8
    assert rest.body["balance"] == 0 == ledger_sum(member["member_id"])
    too_much = accrue_api.post(
        "/v1/purchases/{transaction_id}/refunds",
        path_params={"transaction_id": "T-ref"},
        body={"refund_id": "R-3", "amount_kopecks": 1},
    )
    assert too_much.status == 422
    missing = accrue_api.post(
        "/v1/purchases/{transaction_id}/refunds",
        path_params={"transaction_id": "nope"},
        body={"refund_id": "R-4", "amount_kopecks": 1},
    )
    assert missing.status == 404


def test_ledger_entries_are_keyed_by_member(accrue_api: GatewayClient, member: dict[str, Any]) -> None:
    purchase(accrue_api, member, "T-k1", 10_000)
    purchase(accrue_api, member, "T-k2", 20_000)
    table = boto3.resource("dynamodb", region_name=REGION).Table("ledger")
    pk = next(i["pk"] for i in table.scan()["Items"] if i["member_id"] == member["member_id"])
    entries = table.query(KeyConditionExpression=Key("pk").eq(pk))["Items"]
    assert [(e["kind"], int(e["points"])) for e in entries] == [("enrolled", 0), ("earn", 1), ("earn", 2)]


def test_backdated_purchases_are_limited_to_the_programs_window_and_to_membership(
    accrue_api: GatewayClient, program_api: GatewayClient, member: dict[str, Any]
) -> None:
    from datetime import UTC, datetime, timedelta

    from tests.integration.conftest import configure

    now = datetime.now(UTC)

    def dated(transaction_id: str, days_ago: float) -> Any:
        when = (now - timedelta(days=days_ago)).isoformat()
        return purchase(accrue_api, member, transaction_id, 100_000, occurred_at=when)

    assert dated("B-1", 0.5).status == 201  # the member joined just now: the purchase that made them join
    before = dated("B-2", 3)
    assert (before.status, before.body["error"]["code"]) == (422, "purchase_before_enrollment")
    configure(program_api, backdate_days=2)
    old = dated("B-3", 2.5)
    assert (old.status, old.body["error"]["code"]) == (422, "purchase_too_old")


def test_an_anonymous_purchase_is_held_to_the_same_backdating_window(
    accrue_api: GatewayClient, program_api: GatewayClient
) -> None:
    from datetime import UTC, datetime, timedelta

    from tests.integration.conftest import configure

    configure(program_api, backdate_days=2)
    old = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    reply = accrue_api.post(
        "/v1/purchases", body={"transaction_id": "anon-old", "amount_kopecks": 500, "occurred_at": old}
    )
    assert (reply.status, reply.body["error"]["code"]) == (422, "purchase_too_old")
    recent = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    fine = accrue_api.post(
        "/v1/purchases", body={"transaction_id": "anon-ok", "amount_kopecks": 500, "occurred_at": recent}
    )
    assert fine.status == 201 and fine.body["member_id"] is None
