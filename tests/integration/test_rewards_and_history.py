"""Rewards catalog, coupons used exactly once, expiry job, ledger history pages."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from loyalty.clock import utcnow

from infra.local.provision import Stack
from tests.integration.conftest import earn
from tests.integration.test_purchases import ledger_sum
from tests.integration.test_redemptions import balance
from tests.support.api import GatewayClient
from tests.support.expiry import run_expiry_job


def test_claim_a_reward_and_use_the_coupon_exactly_once(
    accrue_api: GatewayClient, rewards_api: GatewayClient, members_api: GatewayClient, member: dict[str, Any]
) -> None:
    earn(accrue_api, member, 100)
    created = rewards_api.post("/v1/rewards", body={"reward_id": "latte", "name": "Латте", "cost_points": 60})
    assert created.status == 201, created.body
    assert rewards_api.post("/v1/rewards", body={"reward_id": "latte", "name": "x", "cost_points": 1}).status == 409
    assert [r["reward_id"] for r in rewards_api.get("/v1/rewards").body["rewards"]] == ["latte"]
    claim = {"claim_id": "app-claim-1", "member_id": member["member_id"], "reward_id": "latte"}
    coupon = rewards_api.post("/v1/coupons", body=claim)
    assert coupon.status == 201, coupon.body
    assert coupon.body["status"] == "issued" and len(coupon.body["code"]) == 8
    assert rewards_api.post("/v1/coupons", body=claim).body == coupon.body
    assert balance(members_api, member) == 40 == ledger_sum(member["member_id"])
    assert rewards_api.post("/v1/coupons", body={**claim, "claim_id": "app-claim-2"}).status == 409  # 40 < 60

    code = coupon.body["code"]
    with ThreadPoolExecutor(max_workers=6) as pool:
        uses = list(
            pool.map(
                lambda n: rewards_api.post(
                    "/v1/coupons/{code}/redeem", path_params={"code": code}, body={"transaction_id": f"till-{n}"}
                ),
                range(6),
            )
        )
    assert sorted(u.status for u in uses) == [200] + [409] * 5
    looked_up = rewards_api.get("/v1/coupons/{code}", path_params={"code": code.lower()})
    assert looked_up.body["status"] == "used"


def test_expiry_job_expires_the_unspent_remainder_once(
    stack: Stack,
    accrue_api: GatewayClient,
    members_api: GatewayClient,
    redeem_api: GatewayClient,
    member: dict[str, Any],
) -> None:
    from tests.integration.test_redemptions import redeem

    earn(accrue_api, member, 30)
    assert redeem(redeem_api, member, "spend-some", 12).status == 201
    just_before = utcnow() + timedelta(days=365)
    assert run_expiry_job(stack, just_before)["points"] == 0
    after = utcnow() + timedelta(days=400)
    assert run_expiry_job(stack, after)["points"] == 18
    assert run_expiry_job(stack, after + timedelta(hours=1))["points"] == 0  # ran again (not deduplicated)
    assert balance(members_api, member) == 0 == ledger_sum(member["member_id"])


def test_history_is_paginated_newest_first(
    accrue_api: GatewayClient, members_api: GatewayClient, member: dict[str, Any]
) -> None:
    for n in range(5):
        earn(accrue_api, member, n + 1, transaction_id=f"H-{n}")
    params = {"member_id": member["member_id"]}
    first = members_api.get("/v1/members/{member_id}/transactions", path_params=params, query={"limit": "3"})
    assert first.status == 200, first.body
    assert [e["points"] for e in first.body["entries"]] == [5, 4, 3]
    second = members_api.get(
        "/v1/members/{member_id}/transactions",
        path_params=params,
        query={"limit": "3", "cursor": first.body["next_cursor"]},
    )
    assert [(e["kind"], e["points"]) for e in second.body["entries"]] == [("earn", 2), ("earn", 1), ("enrolled", 0)]
    assert second.body["next_cursor"] is None or second.body["entries"]
    assert first.body["entries"][0]["details"]["transaction_id"] == "H-4"
    bad = members_api.get("/v1/members/{member_id}/transactions", path_params=params, query={"limit": "1000"})
    assert bad.status == 400
