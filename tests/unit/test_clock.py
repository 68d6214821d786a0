"""One clock: ``loyalty.clock.utcnow`` is the only reading of the time in the product, and only the
local stack may move it."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from loyalty import clock, ids

ROOT = Path(__file__).resolve().parents[2]
# Readings of the system's time that would bypass the one clock.
SYSTEM_TIME = re.compile(r"datetime\.now\(|datetime\.utcnow\(|date\.today\(|time\.time\(|time\.time_ns\(")


def test_no_product_code_reads_the_system_time_but_the_clock() -> None:
    sources = [*ROOT.glob("layers/loyalty/loyalty/**/*.py"), *ROOT.glob("functions/**/*.py")]
    sources += [*ROOT.glob("infra/**/*.py")]
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources
        if path.name != "clock.py" or path.parent.name != "loyalty"
        if path.name != "lambda_bootstrap.py"  # plays Lambda's runtime, whose trace header has the real time
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if SYSTEM_TIME.search(line)
    ]
    assert len(sources) > 100
    assert offenders == []


def test_the_clock_cannot_be_set_outside_the_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(clock.LOCAL_CLOCK_ENV, raising=False)
    with pytest.raises(clock.ClockNotSettable):
        clock.set_local_clock(datetime(2020, 1, 1, tzinfo=UTC))
    assert abs(clock.utcnow() - datetime.now(UTC)) < timedelta(seconds=5)


def test_a_set_clock_runs_on_in_real_time_and_returns_to_real_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.LOCAL_CLOCK_ENV, "1")
    try:
        then = datetime(2025, 6, 30, 20, 59, 59, tzinfo=UTC)
        assert clock.set_local_clock(then) - then < timedelta(seconds=1)
        time.sleep(0.05)
        later = clock.utcnow()
        assert then + timedelta(milliseconds=40) < later < then + timedelta(seconds=2)
        made_then = ids.new_id("x")
        with pytest.raises(ValueError, match="time zone"):
            clock.set_local_clock(datetime(2025, 1, 1))
    finally:
        clock.set_local_clock(None)
    assert clock.clock_offset() == timedelta(0)
    assert made_then < ids.new_id("x")  # ids are stamped by the clock: one made "in 2025" sorts first
    assert abs(clock.utcnow() - datetime.now(UTC)) < timedelta(seconds=5)
