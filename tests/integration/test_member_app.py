"""The mobile app: sign-in by SMS code, tokens, /v1/me, the QR card, rewards, push devices,
erasure; and the security rules around all of it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from tests.integration.conftest import create_merchant, earn, new_phone
from tests.support.api import GatewayClient
from tests.support.notifications import notify, sms_sent


def auth_client() -> GatewayClient:
    from functions.auth.app import app

    return GatewayClient(app)


def me_client(token: str | None = None) -> GatewayClient:
    from functions.me.app import app

    return GatewayClient(app, {"Authorization": f"Bearer {token}"} if token else {})


def sign_in(merchant: dict[str, Any], phone: str) -> dict[str, Any]:
    """The whole flow as an app does it: ask for a code, read the SMS, exchange the code."""
    from loyalty.events import DomainEvent

    from functions.auth import app as auth_app

    published: list[DomainEvent] = []
    original = auth_app.publish
    auth_app.publish = lambda bus, events: published.extend(events) or len(published)  # type: ignore[assignment]
    try:
        asked = auth_client().post("/v1/auth/code", body={"merchant_id": merchant["merchant_id"], "phone": phone})
    finally:
        auth_app.publish = original
    assert asked.status == 202, asked.body
    notify(*published)  # the notify worker texts it, as the bus would route it
    [(_, text)] = sms_sent(phone)[-1:]
    code = re.search(r"\b(\d{6})\b", text)
    assert code, text
    tokens = auth_client().post(
        "/v1/auth/token", body={"merchant_id": merchant["merchant_id"], "phone": phone, "code": code.group(1)}
    )
    assert tokens.status == 200, tokens.body
    return dict(tokens.body)


@pytest.fixture
def signed_in(
    merchant: dict[str, Any], members_api: GatewayClient, accrue_api: GatewayClient
) -> tuple[dict[str, Any], dict[str, Any], str]:
    phone = new_phone()
    member = members_api.post("/v1/members", body={"phone": phone, "name": "Катя"}).body
    earn(accrue_api, member, 300)
    return member, sign_in(merchant, phone), phone


def test_sign_in_by_sms_code_and_see_balance_and_history(signed_in: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    member, tokens, _ = signed_in
    me = me_client(tokens["access_token"])
    profile = me.get("/v1/me")
    assert profile.status == 200, profile.body
    assert (profile.body["member_id"], profile.body["balance"]) == (member["member_id"], 300)
    history = me.get("/v1/me/transactions")
    assert [e["kind"] for e in history.body["entries"]] == ["earn", "enrolled"]


def test_codes_are_single_use_and_wrong_codes_are_refused(merchant: dict[str, Any], members_api: GatewayClient) -> None:
    phone = new_phone()
    members_api.post("/v1/members", body={"phone": phone})
    sign_in(merchant, phone)
    [(_, text)] = sms_sent(phone)[-1:]
    used = re.search(r"\b(\d{6})\b", text)
    assert used
    again = auth_client().post(
        "/v1/auth/token", body={"merchant_id": merchant["merchant_id"], "phone": phone, "code": used.group(1)}
    )
    assert again.status == 401 and again.body["error"]["code"] == "invalid_code"


def test_asking_for_a_code_does_not_reveal_who_is_a_member(merchant: dict[str, Any]) -> None:
    stranger = auth_client().post("/v1/auth/code", body={"merchant_id": merchant["merchant_id"], "phone": new_phone()})
    assert stranger.status == 202 and stranger.body == {"sent": True, "expires_in": 300}


def test_code_requests_are_limited_per_phone(merchant: dict[str, Any], members_api: GatewayClient) -> None:
    phone = new_phone()
    members_api.post("/v1/members", body={"phone": phone})
    statuses = [
        auth_client().post("/v1/auth/code", body={"merchant_id": merchant["merchant_id"], "phone": phone}).status
        for _ in range(5)
    ]
    assert statuses == [202, 202, 202, 429, 429]


def test_refresh_rotates_and_a_reused_refresh_token_ends_the_session(
    signed_in: tuple[dict[str, Any], dict[str, Any], str],
) -> None:
    _, tokens, _ = signed_in
    fresh = auth_client().post("/v1/auth/refresh", body={"refresh_token": tokens["refresh_token"]})
    assert fresh.status == 200 and fresh.body["refresh_token"] != tokens["refresh_token"]
    stolen = auth_client().post("/v1/auth/refresh", body={"refresh_token": tokens["refresh_token"]})
    assert stolen.status == 401
    assert me_client(fresh.body["access_token"]).get("/v1/me").status == 401  # the session is revoked


def test_sign_out_revokes_the_tokens(signed_in: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    from functions.auth.app import app

    _, tokens, _ = signed_in
    out = GatewayClient(app, {"Authorization": f"Bearer {tokens['access_token']}"}).post("/v1/auth/sign-out")
    assert out.status == 200
    assert me_client(tokens["access_token"]).get("/v1/me").status == 401
    assert auth_client().post("/v1/auth/refresh", body={"refresh_token": tokens["refresh_token"]}).status == 401


def test_profile_changes_and_the_birthday_is_set_once(signed_in: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    _, tokens, _ = signed_in
    me = me_client(tokens["access_token"])
    changed = me.call(
        "PATCH",
        "/v1/me",
        body={
            "name": "Екатерина",
            "birthday": "1993-04-02",
            "language": "en",
            "timezone": "Asia/Yekaterinburg",
            "consents": {"marketing": True},
        },
    )
    assert changed.status == 200, changed.body
    assert (changed.body["name"], changed.body["language"], changed.body["consents"]["marketing"]) == (
        "Екатерина",
        "en",
        True,
    )
    again = me.call("PATCH", "/v1/me", body={"birthday": "1993-05-02"})
    assert again.status == 409 and again.body["error"]["code"] == "birthday_already_set"
    assert me.call("PATCH", "/v1/me", body={"timezone": "Mars/Base"}).status == 400


def test_the_qr_card_is_signed_short_lived_and_merchant_bound(
    signed_in: tuple[dict[str, Any], dict[str, Any], str],
    members_api: GatewayClient,
    admin: GatewayClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from functions.me import app as me_app
    from functions.members.app import app as members_app

    member, tokens, _ = signed_in
    card = me_client(tokens["access_token"]).get("/v1/me/card").body
    scanned = members_api.post("/v1/members/qr", body={"payload": card["qr_payload"]})
    assert scanned.status == 200 and scanned.body["member_id"] == member["member_id"]
    other = create_merchant(admin, "Another shop")
    elsewhere = GatewayClient(members_app, {"X-Api-Key": other["api_key"]}).post(
        "/v1/members/qr", body={"payload": card["qr_payload"]}
    )
    assert elsewhere.status == 404
    monkeypatch.setattr(me_app, "utcnow", lambda: datetime.now(UTC) - timedelta(minutes=5))
    old = me_client(tokens["access_token"]).get("/v1/me/card").body
    replayed = members_api.post("/v1/members/qr", body={"payload": old["qr_payload"]})
    assert replayed.status == 404 and replayed.body["error"]["code"] == "qr_expired"


def test_claim_a_reward_in_the_app_and_see_the_coupon(
    signed_in: tuple[dict[str, Any], dict[str, Any], str], rewards_api: GatewayClient
) -> None:
    _, tokens, _ = signed_in
    rewards_api.post("/v1/rewards", body={"reward_id": "cake", "name": "Пирожное", "cost_points": 120})
    me = me_client(tokens["access_token"])
    assert [r["reward_id"] for r in me.get("/v1/me/rewards").body["rewards"]] == ["cake"]
    claimed = me.post("/v1/me/rewards/{reward_id}/claim", path_params={"reward_id": "cake"}, body={"claim_id": "app-1"})
    assert claimed.status == 201, claimed.body
    assert [c["code"] for c in me.get("/v1/me/coupons").body["coupons"]] == [claimed.body["code"]]
    assert me.get("/v1/me").body["balance"] == 180


def test_push_token_registration(signed_in: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    _, tokens, _ = signed_in
    me = me_client(tokens["access_token"])
    device = me.post("/v1/me/push-tokens", body={"token": "apns-device-token-01", "platform": "apns"})
    assert device.status == 201, device.body
    removed = me.call("DELETE", "/v1/me/push-tokens/{device_id}", path_params={"device_id": device.body["device_id"]})
    assert removed.status == 200


def test_erasure_removes_personal_data_and_keeps_the_ledger(
    signed_in: tuple[dict[str, Any], dict[str, Any], str], members_api: GatewayClient
) -> None:
    import boto3

    from infra.local.provision import REGION

    member, tokens, phone = signed_in
    assert me_client(tokens["access_token"]).call("DELETE", "/v1/me").status == 200
    assert members_api.get("/v1/members/{member_id}", path_params={"member_id": member["member_id"]}).status == 404
    assert members_api.get("/v1/members", query={"phone": phone}).body == {"members": []}
    assert me_client(tokens["access_token"]).get("/v1/me").status == 404
    item = next(
        i
        for i in boto3.resource("dynamodb", region_name=REGION).Table("members").scan()["Items"]
        if i.get("member_id") == member["member_id"] and i["sk"] == "MEMBER"
    )
    assert (item["status"], item["phone_enc"], item.get("name_enc")) == ("erased", "", None)
    ledger = [
        i
        for i in boto3.resource("dynamodb", region_name=REGION).Table("ledger").scan()["Items"]
        if i["member_id"] == member["member_id"]
    ]
    assert [i["kind"] for i in sorted(ledger, key=lambda i: i["sk"])] == ["enrolled", "earn", "erased"]


# ---- security: every member route refuses what it must, and leaks nothing -------------------
MEMBER_ROUTES = [
    ("GET", "/v1/me", None),
    ("PATCH", "/v1/me", None),
    ("DELETE", "/v1/me", None),
    ("GET", "/v1/me/transactions", None),
    ("GET", "/v1/me/card", None),
    ("GET", "/v1/me/rewards", None),
    ("POST", "/v1/me/rewards/{reward_id}/claim", {"reward_id": "x"}),
    ("GET", "/v1/me/coupons", None),
    ("POST", "/v1/me/push-tokens", None),
    ("DELETE", "/v1/me/push-tokens/{device_id}", {"device_id": "x" * 32}),
]


def _forged_tokens(tokens: dict[str, Any]) -> dict[str, str]:
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    expired = {**claims, "exp": int((datetime.now(UTC) - timedelta(minutes=1)).timestamp())}
    return {
        "no token": "",
        "garbage": "not-a-jwt",
        "wrong key": jwt.encode(claims, "a-secret-an-attacker-guessed-wrong", algorithm="HS256"),
        "expired": jwt.encode(expired, "a-secret-an-attacker-guessed-wrong", algorithm="HS256"),
        "unsigned": jwt.encode(claims, None, algorithm="none") if hasattr(jwt, "encode") else "x",
        "merchant key as bearer": "lk_live_something",
    }


def test_every_member_route_refuses_missing_forged_and_expired_tokens(
    signed_in: tuple[dict[str, Any], dict[str, Any], str],
) -> None:
    _, tokens, _ = signed_in
    for label, token in _forged_tokens(tokens).items():
        for method, path, params in MEMBER_ROUTES:
            reply = me_client(token or None).call(method, path, path_params=params, body={})
            assert reply.status == 401, (label, method, path, reply.body)


def test_an_expired_but_genuine_token_is_refused(
    signed_in: tuple[dict[str, Any], dict[str, Any], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyalty import runtime
    from loyalty.services import auth

    _, tokens, _ = signed_in
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    key = runtime.current().keys().token_key
    expired = jwt.encode({**claims, "exp": int(datetime.now(UTC).timestamp()) - 1}, key, algorithm=auth.ALGORITHM)
    assert me_client(expired).get("/v1/me").status == 401


def test_a_member_token_reaches_only_its_own_member_and_never_merchant_routes(
    signed_in: tuple[dict[str, Any], dict[str, Any], str],
    merchant: dict[str, Any],
    members_api: GatewayClient,
    admin: GatewayClient,
) -> None:
    from functions.members.app import app as members_app

    member, tokens, _ = signed_in
    other = members_api.post("/v1/members", body={"phone": new_phone()}).body
    bearer = {"Authorization": f"Bearer {tokens['access_token']}", "X-Api-Key": tokens["access_token"]}
    as_merchant = GatewayClient(members_app, bearer).get(
        "/v1/members/{member_id}", path_params={"member_id": other["member_id"]}
    )
    assert as_merchant.status == 401
    assert me_client(tokens["access_token"]).get("/v1/me").body["member_id"] == member["member_id"]
    # a merchant's API key is not a member token
    assert me_client(merchant["api_key"]).get("/v1/me").status == 401
    # another merchant's member cannot be reached with this merchant's key, and the answer is a
    # plain 404 whether or not the id exists
    stranger = create_merchant(admin, "Stranger")
    foreign = GatewayClient(members_app, {"X-Api-Key": stranger["api_key"]})
    known = foreign.get("/v1/members/{member_id}", path_params={"member_id": member["member_id"]})
    unknown = foreign.get("/v1/members/{member_id}", path_params={"member_id": "mbr_00000000000000000000000000"})
    assert known.status == unknown.status == 404
    assert known.body == unknown.body


def test_every_merchant_route_refuses_another_merchants_key_without_leaking(
    signed_in: tuple[dict[str, Any], dict[str, Any], str], admin: GatewayClient
) -> None:
    """Each route that names a member, purchase, redemption, coupon or order answers another
    merchant's key exactly as it answers an id that does not exist."""
    import importlib

    member, _, _ = signed_in
    stranger = create_merchant(admin, "Stranger")
    probes = [
        ("members", "GET", "/v1/members/{member_id}", {"member_id": member["member_id"]}, None),
        ("members", "GET", "/v1/members/{member_id}/transactions", {"member_id": member["member_id"]}, None),
        ("notify", "GET", "/v1/members/{member_id}/consents", {"member_id": member["member_id"]}, None),
        ("notify", "GET", "/v1/members/{member_id}/notifications", {"member_id": member["member_id"]}, None),
        (
            "accrue",
            "POST",
            "/v1/purchases/{transaction_id}/refunds",
            {"transaction_id": "earn-1000"},
            {"refund_id": "x", "amount_kopecks": 1},
        ),
        (
            "bonuses",
            "POST",
            "/v1/members/{member_id}/bonus-actions",
            {"member_id": member["member_id"]},
            {"type": "review", "external_id": "x"},
        ),
    ]
    for module, method, path, params, body in probes:
        app = importlib.import_module(f"functions.{module}.app").app
        client = GatewayClient(app, {"X-Api-Key": stranger["api_key"]})
        real = client.call(method, path, path_params=params, body=body)
        fake_params = {k: v[:4] + "0" * (len(v) - 4) for k, v in params.items()}
        fake = client.call(method, path, path_params=fake_params, body=body)
        assert real.status in (404, 422), (path, real.body)
        assert (real.status, real.body["error"]["code"]) == (fake.status, fake.body["error"]["code"]), path


def test_concurrent_guesses_compare_at_most_five_tries_of_a_code(
    merchant: dict[str, Any], members_api: GatewayClient
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from functions.auth import app as auth_app

    phone = new_phone()
    members_api.post("/v1/members", body={"phone": phone})
    original = auth_app.publish
    auth_app.publish = lambda bus, events: len(list(events))  # type: ignore[assignment]
    try:
        assert (
            auth_client().post("/v1/auth/code", body={"merchant_id": merchant["merchant_id"], "phone": phone}).status
            == 202
        )
    finally:
        auth_app.publish = original

    def guess(n: int) -> Any:
        body = {"merchant_id": merchant["merchant_id"], "phone": phone, "code": f"{n:06d}"}
        return auth_client().post("/v1/auth/token", body=body)

    with ThreadPoolExecutor(max_workers=13) as pool:
        replies = list(pool.map(guess, range(13)))
    compared = [r for r in replies if r.status in (200, 401)]
    refused = [r for r in replies if r.status == 429]
    assert len(compared) <= 5 and len(refused) >= 8
    assert {r.body["error"]["code"] for r in refused} <= {"too_many_attempts", "rate_limited"}
    assert all("Retry-After" in r.headers for r in refused)

    from loyalty.data import operations
    from loyalty.runtime import current

    phone_hash = current().cipher().lookup_hash("phone", phone)
    stored = operations.sign_in_code(merchant["merchant_id"], phone_hash)
    assert stored is not None and stored.attempts == 5  # never more, however many came at once


def test_a_wrong_refresh_secret_does_not_end_someone_elses_session(
    signed_in: tuple[dict[str, Any], dict[str, Any], str],
) -> None:
    _, tokens, _ = signed_in
    session_id = tokens["refresh_token"].split(".", 1)[0]  # readable in the access token too
    attack = auth_client().post("/v1/auth/refresh", body={"refresh_token": f"{session_id}.guessed"})
    assert attack.status == 401
    assert me_client(tokens["access_token"]).get("/v1/me").status == 200
    assert auth_client().post("/v1/auth/refresh", body={"refresh_token": tokens["refresh_token"]}).status == 200


def test_claiming_a_reward_id_no_reward_can_have_is_a_404(
    signed_in: tuple[dict[str, Any], dict[str, Any], str],
) -> None:
    _, tokens, _ = signed_in
    me = me_client(tokens["access_token"])
    for reward_id in ("no such reward!", "-dash-first", "é" * 70):
        reply = me.post(
            "/v1/me/rewards/{reward_id}/claim", path_params={"reward_id": reward_id}, body={"claim_id": "c1"}
        )
        assert (reply.status, reply.body["error"]["code"]) == (404, "reward_not_found"), reward_id


def test_a_member_keeps_at_most_five_devices_the_newest(signed_in: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    from loyalty.data import members

    member, tokens, _ = signed_in
    me = me_client(tokens["access_token"])
    ids = [
        me.post("/v1/me/push-tokens", body={"token": f"fcm-token-{n:02d}", "platform": "fcm"}).body["device_id"]
        for n in range(8)
    ]
    from loyalty.data import operations

    session = operations.get_session(tokens["refresh_token"].split(".", 1)[0])
    assert session is not None
    kept = {device.device_id for device in members.devices(session.merchant_id, member["member_id"])}
    assert kept == set(ids[-5:])
