"""The mobile app on the local stack: sign in by the SMS code read from the dev inbox, see the
balance and history, claim a reward for a coupon, register a push token - all documented routes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support.local_stack import ADMIN_TOKEN, RunningStack, running_stack, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-member-app")]


@pytest.fixture(scope="module")
def local() -> Iterator[RunningStack]:
    with running_stack() as stack:
        yield stack


def test_a_member_signs_in_and_uses_the_app(local: RunningStack) -> None:
    api = local.api
    documented = {
        (method.upper(), path)
        for path, item in requests.get(f"{api}/openapi.json", timeout=10).json()["paths"].items()
        for method in item
    }
    used: set[tuple[str, str]] = set()

    def call(method: str, path: str, template: str | None = None, **kwargs: Any) -> requests.Response:
        used.add((method, template or path))
        return requests.request(method, f"{api}{path}", timeout=30, **kwargs)

    merchant = call(
        "POST", "/v1/admin/merchants", json={"name": "Чайная"}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ).json()
    key = {"X-Api-Key": merchant["api_key"]}
    phone = "+79163330011"
    member = call("POST", "/v1/members", json={"phone": phone, "name": "Лев"}, headers=key).json()
    call(
        "POST",
        "/v1/purchases",
        json={"transaction_id": "tea-1", "member_id": member["member_id"], "amount_kopecks": 500_000},
        headers=key,
    )
    call("POST", "/v1/rewards", json={"reward_id": "pu-erh", "name": "Пуэр 50 г", "cost_points": 30}, headers=key)

    assert (
        call("POST", "/v1/auth/code", json={"merchant_id": merchant["merchant_id"], "phone": phone}).status_code == 202
    )

    def code_from_inbox() -> str | None:
        messages = requests.get(f"{api}/_local/inbox", params={"channel": "sms", "to": phone}, timeout=10).json()
        texts = [m["text"] for m in messages["messages"] if m["kind"] == "sign_in_code"]
        found = re.search(r"\b(\d{6})\b", texts[-1]) if texts else None
        return found.group(1) if found else None

    code = wait_for(code_from_inbox, timeout=30)
    tokens = call(
        "POST", "/v1/auth/token", json={"merchant_id": merchant["merchant_id"], "phone": phone, "code": code}
    ).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = call("GET", "/v1/me", headers=bearer).json()
    assert (me["member_id"], me["balance"], me["name"]) == (member["member_id"], 50, "Лев")
    history = call("GET", "/v1/me/transactions", headers=bearer).json()["entries"]
    assert [e["kind"] for e in history] == ["earn", "enrolled"]
    card = call("GET", "/v1/me/card", headers=bearer).json()
    at_till = call("POST", "/v1/members/qr", json={"payload": card["qr_payload"]}, headers=key).json()
    assert at_till["member_id"] == member["member_id"]
    assert [r["reward_id"] for r in call("GET", "/v1/me/rewards", headers=bearer).json()["rewards"]] == ["pu-erh"]
    coupon = call(
        "POST",
        "/v1/me/rewards/pu-erh/claim",
        "/v1/me/rewards/{reward_id}/claim",
        json={"claim_id": "app-7"},
        headers=bearer,
    )
    assert coupon.status_code == 201, coupon.text
    assert [c["code"] for c in call("GET", "/v1/me/coupons", headers=bearer).json()["coupons"]] == [
        coupon.json()["code"]
    ]
    device = call(
        "POST", "/v1/me/push-tokens", json={"token": "fcm-e2e-token-123456", "platform": "fcm"}, headers=bearer
    )
    assert device.status_code == 201, device.text
    assert call("GET", "/v1/me", headers=bearer).json()["balance"] == 20
    assert used <= documented, used - documented
