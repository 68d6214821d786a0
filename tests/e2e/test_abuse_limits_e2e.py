"""Abuse limits on the local stack, each answered in the API's error shape: a merchant's usage-plan
throttle (small limits here), request size, page size, and sign-in attempts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.support.local_stack import ADMIN_TOKEN, DEMO_KEY, RunningStack, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-abuse")]


@pytest.fixture(scope="module")
def local() -> Iterator[RunningStack]:
    with running_stack({"LOYALTY_THROTTLE_RATE": "1", "LOYALTY_THROTTLE_BURST": "3"}) as stack:
        yield stack


def test_a_merchant_over_its_usage_plan_gets_429_and_others_do_not(local: RunningStack) -> None:
    replies = [requests.get(f"{local.api}/v1/program", headers={"X-Api-Key": DEMO_KEY}, timeout=10) for _ in range(6)]
    statuses = [reply.status_code for reply in replies]
    assert statuses[:3] == [200, 200, 200] and 429 in statuses[3:]
    throttled = next(reply for reply in replies if reply.status_code == 429)
    assert throttled.json() == {"error": {"code": "rate_limited", "message": "too many requests; retry later"}}
    assert int(throttled.headers["Retry-After"]) >= 1
    other = requests.post(
        f"{local.api}/v1/admin/merchants",
        json={"name": "Other"},
        timeout=10,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ).json()
    assert (
        requests.get(f"{local.api}/v1/program", headers={"X-Api-Key": other["api_key"]}, timeout=10).status_code == 200
    )


def test_oversized_bodies_and_pages_are_refused(local: RunningStack) -> None:
    huge = requests.post(
        f"{local.api}/v1/auth/code",
        data=b"x" * (2 * 1024 * 1024),
        timeout=10,
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "payload_too_large"
    other = requests.post(
        f"{local.api}/v1/admin/merchants",
        json={"name": "Pages"},
        timeout=10,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ).json()
    key = {"X-Api-Key": other["api_key"]}
    member = requests.post(f"{local.api}/v1/members", json={"phone": "+79164440001"}, headers=key, timeout=10).json()
    page = requests.get(
        f"{local.api}/v1/members/{member['member_id']}/transactions", params={"limit": "1000"}, headers=key, timeout=10
    )
    assert page.status_code == 400
    assert page.json()["error"]["code"] == "validation_error"


def test_sign_in_attempts_are_limited_per_phone(local: RunningStack) -> None:
    body = {"merchant_id": "mch_demo", "phone": "+79990001122"}
    statuses = [requests.post(f"{local.api}/v1/auth/code", json=body, timeout=10).status_code for _ in range(4)]
    assert statuses == [202, 202, 202, 429]
