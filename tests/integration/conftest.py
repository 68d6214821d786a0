"""Fixtures for handler tests on moto: apps of the functions, a merchant, clients with its key."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.provision import Stack
from tests.conftest import ADMIN_TOKEN
from tests.support.api import GatewayClient
from tests.support.iam import denied, recording
from tests.support.partners import PartnerSender

_phones = itertools.count(1000)


def new_phone() -> str:
    return f"+7916{next(_phones):07d}"


@pytest.fixture(autouse=True)
def iam_allows_what_the_functions_call(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each DynamoDB and Cognito call a function makes in a test is checked against that
    function's policy in template.yaml, as IAM would in AWS (tests/support/iam.py)."""
    if "stack" not in request.fixturenames:
        yield
        return
    stack: Stack = request.getfixturevalue("stack")
    with recording(stack) as recorder:
        yield
    refused = denied(stack, recorder.calls)
    assert refused == [], "template.yaml does not allow what these functions call:\n" + "\n".join(refused)


@pytest.fixture
def admin(stack: Stack) -> GatewayClient:
    from functions.admin.app import app

    return GatewayClient(app, {"Authorization": f"Bearer {ADMIN_TOKEN}"})


def create_merchant(admin: GatewayClient, name: str = "Coffee", **extra: Any) -> dict[str, Any]:
    reply = admin.post("/v1/admin/merchants", body={"name": name, **extra})
    assert reply.status == 201, reply.body
    return dict(reply.body)


@pytest.fixture
def merchant(admin: GatewayClient) -> dict[str, Any]:
    return create_merchant(admin)


@pytest.fixture
def members_api(merchant: dict[str, Any]) -> GatewayClient:
    from functions.members.app import app

    return GatewayClient(app, {"X-Api-Key": merchant["api_key"]})


@pytest.fixture
def accrue_api(merchant: dict[str, Any]) -> GatewayClient:
    from functions.accrue.app import app

    return GatewayClient(app, {"X-Api-Key": merchant["api_key"]})


@pytest.fixture
def program_api(merchant: dict[str, Any]) -> GatewayClient:
    from functions.program.app import app

    return GatewayClient(app, {"X-Api-Key": merchant["api_key"]})


@pytest.fixture
def member(members_api: GatewayClient) -> dict[str, Any]:
    reply = members_api.post("/v1/members", body={"phone": new_phone(), "name": "Анна"})
    assert reply.status == 201, reply.body
    return dict(reply.body)


@pytest.fixture
def redeem_api(merchant: dict[str, Any]) -> GatewayClient:
    from functions.redeem.app import app

    return GatewayClient(app, {"X-Api-Key": merchant["api_key"]})


@pytest.fixture
def rewards_api(merchant: dict[str, Any]) -> GatewayClient:
    from functions.rewards.app import app

    return GatewayClient(app, {"X-Api-Key": merchant["api_key"]})


def earn(accrue_api: GatewayClient, member: dict[str, Any], points: int, transaction_id: str | None = None) -> None:
    """Give the member ``points`` through a purchase at the default rate (1 point per 100 roubles)."""
    reply = accrue_api.post(
        "/v1/purchases",
        body={
            "transaction_id": transaction_id or f"earn-{next(_phones)}",
            "member_id": member["member_id"],
            "amount_kopecks": points * 10_000,
        },
    )
    assert reply.status == 201, reply.body
    assert reply.body["points_earned"] == points


@pytest.fixture
def tiers_api(merchant: dict[str, Any]) -> GatewayClient:
    from functions.tiers.app import app

    return GatewayClient(app, {"X-Api-Key": merchant["api_key"]})


@pytest.fixture
def bonuses_api(merchant: dict[str, Any]) -> GatewayClient:
    from functions.bonuses.app import app

    return GatewayClient(app, {"X-Api-Key": merchant["api_key"]})


GOLD_PROGRAM: dict[str, Any] = {
    "tiers": {
        "measure": "spend",
        "window_months": 12,
        "review_months": 12,
        "grace_days": 0,
        "levels": [
            {"name": "bronze", "threshold": 0},
            {"name": "silver", "threshold": 1_000_000, "earn_multiplier": 1.5, "discount_percent": 3},
            {"name": "gold", "threshold": 3_000_000, "earn_multiplier": 2, "discount_percent": 5},
        ],
    },
    "bonuses": {
        "welcome_points": 50,
        "birthday_points": 100,
        "review_points": 20,
        "survey_points": 10,
        "referrer_points": 200,
        "referred_points": 100,
        "referral_min_purchase_kopecks": 50_000,
    },
    "stamp_cards": [{"id": "coffee", "category": "coffee", "stamps_required": 3, "reward_name": "Кофе бесплатно"}],
}


def configure(program_api: GatewayClient, **changes: Any) -> None:
    current = program_api.get("/v1/program").body
    reply = program_api.put("/v1/program", body={"program": {**current["program"], **changes}})
    assert reply.status == 200, reply.body


@pytest.fixture
def notify_api(merchant: dict[str, Any]) -> GatewayClient:
    from functions.notify.app import app

    return GatewayClient(app, {"X-Api-Key": merchant["api_key"]})


@pytest.fixture
def keys_api(merchant: dict[str, Any]) -> GatewayClient:
    from functions.keys.app import app

    return GatewayClient(app, {"X-Api-Key": merchant["api_key"]})


@pytest.fixture
def partner(keys_api: GatewayClient) -> PartnerSender:
    """A partner system the merchant's owner issued a signing key to."""
    reply = keys_api.post("/v1/partners", body={"name": "Web shop"})
    assert reply.status == 201, reply.body
    return PartnerSender(reply.body["partner_id"], reply.body["signing_secret"])
