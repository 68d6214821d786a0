"""Redemption at the till: quotes, cap, immediate and two-phase, idempotency, holds lapsing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from loyalty.clock import utcnow

from tests.integration.conftest import earn
from tests.integration.test_purchases import ledger_sum
from tests.support.api import GatewayClient


def redeem(
    api: GatewayClient,
    member: dict[str, Any],
    redemption_id: str,
    points: int,
    amount: int = 1_000_000,
    mode: str = "immediate",
) -> Any:
    return api.post(
        "/v1/redemptions",
        body={
            "redemption_id": redemption_id,
            "member_id": member["member_id"],
            "points": points,
            "amount_kopecks": amount,
            "mode": mode,
        },
    )


def balance(members_api: GatewayClient, member: dict[str, Any]) -> int:
    reply = members_api.get("/v1/members/{member_id}", path_params={"member_id": member["member_id"]})
    return int(reply.body["balance"])


def test_quote_respects_balance_and_the_cap(
    accrue_api: GatewayClient, redeem_api: GatewayClient, member: dict[str, Any]
) -> None:
    earn(accrue_api, member, 100)
    quote = redeem_api.post(
        "/v1/redemptions/quote", body={"member_id": member["member_id"], "amount_kopecks": 20_000, "points": 80}
    )
    assert quote.status == 200, quote.body
    # 30 % of 200 roubles = 60 roubles = 60 points at 1 point = 1 rouble
    assert quote.body["max_points"] == 60
    assert quote.body["max_discount_kopecks"] == 6_000
    assert (quote.body["points"], quote.body["discount_kopecks"]) == (60, 6_000)
    assert quote.body["spendable"] == 100


def test_immediate_redemption_spends_once_and_replays(
    accrue_api: GatewayClient, redeem_api: GatewayClient, members_api: GatewayClient, member: dict[str, Any]
) -> None:
    earn(accrue_api, member, 50)
    first = redeem(redeem_api, member, "R-1", 20)
    again = redeem(redeem_api, member, "R-1", 20)
    assert first.status == again.status == 201, first.body
    assert first.body == again.body
    assert first.body["status"] == "completed"
    assert first.body["discount_kopecks"] == 2_000
    assert balance(members_api, member) == 30 == ledger_sum(member["member_id"])
    assert redeem(redeem_api, member, "R-1", 21).status == 409


def test_insufficient_points_is_409_and_changes_nothing(
    accrue_api: GatewayClient, redeem_api: GatewayClient, members_api: GatewayClient, member: dict[str, Any]
) -> None:
    earn(accrue_api, member, 10)
    reply = redeem(redeem_api, member, "R-2", 11)
    assert reply.status == 409
    assert reply.body["error"]["code"] == "insufficient_points"
    assert reply.body["error"]["details"] == {"requested": 11, "available": 10}
    assert balance(members_api, member) == 10 == ledger_sum(member["member_id"])


def test_over_the_cap_is_a_rule_violation(
    accrue_api: GatewayClient, redeem_api: GatewayClient, member: dict[str, Any]
) -> None:
    earn(accrue_api, member, 100)
    reply = redeem(redeem_api, member, "R-3", 31, amount=10_000)
    assert reply.status == 422
    assert reply.body["error"]["details"] == {"max_points": 30}


def test_hold_then_confirm_or_cancel(
    accrue_api: GatewayClient, redeem_api: GatewayClient, members_api: GatewayClient, member: dict[str, Any]
) -> None:
    earn(accrue_api, member, 100)
    held = redeem(redeem_api, member, "H-1", 40, mode="hold")
    assert held.body["status"] == "held"
    assert held.body["hold_expires_at"] is not None
    assert balance(members_api, member) == 60  # reserved at once: no other till can spend them
    confirmed = redeem_api.post("/v1/redemptions/{redemption_id}/confirm", path_params={"redemption_id": "H-1"})
    assert confirmed.status == 200 and confirmed.body["status"] == "completed"
    assert (
        redeem_api.post("/v1/redemptions/{redemption_id}/confirm", path_params={"redemption_id": "H-1"}).body["status"]
        == "completed"
    )
    redeem(redeem_api, member, "H-2", 10, mode="hold")
    cancelled = redeem_api.post("/v1/redemptions/{redemption_id}/cancel", path_params={"redemption_id": "H-2"})
    assert cancelled.body["status"] == "cancelled"
    assert (
        redeem_api.post("/v1/redemptions/{redemption_id}/cancel", path_params={"redemption_id": "H-2"}).body["status"]
        == "cancelled"
    )
    assert (
        redeem_api.post("/v1/redemptions/{redemption_id}/confirm", path_params={"redemption_id": "H-2"}).status == 409
    )
    assert balance(members_api, member) == 60 == ledger_sum(member["member_id"])
    assert (
        redeem_api.post("/v1/redemptions/{redemption_id}/cancel", path_params={"redemption_id": "nope"}).status == 404
    )


def test_unconfirmed_holds_lapse_on_their_own(
    accrue_api: GatewayClient, redeem_api: GatewayClient, members_api: GatewayClient, member: dict[str, Any]
) -> None:
    from functions.redeem.app import release_holds
    from tests.support.events import context

    earn(accrue_api, member, 100)
    redeem(redeem_api, member, "H-3", 25, mode="hold")
    now = utcnow()
    job = context("release-holds", timeout=300)
    assert release_holds({"time": (now + timedelta(minutes=5)).isoformat()}, job)["released"] == 0
    result = release_holds({"time": (now + timedelta(minutes=16)).isoformat()}, job)
    assert result["released"] == 1
    assert balance(members_api, member) == 100 == ledger_sum(member["member_id"])
    assert release_holds({"time": (now + timedelta(minutes=17)).isoformat()}, job)["released"] == 0
    late = redeem_api.post("/v1/redemptions/{redemption_id}/confirm", path_params={"redemption_id": "H-3"})
    assert late.status == 409


def test_concurrent_redemptions_never_overspend(
    accrue_api: GatewayClient, redeem_api: GatewayClient, members_api: GatewayClient, member: dict[str, Any]
) -> None:
    earn(accrue_api, member, 10)
    with ThreadPoolExecutor(max_workers=10) as pool:
        replies = list(pool.map(lambda n: redeem(redeem_api, member, f"C-{n}", 1), range(20)))
    assert sorted(r.status for r in replies) == [201] * 10 + [409] * 10
    assert balance(members_api, member) == 0 == ledger_sum(member["member_id"])


def test_moto_transactions_are_all_or_nothing_under_concurrency(stack: object) -> None:
    """The local stack's moto is patched to check every condition of a transaction before writing
    any of it, under one lock (infra/local/moto_patches.py): exactly one of many racing writers wins."""
    import boto3

    from infra.local.provision import REGION

    client = boto3.client("dynamodb", region_name=REGION)
    client.put_item(TableName="members", Item={"pk": {"S": "race"}, "sk": {"S": "X"}, "v": {"N": "0"}})

    def attempt(n: int) -> bool:
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": "members",
                            "Item": {"pk": {"S": "race"}, "sk": {"S": "X"}, "v": {"N": "1"}},
                            "ConditionExpression": "v = :zero",
                            "ExpressionAttributeValues": {":zero": {"N": "0"}},
                        }
                    },
                    {"Put": {"TableName": "ledger", "Item": {"pk": {"S": "race"}, "sk": {"S": str(n)}}}},
                ]
            )
        except client.exceptions.TransactionCanceledException:
            return False
        return True

    with ThreadPoolExecutor(max_workers=16) as pool:
        wins = sum(pool.map(attempt, range(64)))
    assert wins == 1
    written = client.query(
        TableName="ledger", KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": "race"}}
    )["Items"]
    assert len(written) == 1  # the losers wrote nothing
