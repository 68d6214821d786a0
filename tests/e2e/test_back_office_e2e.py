"""The back office through the local stack: the platform admin creates a merchant and invites its
owner, staff sign in with Cognito (moto) and e-mails read from the dev inbox, a cashier is refused
a manager's route, a revoked key is refused, and the owner reads the audit log."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from loyalty.domain.partner_messages import signature

from infra.local.provision import REGION
from infra.template import ROOT
from tests.support.local_stack import ADMIN_TOKEN, RunningStack, Shop, running_stack, wait_for
from tests.support.staff import first_sign_in, temporary_password

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-back-office")]


@pytest.fixture(scope="module")
def local() -> Iterator[RunningStack]:
    with running_stack() as stack:
        yield stack


def inbox(local: RunningStack) -> list[dict[str, Any]]:
    reply = requests.get(f"{local.api}/_local/inbox", params={"channel": "email"}, timeout=10)
    assert reply.status_code == 200
    return list(reply.json()["messages"])


def poster(local: RunningStack) -> Any:
    def post(path: str, body: dict[str, Any]) -> tuple[int, Any]:
        reply = requests.post(f"{local.api}{path}", json=body, timeout=10)
        return reply.status_code, reply.json()

    return post


def call(local: RunningStack, method: str, path: str, headers: dict[str, str], body: Any = None) -> requests.Response:
    return requests.request(method, f"{local.api}{path}", json=body, headers=headers, timeout=10)


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def test_owner_and_cashier_sign_in_with_cognito_and_the_cashier_stays_at_the_till(local: RunningStack) -> None:
    created = call(
        local,
        "POST",
        "/v1/admin/merchants",
        {"Authorization": f"Bearer {ADMIN_TOKEN}"},
        {"name": "Кофейня «Зерно»", "owner_email": "owner@zerno.example"},
    ).json()
    assert created["owner"]["role"] == "owner"
    [invitation] = [m for m in inbox(local) if m["to"] == "owner@zerno.example"]
    assert invitation["kind"] == "staff_invitation" and invitation["channel"] == "email"
    owner = first_sign_in(poster(local), "owner@zerno.example", temporary_password([invitation], "owner@zerno.example"))
    me = call(local, "GET", "/v1/staff/me", bearer(owner)).json()
    assert (me["merchant_id"], me["role"]) == (created["merchant_id"], "owner")

    invited = call(local, "POST", "/v1/staff", bearer(owner), {"email": "kassa@zerno.example", "role": "cashier"})
    assert invited.status_code == 201, invited.text
    password = temporary_password(inbox(local), "kassa@zerno.example")
    cashier = first_sign_in(poster(local), "kassa@zerno.example", password)
    member = call(local, "POST", "/v1/members", bearer(cashier), {"phone": "+79165550101"})
    assert member.status_code == 201, member.text
    purchase = call(
        local,
        "POST",
        "/v1/purchases",
        bearer(cashier),
        {"transaction_id": "till-1", "member_id": member.json()["member_id"], "amount_kopecks": 40_000},
    )
    assert purchase.status_code == 201, purchase.text
    refused = call(local, "PUT", "/v1/program", bearer(cashier), {"program": {}})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert "staff with role cashier may not do this" in refused.json()["error"]["message"]

    audit = call(local, "GET", "/v1/audit", bearer(owner)).json()["entries"]
    refusal = next(entry for entry in audit if entry["action"] == "put_program")
    assert refusal["actor"] == {"kind": "staff", "id": invited.json()["staff_id"], "access": "cashier"}
    assert refusal["status"] == 403 and refusal["ip"] == "127.0.0.1"
    assert refusal["user_agent"].startswith("python-requests/")

    signed_out = call(local, "POST", "/v1/staff/auth/sign-out", bearer(cashier))
    assert signed_out.status_code == 200
    assert call(local, "GET", "/v1/staff/me", bearer(cashier)).status_code == 401


def test_a_revoked_key_is_refused_from_the_next_request(local: RunningStack) -> None:
    created = call(local, "POST", "/v1/admin/merchants", {"Authorization": f"Bearer {ADMIN_TOKEN}"}, {"name": "Ключи"})
    owner_key = {"X-Api-Key": created.json()["api_key"]}
    till = call(local, "POST", "/v1/keys", owner_key, {"name": "Касса 1", "scope": "till"}).json()
    till_key = {"X-Api-Key": till["api_key"]}
    assert call(local, "GET", "/v1/members?phone=%2B79165550102", till_key).status_code == 200
    assert call(local, "GET", "/v1/keys", till_key).status_code == 403  # a till key is not the owner's
    revoked = call(local, "POST", f"/v1/keys/{till['key_id']}/revoke", owner_key)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    after = call(local, "GET", "/v1/members?phone=%2B79165550102", till_key)
    assert after.status_code == 401
    assert after.json() == {"error": {"code": "unauthorized", "message": "missing or invalid credentials"}}
    listed = call(local, "GET", "/v1/keys", owner_key).json()["keys"]
    [shown] = [key for key in listed if key["key_id"] == till["key_id"]]
    assert shown["status"] == "revoked" and shown["last_used_at"] is not None


def readme_example(kind: str) -> str:
    """The code block the README marks ``<!-- partner-example: <kind> -->``."""
    after_marker = (ROOT / "README.md").read_text(encoding="utf-8").split(f"<!-- partner-example: {kind} -->", 1)[1]
    block = after_marker.split("```", 2)[1]
    return block.split("\n", 1)[1]


def test_a_partner_following_the_readme_credits_the_merchant_that_issued_its_key(local: RunningStack) -> None:
    shop = Shop(local, "Интернет-магазин")
    member = shop.call("POST", "/v1/members", {"phone": "+79990001122"})
    issued = shop.call("POST", "/v1/partners", {"name": "Web shop"})
    environment = {
        **os.environ,
        "AWS_ENDPOINT_URL": local.aws,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "PARTNER_KEY": issued["partner_id"],
        "SIGNING_SECRET": issued["signing_secret"],
        "QUEUE_URL": local.queue_url("purchase-events"),
    }
    subprocess.run([sys.executable, "-c", readme_example("python")], env=environment, check=True, timeout=60)

    def credited() -> bool:
        history = shop.call("GET", f"/v1/members/{member['member_id']}/transactions")
        return any(entry["details"].get("transaction_id") == "web-1" for entry in history["entries"])

    wait_for(credited, timeout=30)
    # The shell example computes the same signature as the consumer checks (it needs openssl,
    # which the aws CLI example uses too; machines without it skip only this comparison).
    if shutil.which("openssl"):
        lines = [*readme_example("shell").splitlines()[:2], 'printf "%s\\n" "$BODY" "$SIG"']
        out = subprocess.run(
            ["bash", "-c", "\n".join(lines)], env=environment, check=True, capture_output=True, text=True, timeout=30
        ).stdout.splitlines()
        assert out[1] == signature(issued["signing_secret"], out[0])
