"""The retry schedule and the rule that disables an endpoint that keeps failing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from loyalty.webhooks.retries import MAX_DELAY_SECONDS, AttemptResult, DisableRule, retry_delay, schedule


def exact(low: float, high: float) -> float:
    return 1.0


def test_delays_double_from_the_base_up_to_the_cap() -> None:
    delays = [retry_delay(attempt, 60, uniform=exact) for attempt in range(1, 16)]  # after each of 15 failed attempts
    assert delays[:9] == [60, 120, 240, 480, 960, 1920, 3840, 7680, 15360]
    assert delays[9:] == [MAX_DELAY_SECONDS] * 6
    assert MAX_DELAY_SECONDS < 12 * 3600  # SQS keeps a message invisible for at most 12 hours


def test_sixteen_attempts_span_about_two_days() -> None:
    times = schedule(60, 16)
    assert times[:4] == [0, 60, 180, 420]
    assert 40 * 3600 < times[-1] < 50 * 3600


def test_jitter_stays_within_ten_percent() -> None:
    assert retry_delay(3, 60, uniform=lambda low, high: low) == 216
    assert retry_delay(3, 60, uniform=lambda low, high: high) == 264
    for _ in range(200):
        assert 216 <= retry_delay(3, 60) <= 264


def test_retry_after_is_honoured_but_never_beyond_the_cap() -> None:
    assert retry_delay(1, 60, retry_after_seconds=600, uniform=exact) == 600
    assert retry_delay(5, 60, retry_after_seconds=10, uniform=exact) == 960
    assert retry_delay(1, 60, retry_after_seconds=10**9, uniform=exact) == MAX_DELAY_SECONDS


def test_only_2xx_delivers_and_410_means_gone() -> None:
    assert AttemptResult(204, 5).delivered
    for status in (None, 301, 400, 404, 429, 500, 503):
        assert not AttemptResult(status, 5).delivered
    assert AttemptResult(410, 5).gone


def test_an_endpoint_is_disabled_only_after_enough_failures_over_enough_time() -> None:
    rule = DisableRule(failures=10, seconds=86_400)
    since = datetime(2026, 12, 1, tzinfo=UTC)
    assert not rule.applies(9, since, since + timedelta(days=3))  # too few, however long
    assert not rule.applies(50, since, since + timedelta(hours=23))  # many, but not for long
    assert rule.applies(10, since, since + timedelta(days=1))
    assert not rule.applies(10, None, since)
