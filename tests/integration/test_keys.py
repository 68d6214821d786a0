"""Several named API keys per merchant with scopes: created (secret shown once), listed with their
last use, rotated with a grace period, revoked; a till key stays at the till."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest
from loyalty.clock import utcnow
from loyalty.errors import Unauthenticated
from loyalty.services import keys

from infra.local.provision import REGION
from tests.integration.conftest import create_merchant, new_phone
from tests.support.api import GatewayClient


def issue(keys_api: GatewayClient, name: str, scope: str) -> dict[str, Any]:
    reply = keys_api.post("/v1/keys", body={"name": name, "scope": scope})
    assert reply.status == 201, reply.body
    return dict(reply.body)


def client(app_module: str, secret: str) -> GatewayClient:
    module = __import__(f"functions.{app_module}.app", fromlist=["app"])
    return GatewayClient(module.app, {"X-Api-Key": secret})


def test_a_new_key_is_shown_once_and_stored_as_a_hash(keys_api: GatewayClient, merchant: dict[str, Any]) -> None:
    created = issue(keys_api, "Касса 1", "till")
    assert created["api_key"].startswith("lk_live_") and created["scope"] == "till"
    assert created["hint"].startswith("lk_live_") and created["hint"].endswith(created["api_key"][-4:])
    listed = keys_api.get("/v1/keys").body["keys"]
    assert [(k["name"], k["scope"], k["status"]) for k in listed] == [
        ("default", "full", "active"),
        ("Касса 1", "till", "active"),
    ]
    assert all("api_key" not in k for k in listed)
    items = boto3.resource("dynamodb", region_name=REGION).Table("credentials").scan()["Items"]  # a test may scan
    assert created["api_key"] not in repr(items) and merchant["api_key"] not in repr(items)


def test_a_till_key_works_the_till_and_nothing_else(keys_api: GatewayClient, members_api: GatewayClient) -> None:
    till = issue(keys_api, "Касса 2", "till")["api_key"]
    member = client("members", till).post("/v1/members", body={"phone": new_phone()})
    assert member.status == 201
    purchase = client("accrue", till).post(
        "/v1/purchases", body={"transaction_id": "t-1", "member_id": member.body["member_id"], "amount_kopecks": 10_000}
    )
    assert purchase.status == 201
    for app_module, path in (("keys", "/v1/keys"), ("audit", "/v1/audit"), ("program", "/v1/program")):
        refused = client(app_module, till).get(path)
        assert refused.status == 403, path
        assert refused.body["error"]["message"].startswith("an API key with scope till may not do this")
    integration = issue(keys_api, "CRM", "integration")["api_key"]
    assert client("program", integration).get("/v1/program").status == 200
    assert client("keys", integration).get("/v1/keys").status == 403


def test_a_revoked_key_is_refused_from_the_next_request(keys_api: GatewayClient) -> None:
    created = issue(keys_api, "Старая касса", "till")
    till = client("members", created["api_key"])
    assert till.get("/v1/members", query={"phone": new_phone()}).status == 200
    revoked = keys_api.post("/v1/keys/{key_id}/revoke", path_params={"key_id": created["key_id"]})
    assert revoked.status == 200 and revoked.body["status"] == "revoked" and revoked.body["revoked_at"]
    assert till.get("/v1/members", query={"phone": new_phone()}).status == 401
    again = keys_api.post("/v1/keys/{key_id}/revoke", path_params={"key_id": created["key_id"]})
    assert again.status == 200 and again.body == revoked.body
    rotated = keys_api.post("/v1/keys/{key_id}/rotate", path_params={"key_id": created["key_id"]}, body={})
    assert rotated.status == 409 and rotated.body["error"]["code"] == "key_revoked"


def test_a_rotated_key_keeps_its_old_secret_for_the_grace_period_only(keys_api: GatewayClient) -> None:
    created = issue(keys_api, "Касса 3", "till")
    rotated = keys_api.post(
        "/v1/keys/{key_id}/rotate", path_params={"key_id": created["key_id"]}, body={"grace_hours": 2}
    )
    assert rotated.status == 200, rotated.body
    assert rotated.body["api_key"] != created["api_key"] and rotated.body["key_id"] == created["key_id"]
    now = utcnow()
    assert keys.authenticate(created["api_key"], now).actor_id == created["key_id"]  # within the grace period
    assert keys.authenticate(rotated.body["api_key"], now).actor_id == created["key_id"]
    with pytest.raises(Unauthenticated, match="grace period is over"):
        keys.authenticate(created["api_key"], now + timedelta(hours=2, seconds=1))
    assert keys.authenticate(rotated.body["api_key"], now + timedelta(days=30)).actor_id == created["key_id"]
    # rotating again at once ends the first secret now: a key has at most two secrets
    third = keys_api.post("/v1/keys/{key_id}/rotate", path_params={"key_id": created["key_id"]}, body={})
    with pytest.raises(Unauthenticated):
        keys.authenticate(created["api_key"], now)
    assert keys.authenticate(rotated.body["api_key"], now).actor_id == created["key_id"]
    assert third.body["previous_secret_valid_until"] is not None
    # and a revocation ends every secret of it
    keys_api.post("/v1/keys/{key_id}/revoke", path_params={"key_id": created["key_id"]})
    for secret in (rotated.body["api_key"], third.body["api_key"]):
        with pytest.raises(Unauthenticated):
            keys.authenticate(secret, now)


def test_a_rotation_without_grace_ends_the_old_secret_at_once(keys_api: GatewayClient) -> None:
    created = issue(keys_api, "Касса 4", "till")
    rotated = keys_api.post(
        "/v1/keys/{key_id}/rotate", path_params={"key_id": created["key_id"]}, body={"grace_hours": 0}
    )
    assert rotated.body["previous_secret_valid_until"] is None
    assert client("members", created["api_key"]).get("/v1/members", query={"phone": new_phone()}).status == 401
    assert client("members", rotated.body["api_key"]).get("/v1/members", query={"phone": new_phone()}).status == 200
    too_long = keys_api.post(
        "/v1/keys/{key_id}/rotate", path_params={"key_id": created["key_id"]}, body={"grace_hours": 169}
    )
    assert too_long.status == 400


def test_last_use_is_recorded_at_most_once_a_minute(keys_api: GatewayClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from loyalty.data import credentials

    created = issue(keys_api, "Касса 5", "till")
    writes: list[str] = []
    real_touch = credentials.touch_key

    def counted(key_id: str, *args: Any) -> bool:
        writes.append(key_id)
        return real_touch(key_id, *args)

    monkeypatch.setattr(credentials, "touch_key", counted)
    members = client("members", created["api_key"])
    for _ in range(5):
        assert members.get("/v1/members", query={"phone": new_phone()}).status == 200
    assert writes == [created["key_id"]]
    [listed] = [k for k in keys_api.get("/v1/keys").body["keys"] if k["key_id"] == created["key_id"]]
    assert listed["last_used_at"] is not None
    # another container (a fresh recorder) within the same minute does not move the stored time
    monkeypatch.setattr(keys, "uses", keys.UseRecorder())
    assert members.get("/v1/members", query={"phone": new_phone()}).status == 200
    [again] = [k for k in keys_api.get("/v1/keys").body["keys"] if k["key_id"] == created["key_id"]]
    assert again["last_used_at"] == listed["last_used_at"]


def test_a_merchant_cannot_touch_another_merchants_keys(admin: GatewayClient, keys_api: GatewayClient) -> None:
    other = create_merchant(admin, "Другая")
    for action in ("revoke", "rotate"):
        reply = keys_api.post(f"/v1/keys/{{key_id}}/{action}", path_params={"key_id": other["key_id"]}, body={})
        assert reply.status == 404, action
    assert client("members", other["api_key"]).get("/v1/members", query={"phone": new_phone()}).status == 200


def test_a_key_may_not_be_of_an_unknown_scope(keys_api: GatewayClient) -> None:
    reply = keys_api.post("/v1/keys", body={"name": "x", "scope": "root"})
    assert reply.status == 400
