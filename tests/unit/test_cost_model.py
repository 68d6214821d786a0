"""The cost model of `make bench` (bench/cost.py, issue 15 goal 4): the design's floor is the
purchase's transaction, the API's request and the two Lambda requests, and no scenario's price
comes in under it."""

from __future__ import annotations

from typing import Any

import pytest

from bench.cost import DESIGNS, PRICES, SCENARIOS, authorizer_share, design_floor, last_use_writes, price


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


BUSY, SPREAD = SCENARIOS
AS_BUILT, CACHED, HTTP_TRACED, HTTP_UNTRACED, HTTP_CACHED = DESIGNS


def test_a_cached_authorizer_answer_serves_a_busy_keys_purchases_and_never_a_small_shops() -> None:
    # a till key used every 3 s: one authorizer call and one last-use write each 5 minutes
    assert authorizer_share(BUSY, CACHED) == pytest.approx(3 / 300)
    assert last_use_writes(BUSY, CACHED) == pytest.approx(3 / 300)
    # without the cache: every purchase, the last use written once a minute
    assert authorizer_share(BUSY, AS_BUILT) == 1 and last_use_writes(BUSY, AS_BUILT) == pytest.approx(3 / 60)
    # a small shop's three purchases a day each find the cache lapsed
    assert authorizer_share(SPREAD, CACHED) == 1 and last_use_writes(SPREAD, CACHED) == 1
    figures = measured(6, 10)
    assert price(figures, SPREAD, design=CACHED) == price(figures, SPREAD, design=AS_BUILT)
    assert sum(price(figures, BUSY, design=CACHED).values()) < sum(price(figures, BUSY, design=AS_BUILT).values())


def test_an_http_api_is_priced_as_one_and_traces_only_where_the_design_says() -> None:
    figures = measured(6, 10)
    for scenario in SCENARIOS:
        built, traced, untraced = (price(figures, scenario, design=d) for d in (AS_BUILT, HTTP_TRACED, HTTP_UNTRACED))
        assert built["API Gateway"] == PRICES["api_gateway"][0]
        assert traced["API Gateway"] == untraced["API Gateway"] == PRICES["http_api"][0]
        assert untraced["X-Ray"] <= built["X-Ray"] <= traced["X-Ray"]
    # Lambda's own sampling takes the first request each second: at a small shop's pace, nearly all
    assert price(figures, SPREAD, design=HTTP_TRACED)["X-Ray"] > 0.9 * PRICES["xray_trace"][0]
    assert sum(price(figures, BUSY, design=HTTP_CACHED).values()) < sum(
        price(figures, BUSY, design=HTTP_UNTRACED).values()
    )
