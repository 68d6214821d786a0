"""The back office's rewards and orders: editing and retiring a reward leaves claimed coupons as
issued and valid; a SevenDar order is cancelled while SevenDar allows it, its points back once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import SEVENDAR
from tests.integration.conftest import earn
from tests.integration.test_gift_cards import place, standin_order, submit, webhook
from tests.support.api import GatewayClient


@pytest.fixture
def gift_api(merchant: dict[str, Any]) -> GatewayClient:
    from functions.gift_cards.app import app

    return GatewayClient(app, {"X-Api-Key": merchant["api_key"]})


def test_an_edited_or_retired_reward_leaves_claimed_coupons_as_issued_and_valid(
    rewards_api: GatewayClient, accrue_api: GatewayClient, member: dict[str, Any]
) -> None:
    earn(accrue_api, member, 500)
    assert (
        rewards_api.post("/v1/rewards", body={"reward_id": "latte", "name": "Латте", "cost_points": 150}).status == 201
    )
    claimed = rewards_api.post(
        "/v1/coupons", body={"claim_id": "c-1", "member_id": member["member_id"], "reward_id": "latte"}
    ).body
    edited = rewards_api.patch(
        "/v1/rewards/{reward_id}", path_params={"reward_id": "latte"}, body={"name": "Латте XL", "cost_points": 200}
    )
    assert (edited.status, edited.body["name"], edited.body["cost_points"], edited.body["active"]) == (
        200,
        "Латте XL",
        200,
        True,
    )
    retired = rewards_api.call("DELETE", "/v1/rewards/{reward_id}", path_params={"reward_id": "latte"})
    assert (retired.status, retired.body["active"]) == (200, False)
    assert [r["active"] for r in rewards_api.get("/v1/rewards").body["rewards"]] == [False]
    refused = rewards_api.post(
        "/v1/coupons", body={"claim_id": "c-2", "member_id": member["member_id"], "reward_id": "latte"}
    )
    assert (refused.status, refused.body["error"]["code"]) == (422, "reward_inactive")
    coupon = rewards_api.get("/v1/coupons/{code}", path_params={"code": claimed["code"]}).body
    assert (coupon["reward_name"], coupon["points_spent"], coupon["status"]) == ("Латте", 150, "issued")
    used = rewards_api.post("/v1/coupons/{code}/redeem", path_params={"code": claimed["code"]}, body={})
    assert used.status == 200 and used.body["status"] == "used"
    back = rewards_api.patch("/v1/rewards/{reward_id}", path_params={"reward_id": "latte"}, body={"active": True})
    assert back.body["active"] is True
    unknown = rewards_api.patch("/v1/rewards/{reward_id}", path_params={"reward_id": "nope"}, body={"name": "x"})
    assert (unknown.status, unknown.body["error"]["code"]) == (404, "reward_not_found")


def balance(members_api: GatewayClient, member: dict[str, Any]) -> int:
    reply = members_api.get("/v1/members/{member_id}", path_params={"member_id": member["member_id"]})
    return int(reply.body["balance"])


def cancel(gift_api: GatewayClient, order_id: str) -> Any:
    return gift_api.post("/v1/gift-cards/orders/{order_id}/cancel", path_params={"order_id": order_id})


def test_an_order_is_cancelled_while_sevendar_allows_it_and_its_points_come_back_once(
    gift_api: GatewayClient,
    accrue_api: GatewayClient,
    members_api: GatewayClient,
    merchant: dict[str, Any],
    member: dict[str, Any],
) -> None:
    earn(accrue_api, member, 1200)
    payment = {"method": "points", "member_id": member["member_id"]}
    assert place(gift_api, "GC-C1", quantity=1, nominal_kopecks=50_000, payment=payment).status == 201
    submit(merchant, "GC-C1")
    assert balance(members_api, member) == 700
    cancelled = cancel(gift_api, "GC-C1")
    assert (cancelled.status, cancelled.body["status"]) == (200, "cancelled")
    assert standin_order()["status"] == "cancelled"
    assert balance(members_api, member) == 1200
    assert cancel(gift_api, "GC-C1").body["status"] == "cancelled"  # again: nothing more
    assert webhook(gift_api, standin_order(), "cancelled").status == 200  # SevenDar's own notice of it
    assert balance(members_api, member) == 1200

    assert place(gift_api, "GC-C2", quantity=1, nominal_kopecks=50_000, payment=payment).status == 201
    assert cancel(gift_api, "GC-C2").body["status"] == "cancelled"  # not submitted yet: cancelled here
    assert submit(merchant, "GC-C2") == {"batchItemFailures": []}  # the worker skips it
    assert len(SEVENDAR.orders()) == 1
    assert balance(members_api, member) == 1200


def test_a_shipped_order_is_not_cancelled(gift_api: GatewayClient, merchant: dict[str, Any]) -> None:
    assert place(gift_api, "GC-S").status == 201
    submit(merchant, "GC-S")
    sd_order = standin_order()
    SEVENDAR.advance(sd_order["id"])  # in production
    SEVENDAR.advance(sd_order["id"])  # shipped: SevenDar refuses to cancel
    refused = cancel(gift_api, "GC-S")
    assert (refused.status, refused.body["error"]["code"]) == (409, "order_not_cancellable")
    assert webhook(gift_api, standin_order(), "shipped").status == 200
    refused = cancel(gift_api, "GC-S")
    assert (refused.status, refused.body["error"]["code"]) == (409, "order_not_cancellable")
    assert cancel(gift_api, "GC-unknown").status == 404
