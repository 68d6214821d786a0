"""Edges of the HTTP API that fuzzing (tests/e2e/test_fuzz.py) found or guards: odd ids in paths,
quiet hours with an offset, strict search parameters. Each answered a 5xx or broke a worker."""

from __future__ import annotations

from typing import Any

from tests.support.api import GatewayClient

TOO_LONG = "m" * 3000  # over DynamoDB's 2048-byte key limit, which the embedded moto enforces


def test_an_id_too_long_to_be_one_is_a_404_not_a_500(
    members_api: GatewayClient, accrue_api: GatewayClient, notify_api: GatewayClient
) -> None:
    member = members_api.get("/v1/members/{member_id}", path_params={"member_id": TOO_LONG})
    refund = accrue_api.post(
        "/v1/purchases/{transaction_id}/refunds",
        path_params={"transaction_id": TOO_LONG},
        body={"refund_id": "r-1", "amount_kopecks": 100},
    )
    campaign = notify_api.get("/v1/campaigns/{campaign_id}", path_params={"campaign_id": "é" * 1100})
    assert (member.status, refund.status, campaign.status) == (404, 404, 404)
    assert member.body["error"] == {
        "code": "not_found",
        "message": "no such member_id",
        "details": {"field": "member_id"},
    }


def test_a_device_is_forgotten_by_its_push_token_however_long(
    notify_api: GatewayClient, member: dict[str, Any]
) -> None:
    token = "t" * 1020  # as a key with its DEVICE# prefix it would be over the 1024-byte sort key limit
    path = {"member_id": member["member_id"]}
    registered = notify_api.post(
        "/v1/members/{member_id}/push-tokens", path_params=path, body={"token": token, "platform": "fcm"}
    )
    assert registered.status == 201, registered.body
    forgotten = notify_api.call(
        "DELETE", "/v1/members/{member_id}/push-tokens/{device_id}", path_params={**path, "device_id": token}
    )
    assert (forgotten.status, forgotten.body) == (200, {"deleted": True})


def test_quiet_hours_with_an_offset_are_refused(notify_api: GatewayClient) -> None:
    """They are wall-clock times where the member is; the worker refuses offsets, so every
    notification of the merchant would have failed."""
    before = notify_api.get("/v1/notification-settings").body
    reply = notify_api.put("/v1/notification-settings", body={"settings": {"quiet_start": "22:00:00+03:00"}})
    assert reply.status == 400, reply.body
    assert reply.body["error"]["details"][0]["field"] == "settings"
    assert notify_api.get("/v1/notification-settings").body == before
    assert notify_api.put("/v1/notification-settings", body={"settings": {"quiet_start": "23:30"}}).status == 200


def test_member_search_takes_a_phone_or_a_card_and_nothing_else(members_api: GatewayClient) -> None:
    assert members_api.get("/v1/members", query={"card": "1" * 33}).status == 400
    assert members_api.get("/v1/members", query={"card": "12345678", "limit": "5"}).status == 400
    assert members_api.get("/v1/members", query={"card": "12345678"}).body == {"members": []}


def test_deeply_nested_json_is_a_400_not_a_500(members_api: GatewayClient, merchant: dict[str, Any]) -> None:
    from functions.auth.app import app

    nested = "[" * 20_000 + "]" * 20_000  # 40 KB
    for client, route in ((members_api, "/v1/members"), (GatewayClient(app), "/v1/auth/code")):
        reply = client.post(route, body=nested)
        assert (reply.status, reply.body["error"]["code"]) == (400, "invalid_json"), route


def test_json_types_are_taken_as_they_are(
    accrue_api: GatewayClient, program_api: GatewayClient, member: dict[str, Any]
) -> None:
    boolean = accrue_api.post(
        "/v1/purchases", body={"transaction_id": "t-bool", "member_id": member["member_id"], "amount_kopecks": True}
    )
    assert boolean.status == 400 and boolean.body["error"]["details"][0]["field"] == "amount_kopecks"
    program = program_api.get("/v1/program").body["program"]
    for change in ({"expiry_warning_days": False}, {"cashback_percent": "0"}):
        reply = program_api.put("/v1/program", body={"program": {**program, **change}})
        assert reply.status == 400, (change, reply.body)
        assert next(iter(change)) in reply.body["error"]["details"][0]["field"]


def test_a_body_over_the_limit_is_a_413(members_api: GatewayClient) -> None:
    reply = members_api.post("/v1/members", body={"phone": "+79161234567", "name": "x" * 300_000})
    assert (reply.status, reply.body["error"]["code"]) == (413, "payload_too_large")


def test_an_unknown_time_zone_is_refused_where_it_enters(
    members_api: GatewayClient, program_api: GatewayClient
) -> None:
    enrolled = members_api.post("/v1/members", body={"phone": "+79161234588", "timezone": "Mars/Olympus_Mons"})
    assert enrolled.status == 400 and enrolled.body["error"]["details"][0]["field"] == "timezone"
    program = program_api.get("/v1/program").body["program"]
    assert program_api.put("/v1/program", body={"program": {**program, "timezone": "Mars/Olympus_Mons"}}).status == 400


def test_a_method_the_route_does_not_take_is_a_405_that_says_which_it_takes() -> None:
    from chalice.config import Config

    from functions.program.app import app
    from infra.local import gateway

    local = gateway.LoyaltyGateway(app, Config.create(chalice_stage="local", app_name="program", lambda_timeout=30))
    answer = local.handle_request("DELETE", "/v1/program", {"x-api-key": "any"}, b"")
    assert answer["statusCode"] == 405
    assert answer["headers"]["Allow"] == "GET, PUT"
