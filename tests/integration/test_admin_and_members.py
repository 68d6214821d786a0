"""Merchants are created by the platform admin; members enroll and are found per merchant only."""

from __future__ import annotations

from typing import Any

import boto3

from infra.local.provision import REGION
from tests.integration.conftest import create_merchant, new_phone
from tests.support.api import GatewayClient


def test_admin_creates_a_merchant_whose_key_is_stored_only_as_a_hash(admin: GatewayClient) -> None:
    created = create_merchant(admin, "Салон «Лето»")
    assert created["merchant_id"].startswith("mch_")
    assert created["api_key"].startswith("lk_live_")
    dynamodb = boto3.resource("dynamodb", region_name=REGION)
    items = [item for table in ("merchants", "credentials") for item in dynamodb.Table(table).scan()["Items"]]
    dumped = repr(items)  # a test may scan; the product never does
    assert created["api_key"] not in dumped
    assert any(item["pk"].startswith("APIKEY#") for item in items)


def test_admin_route_refuses_wrong_or_missing_token(admin: GatewayClient) -> None:
    assert admin.post("/v1/admin/merchants", body={"name": "x"}, headers={"Authorization": "Bearer nope"}).status == 401
    no_token = GatewayClient(admin.app)
    assert no_token.post("/v1/admin/merchants", body={"name": "x"}).status == 401
    assert admin.post("/v1/admin/merchants", body={"name": ""}).status == 400


def test_enroll_normalises_the_phone_and_issues_a_virtual_card(members_api: GatewayClient) -> None:
    reply = members_api.post("/v1/members", body={"phone": "8 (916) 555-12-34", "name": "Иван"})
    assert reply.status == 201, reply.body
    member = reply.body
    assert member["phone"] == "+7916*****34"
    assert len(member["card_number"]) == 16
    assert member["balance"] == 0
    found = members_api.get("/v1/members", query={"phone": "+79165551234"})
    assert found.status == 200
    assert [m["member_id"] for m in found.body["members"]] == [member["member_id"]]
    by_card = members_api.get("/v1/members", query={"card": member["card_number"]})
    assert [m["member_id"] for m in by_card.body["members"]] == [member["member_id"]]


def test_the_same_phone_cannot_enroll_twice(members_api: GatewayClient, member: dict[str, Any]) -> None:
    phone = new_phone()
    first = members_api.post("/v1/members", body={"phone": phone})
    again = members_api.post("/v1/members", body={"phone": phone.replace("+7", "8")})
    assert again.status == 409
    assert again.body["error"]["code"] == "member_exists"
    assert again.body["error"]["details"]["member_id"] == first.body["member_id"]


def test_bad_enrollment_input_is_a_400_with_the_field(members_api: GatewayClient) -> None:
    for body, field in (
        ({"phone": "12"}, "phone"),
        ({"phone": new_phone(), "email": "not-an-email"}, "email"),
        ({"phone": new_phone(), "card_number": "1234567812345678"}, "card_number"),
        ({"phone": new_phone(), "unknown": 1}, "unknown"),
    ):
        reply = members_api.post("/v1/members", body=body)
        assert reply.status == 400, (body, reply.body)
        assert reply.body["error"]["code"] == "validation_error"
        assert field in repr(reply.body["error"]), reply.body


def test_personal_data_is_encrypted_at_rest(members_api: GatewayClient) -> None:
    phone, name, email = new_phone(), "Мария Петрова", "maria@example.ru"
    reply = members_api.post("/v1/members", body={"phone": phone, "name": name, "email": email})
    assert reply.status == 201
    assert reply.body["email"] == "m***@example.ru"
    raw = repr(boto3.resource("dynamodb", region_name=REGION).Table("members").scan()["Items"])
    for secret in (phone, phone[1:], name, email):
        assert secret not in raw


def test_a_merchant_key_never_reads_another_merchants_member(
    admin: GatewayClient, members_api: GatewayClient, member: dict[str, Any]
) -> None:
    from functions.members.app import app

    other = create_merchant(admin, "Other shop")
    other_api = GatewayClient(app, {"X-Api-Key": other["api_key"]})
    reply = other_api.get("/v1/members/{member_id}", path_params={"member_id": member["member_id"]})
    assert reply.status == 404
    assert other_api.get("/v1/members", query={"card": member["card_number"]}).body == {"members": []}
    assert members_api.get("/v1/members/{member_id}", path_params={"member_id": member["member_id"]}).status == 200


def test_unknown_or_missing_api_key_is_401(members_api: GatewayClient, member: dict[str, Any]) -> None:
    params = {"member_id": member["member_id"]}
    assert (
        members_api.get("/v1/members/{member_id}", path_params=params, headers={"X-Api-Key": "lk_live_forged"}).status
        == 401
    )
    assert GatewayClient(members_api.app).get("/v1/members/{member_id}", path_params=params).status == 401


def test_each_merchant_gets_a_usage_plan_key_that_its_authorizer_names(admin: GatewayClient) -> None:
    from loyalty.http.auth import merchant_key

    from tests.support.events import context, request_event

    created = create_merchant(admin, "Throttled shop")
    apigateway = boto3.client("apigateway", region_name=REGION)
    [plan] = apigateway.get_usage_plans()["items"]
    keys = apigateway.get_usage_plan_keys(usagePlanId=plan["id"])["items"]
    assert created["merchant_id"] in [key["name"] for key in keys]
    request = request_event("GET", "/v1/program", {"X-Api-Key": created["api_key"]})
    policy = merchant_key(request, context("authorizer"))
    value = apigateway.get_api_keys(includeValues=True, nameQuery=created["merchant_id"])["items"][0]["value"]
    assert policy["usageIdentifierKey"] == value
