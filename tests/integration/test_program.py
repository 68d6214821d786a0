"""The merchant's program: validated, versioned, and applied to purchases from the change on."""

from __future__ import annotations

from typing import Any

import boto3

from infra.local.provision import REGION
from tests.integration.conftest import GOLD_PROGRAM
from tests.integration.test_purchases import purchase
from tests.support.api import GatewayClient


def put_program(program_api: GatewayClient, **changes: Any) -> Any:
    current = program_api.get("/v1/program").body
    return program_api.put(
        "/v1/program", body={"program": {**current["program"], **changes}, "expected_version": current["version"]}
    )


def test_default_program_is_readable(program_api: GatewayClient) -> None:
    reply = program_api.get("/v1/program")
    assert reply.status == 200
    assert reply.body["version"] == 1
    assert reply.body["program"]["earn_rate"] == {"points": 1, "per_roubles": 100}
    assert reply.body["program"]["redemption_cap_percent"] == 30


def test_a_change_is_a_new_version_used_by_later_purchases(
    program_api: GatewayClient, accrue_api: GatewayClient, member: dict[str, Any]
) -> None:
    before = purchase(accrue_api, member, "V-1", 100_000).body
    assert (before["points_earned"], before["program_version"]) == (10, 1)
    changed = put_program(
        program_api,
        earn_rate={"points": 5, "per_roubles": 100},
        category_multipliers={"coffee": 2},
        excluded_categories=["alcohol"],
    )
    assert changed.status == 200, changed.body
    assert changed.body["version"] == 2
    after = purchase(
        accrue_api,
        member,
        "V-2",
        100_000,
        lines=[{"category": "coffee", "amount_kopecks": 40_000}, {"category": "alcohol", "amount_kopecks": 60_000}],
    ).body
    assert after["program_version"] == 2
    assert after["points_earned"] == 40  # coffee: 400 RUB x 5/100 x 2; alcohol excluded
    assert {b["rule"]: b["points"] for b in after["breakdown"]} == {"base": 20, "category:coffee": 20}
    assert purchase(accrue_api, member, "V-1", 100_000).body == before  # a replay keeps its version


def test_stale_expected_version_is_a_conflict(program_api: GatewayClient) -> None:
    current = program_api.get("/v1/program").body
    assert put_program(program_api, min_check_kopecks=100).status == 200
    stale = program_api.put("/v1/program", body={"program": current["program"], "expected_version": 1})
    assert stale.status == 409
    assert stale.body["error"]["code"] == "version_conflict"


def test_invalid_programs_are_rejected_with_the_field(program_api: GatewayClient) -> None:
    for changes, field in (
        ({"redemption_cap_percent": 150}, "redemption_cap_percent"),
        ({"mode": "cashback"}, "cashback"),
        ({"timezone": "Nowhere/City"}, "timezone"),
        (
            {
                "promotions": [
                    {
                        "id": "x",
                        "name": "x",
                        "kind": "multiplier",
                        "starts_at": "2026-12-02T00:00:00Z",
                        "ends_at": "2026-12-01T00:00:00Z",
                        "multiplier": 2,
                    }
                ]
            },
            "ends_at",
        ),
        ({"surprise": True}, "surprise"),
    ):
        reply = put_program(program_api, **changes)
        assert reply.status == 400, (changes, reply.body)
        assert field in repr(reply.body["error"]), reply.body
    assert program_api.get("/v1/program").body["version"] == 1


def test_cashback_and_discount_card_modes(
    program_api: GatewayClient, accrue_api: GatewayClient, redeem_api: GatewayClient, member: dict[str, Any]
) -> None:
    assert put_program(program_api, mode="cashback", cashback_percent=5).status == 200
    cashback = purchase(accrue_api, member, "CB-1", 100_000).body
    assert cashback["points_earned"] == 5_000  # kopecks: 5 % of 1 000 RUB
    quote = redeem_api.post(
        "/v1/redemptions/quote", body={"member_id": member["member_id"], "amount_kopecks": 10_000}
    ).body
    assert (quote["max_points"], quote["max_discount_kopecks"]) == (3_000, 3_000)
    assert put_program(program_api, mode="discount", discount_percent=7).status == 200
    quote = redeem_api.post(
        "/v1/redemptions/quote", body={"member_id": member["member_id"], "amount_kopecks": 10_000}
    ).body
    assert (quote["max_points"], quote["tier_discount_percent"], quote["tier_discount_kopecks"]) == (0, 7, 700)
    assert purchase(accrue_api, member, "D-1", 100_000).body["reason"] == "discount_program"


def test_switching_between_points_and_cashback_is_refused_while_members_hold_balances(
    stack: Any, program_api: GatewayClient, accrue_api: GatewayClient, member: dict[str, Any]
) -> None:
    import random

    from tests.integration.conftest import configure, earn
    from tests.support.reporting import Counting

    counting = Counting(stack)
    configure(program_api, mode="cashback", cashback_percent=5)  # nobody holds anything yet: allowed
    configure(program_api, mode="points")
    earn(accrue_api, member, 10)
    assert counting.count_new(random.Random(7)) > 0  # the KPI counters the guard reads
    program = program_api.get("/v1/program").body["program"]
    refused = program_api.put("/v1/program", body={"program": {**program, "mode": "cashback", "cashback_percent": 5}})
    assert (refused.status, refused.body["error"]["code"]) == (422, "mode_change_with_balances")
    discount = program_api.put("/v1/program", body={"program": {**program, "mode": "discount", "discount_percent": 5}})
    assert discount.status == 200  # balances keep their unit (they wait, unspendable, until points return)


def table_items() -> dict[str, int]:
    """Every table's item count (a test may scan; the product never does)."""
    dynamodb = boto3.resource("dynamodb", region_name=REGION)
    return {table.name: len(table.scan()["Items"]) for table in dynamodb.tables.all()}


def test_the_earn_preview_prices_a_sample_purchase_as_a_real_one_and_writes_nothing(
    program_api: GatewayClient, accrue_api: GatewayClient, member: dict[str, Any]
) -> None:
    assert (
        put_program(
            program_api,
            earn_rate={"points": 5, "per_roubles": 100},
            category_multipliers={"coffee": 2},
            excluded_categories=["alcohol"],
        ).status
        == 200
    )
    lines = [{"category": "coffee", "amount_kopecks": 40_000}, {"category": "alcohol", "amount_kopecks": 60_000}]
    before = table_items()
    preview = program_api.post("/v1/program/earn-preview", body={"amount_kopecks": 100_000, "lines": lines})
    assert preview.status == 200, preview.body
    assert table_items() == before  # nothing written
    assert preview.body == {
        "points": 40,
        "breakdown": [{"rule": "base", "points": 20}, {"rule": "category:coffee", "points": 20}],
        "eligible_kopecks": 40_000,
        "reason": None,
        "worth_kopecks": 4_000,
        "program_version": 2,
    }
    real = purchase(accrue_api, member, "P-1", 100_000, lines=lines).body
    assert (real["points_earned"], real["breakdown"]) == (preview.body["points"], preview.body["breakdown"])


def test_the_earn_preview_takes_a_draft_program_and_a_tier_and_names_bad_input(program_api: GatewayClient) -> None:
    draft = {**program_api.get("/v1/program").body["program"], **GOLD_PROGRAM, "min_check_kopecks": 50_000}
    gold = program_api.post(
        "/v1/program/earn-preview", body={"amount_kopecks": 100_000, "tier": "gold", "program": draft}
    )
    assert gold.status == 200, gold.body
    assert (gold.body["points"], gold.body["program_version"]) == (20, None)  # 10 base + 10 for gold's x2
    assert {b["rule"]: b["points"] for b in gold.body["breakdown"]} == {"base": 10, "tier:gold": 10}
    small = program_api.post("/v1/program/earn-preview", body={"amount_kopecks": 10_000, "program": draft})
    assert (small.body["points"], small.body["reason"]) == (0, "below_min_check")
    assert program_api.get("/v1/program").body["version"] == 1  # the draft was not saved
    unknown = program_api.post("/v1/program/earn-preview", body={"amount_kopecks": 100_000, "tier": "platinum"})
    assert (unknown.status, unknown.body["error"]["details"]) == (400, {"field": "tier"})
    uneven = program_api.post(
        "/v1/program/earn-preview", body={"amount_kopecks": 100, "lines": [{"amount_kopecks": 99}]}
    )
    assert uneven.status == 400
    assert "lines must add up" in repr(uneven.body["error"])
