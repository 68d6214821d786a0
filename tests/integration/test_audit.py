"""The audit log: every change made with a merchant's key or staff account (and every change refused
for the caller's role or scope), who, what, when, from where; read by the owner, page by page;
nothing personal in clear."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import boto3
from loyalty.clock import utcnow

from infra.local.provision import REGION
from tests.integration.conftest import new_phone
from tests.support.api import GatewayClient


def audit_of(merchant: dict[str, Any], **query: str) -> dict[str, Any]:
    from functions.audit.app import app

    reply = GatewayClient(app, {"X-Api-Key": merchant["api_key"]}).get("/v1/audit", query=query or None)
    assert reply.status == 200, reply.body
    return dict(reply.body)


def till_key(keys_api: GatewayClient) -> dict[str, Any]:
    reply = keys_api.post("/v1/keys", body={"name": "Касса 1", "scope": "till"})
    assert reply.status == 201
    return dict(reply.body)


def test_a_change_is_recorded_with_who_what_when_and_where(merchant: dict[str, Any], keys_api: GatewayClient) -> None:
    from functions.accrue.app import app as accrue_app
    from functions.members.app import app as members_app

    till = till_key(keys_api)
    phone = new_phone()
    members = GatewayClient(members_app, {"X-Api-Key": till["api_key"]})
    member = members.post("/v1/members", body={"phone": phone, "name": "Анна Петрова"}).body
    members.get("/v1/members/{member_id}", path_params={"member_id": member["member_id"]})  # a read: not audited
    accrue = GatewayClient(accrue_app, {"X-Api-Key": till["api_key"]})
    accrue.post(
        "/v1/purchases", body={"transaction_id": "till-7", "member_id": member["member_id"], "amount_kopecks": 5000}
    )
    entries = audit_of(merchant, actor=till["key_id"])["entries"]
    assert [e["action"] for e in entries] == ["post_purchase", "enroll_member"]  # newest first
    purchase = entries[0]
    assert purchase["actor"] == {"kind": "key", "id": till["key_id"], "access": "till"}
    assert purchase["route"] == "POST /v1/purchases" and purchase["status"] == 201
    assert purchase["targets"] == {"member_id": member["member_id"], "transaction_id": "till-7"}
    assert purchase["ip"] == "203.0.113.7" and purchase["user_agent"] == "pos-terminal/1.0"
    assert abs(utcnow() - datetime.fromisoformat(purchase["at"])) < timedelta(minutes=1)
    stored = boto3.resource("dynamodb", region_name=REGION).Table("audit").scan()["Items"]  # a test may scan
    dumped = repr(stored)
    for personal in ("203.0.113.7", "pos-terminal", phone, "Анна", "Петрова"):
        assert personal not in dumped, personal


def test_a_change_refused_for_the_role_is_recorded_too(merchant: dict[str, Any], keys_api: GatewayClient) -> None:
    from functions.program.app import app

    till = till_key(keys_api)
    refused = GatewayClient(app, {"X-Api-Key": till["api_key"]}).put("/v1/program", body={"program": {}})
    assert refused.status == 403
    [entry] = audit_of(merchant, actor=till["key_id"])["entries"]
    assert (entry["action"], entry["status"]) == ("put_program", 403)


def test_codes_are_shortened_and_the_log_is_read_by_time_and_page(
    merchant: dict[str, Any], rewards_api: GatewayClient, keys_api: GatewayClient
) -> None:
    before = utcnow()
    rewards_api.post("/v1/rewards", body={"reward_id": "latte", "name": "Латте", "cost_points": 10})
    rewards_api.post("/v1/coupons/{code}/redeem", path_params={"code": "K7F2Q9ABCD"}, body={})
    for n in range(3):
        keys_api.post("/v1/keys", body={"name": f"Касса {n}", "scope": "till"})
    everything = audit_of(merchant)["entries"]
    assert [e["action"] for e in everything] == ["create_key"] * 3 + ["post_reward"]  # the 404 is not a change
    page = audit_of(merchant, limit="2")
    assert len(page["entries"]) == 2 and page["next_cursor"]
    rest = audit_of(merchant, limit="2", cursor=page["next_cursor"])
    assert [e["entry_id"] for e in page["entries"] + rest["entries"]] == [e["entry_id"] for e in everything]
    assert rest["next_cursor"] is None or audit_of(merchant, cursor=rest["next_cursor"])["entries"] == []
    later, much_later = utcnow() + timedelta(hours=1), utcnow() + timedelta(hours=2)
    assert audit_of(merchant, **{"from": later.isoformat(), "to": much_later.isoformat()})["entries"] == []
    assert len(audit_of(merchant, **{"from": before.isoformat(), "to": utcnow().isoformat()})["entries"]) == 4


def test_a_coupon_code_in_the_path_is_kept_shortened() -> None:
    from loyalty.services import audit

    assert audit.targets({"code": "K7F2Q9ABCD"}, {"member_id": "mbr_1", "balance": 5}) == {
        "code": "…ABCD",
        "member_id": "mbr_1",
    }


def test_only_the_owner_reads_the_log_and_bad_queries_are_400(
    merchant: dict[str, Any], keys_api: GatewayClient
) -> None:
    from functions.audit.app import app

    integration = keys_api.post("/v1/keys", body={"name": "CRM", "scope": "integration"}).body
    assert GatewayClient(app, {"X-Api-Key": integration["api_key"]}).get("/v1/audit").status == 403
    owner = GatewayClient(app, {"X-Api-Key": merchant["api_key"]})
    now = utcnow()
    backwards = owner.get("/v1/audit", query={"from": now.isoformat(), "to": (now - timedelta(days=1)).isoformat()})
    assert backwards.status == 400
    assert owner.get("/v1/audit", query={"cursor": "!!!"}).status == 400
    assert owner.get("/v1/audit", query={"limit": "1000"}).status == 400


def test_another_merchants_log_is_not_visible(admin: GatewayClient, merchant: dict[str, Any]) -> None:
    from functions.keys.app import app
    from tests.integration.conftest import create_merchant

    other = create_merchant(admin, "Другая")
    GatewayClient(app, {"X-Api-Key": other["api_key"]}).post("/v1/keys", body={"name": "x", "scope": "till"})
    assert audit_of(merchant)["entries"] == []
    assert len(audit_of(other)["entries"]) == 1
