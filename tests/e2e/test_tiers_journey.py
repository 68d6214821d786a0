"""A member's year on the local stack: Bronze to Gold by purchases, a full stamp card, a referral,
a birthday, and down again at the review a year later - exact points and tiers at each step."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from loyalty.clock import add_months

from tests.integration.conftest import GOLD_PROGRAM
from tests.support.local_stack import RunningStack, Shop, running_stack, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-tiers")]


@pytest.fixture(scope="module")
def local() -> Iterator[RunningStack]:
    with running_stack() as stack:
        yield stack


def test_a_year_in_the_life_of_a_member(local: RunningStack) -> None:
    shop = Shop(local, "Кофейня")
    program = shop.call("GET", "/v1/program")["program"]
    shop.call("PUT", "/v1/program", {"program": {**program, **GOLD_PROGRAM}})
    today = datetime.now(UTC).date()

    referrer = shop.call("POST", "/v1/members", {"phone": "+79165550001"})
    member = shop.call(
        "POST",
        "/v1/members",
        {
            "phone": "+79165550002",
            "birthday": f"1991-{today:%m-%d}",
            "timezone": "Europe/Moscow",
            "referral_code": referrer["referral_code"],
        },
    )
    assert (member["balance"], member["tier"]) == (50, "bronze")  # welcome bonus

    first = shop.call(
        "POST",
        "/v1/purchases",
        {
            "transaction_id": "pos-1",
            "member_id": member["member_id"],
            "amount_kopecks": 1_200_000,
            "lines": [
                {"category": "coffee", "amount_kopecks": 60_000, "quantity": 3},
                {"category": "beans", "amount_kopecks": 1_140_000},
            ],
        },
    )
    assert first["points_earned"] == 120  # at bronze: 1 point per 100 RUB
    assert first["tier"] == "silver"  # 12 000 RUB spent in the window
    assert len(first["coupons"]) == 1 and first["stamps"] == {}  # three coffees: one free
    assert first["balance"] == 50 + 120 + 100  # + the invited member's referral bonus

    wait_for(lambda: shop.member(referrer["member_id"])["balance"] == 50 + 200, timeout=30)

    second = shop.call(
        "POST",
        "/v1/purchases",
        {"transaction_id": "pos-2", "member_id": member["member_id"], "amount_kopecks": 2_000_000},
    )
    assert second["points_earned"] == 300  # x1.5 at silver
    assert second["tier"] == "gold"
    assert second["balance"] == 570

    assert shop.job("birthdays", f"{today}T06:00:00Z")["result"]["celebrated"] == 1
    assert shop.job("birthdays", f"{today}T09:00:00Z")["result"]["celebrated"] == 0
    assert shop.member(member["member_id"])["balance"] == 670

    review_day = add_months(today, 12)
    assert shop.job("tiers", f"{review_day}T06:00:00Z")["result"]["changed"] == 1
    after = shop.member(member["member_id"])
    assert (after["tier"], after["balance"]) == ("bronze", 670)
    history = shop.call("GET", f"/v1/members/{member['member_id']}/transactions", limit="100")["entries"]
    tiers = [(e["details"].get("old_tier"), e["details"].get("new_tier")) for e in history if e["kind"] == "tier"]
    assert tiers == [("gold", "bronze"), ("silver", "gold"), ("bronze", "silver")]
    assert sum(e["points"] for e in history) == 670
