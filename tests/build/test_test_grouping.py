"""The suite's own wiring: `make test` runs ``--dist loadgroup`` so that each xdist group (the browser
tests, the demo-shop e2e tests) runs on one worker against one stack. A pytest release that stops
honouring the group (pytest-xdist#1386: pytest 9.2 did) spreads them over every worker silently:
each worker then starts its own stack and browser, and the suite grows slow and flaky."""

from __future__ import annotations

import pytest


@pytest.mark.xdist_group("grouping-check")
def test_a_grouped_test_carries_its_group_under_loadgroup(request: pytest.FixtureRequest) -> None:
    grouped_run = getattr(request.config.option, "loadgroup", False)
    assert not grouped_run or request.node.nodeid.endswith("@grouping-check"), (
        "--dist loadgroup is not grouping: pin a pytest that pytest-xdist supports (requirements-dev.in)"
    )
