"""The cost model of `make bench` (bench/cost.py, issue 15 goal 4): the design's floor is the
purchase's transaction, the API's request and the two Lambda requests, and no scenario's price
comes in under it."""

from __future__ import annotations

from typing import Any

import pytest

from bench.cost import PRICES, SCENARIOS, design_floor, price


def measured(steady_wcu: float, roll_wcu: float) -> dict[str, Any]:
    ages = {"calls": {}, "rcu": 1, "index_wcu": 3, "member_item_bytes": 949, "history_item_bytes": 877}
    return {
        "ages": {
            "two years": {**ages, "wcu": steady_wcu},
            "two years, first purchase of a month": {**ages, "wcu": roll_wcu},
        },
        "per_request": {
            "authorizer": {"rcu": 0.5, "wcu": 0},
            "authorizer, the key's first use in a minute": {"rcu": 0.5, "wcu": 1},
            "audit entry": {"rcu": 0, "wcu": 1},
        },
        "counting": {
            "busy": {"facts": 100, "wcu": 204, "rcu": 0},
            "spread": {"facts": 100, "wcu": 400, "rcu": 0},
        },
    }


def test_the_floor_is_the_transaction_at_a_regulars_mix_the_api_request_and_two_lambda_requests() -> None:
    write, api, lambda_request = (PRICES[name][0] for name in ("dynamodb_write", "api_gateway", "lambda_request"))
    # three purchases of a month at 6 units, the month's first at 10
    assert design_floor(measured(6, 10)) == pytest.approx(7 * write + api + 2 * lambda_request)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.name)
def test_no_scenario_is_priced_under_the_floor(scenario: Any) -> None:
    figures = measured(6, 10)
    assert sum(price(figures, scenario).values()) > design_floor(figures)
