"""Quiet hours: local wall-clock windows across midnight, in the merchant's zone, through DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from loyalty.notifications.quiet_hours import QuietHours, resolve_timezone

NIGHT = QuietHours()  # 22:00-09:00
BERLIN = "Europe/Berlin"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("clock", "quiet"),
    [
        (time(12, 0), False),
        (time(21, 59, 59), False),
        (time(22, 0), True),
        (time(23, 59), True),
        (time(0, 0), True),
        (time(3, 0), True),
        (time(8, 59, 59), True),
        (time(9, 0), False),
    ],
)
def test_default_night_wraps_midnight(clock: time, quiet: bool) -> None:
    assert NIGHT.is_quiet(datetime.combine(datetime(2026, 6, 1), clock)) is quiet


def test_a_window_within_one_day() -> None:
    siesta = QuietHours(time(13, 0), time(15, 0))
    assert [siesta.is_quiet(datetime(2026, 6, 1, hour)) for hour in (12, 13, 14, 15, 23, 0)] == [
        False,
        True,
        True,
        False,
        False,
        False,
    ]
    assert siesta.next_allowed(utc(2026, 6, 1, 10, 30), "Europe/Moscow") == utc(2026, 6, 1, 12, 0)


def test_start_equal_to_end_means_never_quiet() -> None:
    always = QuietHours(time(0, 0), time(0, 0))
    now = utc(2026, 6, 1, 0, 30)
    assert not any(always.is_quiet(datetime(2026, 6, 1, hour)) for hour in range(24))
    assert always.next_allowed(now, "Europe/Moscow") is now


def test_is_quiet_reads_the_wall_clock_of_the_time_given() -> None:
    evening_in_moscow = utc(2026, 6, 1, 19, 30).astimezone(ZoneInfo("Europe/Moscow"))  # 22:30 MSK
    assert NIGHT.is_quiet(evening_in_moscow)


def test_outside_quiet_hours_now_is_allowed() -> None:
    now = utc(2026, 6, 1, 12, 0)  # 15:00 in Moscow
    assert NIGHT.next_allowed(now, "Europe/Moscow") is now


def test_late_evening_waits_for_the_next_morning() -> None:
    assert NIGHT.next_allowed(utc(2026, 6, 1, 20, 0), "Europe/Moscow") == utc(2026, 6, 2, 6, 0)  # 23:00 -> 09:00


def test_early_morning_waits_for_the_same_morning() -> None:
    assert NIGHT.next_allowed(utc(2026, 6, 1, 2, 0), "Europe/Moscow") == utc(2026, 6, 1, 6, 0)  # 05:00 -> 09:00


def test_the_merchants_zone_decides() -> None:
    now = utc(2026, 6, 1, 19, 30)  # 22:30 in Moscow, 00:30 in Yekaterinburg, 05:30 in Vladivostok
    assert NIGHT.next_allowed(now, "Europe/Moscow") == utc(2026, 6, 2, 6, 0)
    assert NIGHT.next_allowed(now, "Asia/Yekaterinburg") == utc(2026, 6, 2, 4, 0)
    assert NIGHT.next_allowed(now, "Asia/Vladivostok") == utc(2026, 6, 1, 23, 0)
    assert NIGHT.next_allowed(now, "Europe/Kaliningrad") is now  # 21:30 there


def test_a_night_across_the_spring_dst_change() -> None:
    # Berlin goes from CET (+1) to CEST (+2) at 02:00 on 29 March 2026: the night is an hour shorter.
    evening = utc(2026, 3, 28, 21, 30)  # 22:30 CET
    assert NIGHT.next_allowed(evening, BERLIN) == utc(2026, 3, 29, 7, 0)  # 09:00 CEST, not 08:00 UTC


def test_a_night_across_the_autumn_dst_change() -> None:
    # Berlin goes back from CEST (+2) to CET (+1) at 03:00 on 25 October 2026: the night is an hour longer.
    evening = utc(2026, 10, 24, 21, 0)  # 23:00 CEST
    assert NIGHT.next_allowed(evening, BERLIN) == utc(2026, 10, 25, 8, 0)  # 09:00 CET


def test_quiet_hours_ending_inside_the_spring_gap_end_when_the_clocks_jump() -> None:
    # 02:30 never happens in Berlin on 29 March 2026: at 01:00 UTC the clock jumps from 02:00 to 03:00.
    short_night = QuietHours(time(23, 0), time(2, 30))
    allowed = short_night.next_allowed(utc(2026, 3, 29, 0, 30), BERLIN)  # 01:30 CET
    assert allowed == utc(2026, 3, 29, 1, 0)
    zone = ZoneInfo(BERLIN)
    assert allowed.astimezone(zone).time() == time(3, 0)
    assert short_night.is_quiet((allowed - timedelta(seconds=1)).astimezone(zone))


def test_quiet_hours_ending_inside_the_repeated_autumn_hour_end_at_its_first_pass() -> None:
    # 02:30 happens twice in Berlin on 25 October 2026: first in CEST (00:30 UTC), then in CET (01:30 UTC).
    short_night = QuietHours(time(23, 0), time(2, 30))
    assert short_night.next_allowed(utc(2026, 10, 24, 23, 30), BERLIN) == utc(2026, 10, 25, 0, 30)
    # Once the clocks have gone back to 02:00, the night ends at the second 02:30.
    assert short_night.next_allowed(utc(2026, 10, 25, 1, 0), BERLIN) == utc(2026, 10, 25, 1, 30)


@pytest.mark.parametrize(
    ("zone", "around"),
    [
        (BERLIN, utc(2026, 3, 28)),
        (BERLIN, utc(2026, 10, 24)),
        ("America/New_York", utc(2026, 3, 7)),
        ("America/New_York", utc(2026, 10, 31)),
        ("Australia/Sydney", utc(2026, 4, 4)),
        ("Australia/Lord_Howe", utc(2026, 10, 3)),  # a half-hour DST change
        ("Asia/Kolkata", utc(2026, 6, 1)),  # a half-hour offset
        ("Europe/Moscow", utc(2026, 6, 1)),
    ],
)
@pytest.mark.parametrize(
    "quiet_hours",
    [
        NIGHT,
        QuietHours(time(23, 0), time(2, 30)),
        QuietHours(time(1, 0), time(3, 30)),
        QuietHours(time(0), time(2, 15)),
    ],
)
def test_next_allowed_is_the_first_moment_outside_quiet_hours(
    zone: str, around: datetime, quiet_hours: QuietHours
) -> None:
    local_zone = ZoneInfo(zone)
    for step in range(3 * 24 * 4):  # every 15 minutes for three days
        now = around + timedelta(minutes=15 * step)
        allowed = quiet_hours.next_allowed(now, zone)
        assert allowed.tzinfo is not None
        assert allowed.utcoffset() == timedelta(0)
        assert allowed >= now
        assert not quiet_hours.is_quiet(allowed.astimezone(local_zone))
        if allowed != now:
            assert quiet_hours.is_quiet((allowed - timedelta(seconds=1)).astimezone(local_zone))
            assert allowed - now <= timedelta(hours=24)


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "Europe", "../etc/passwd", "europe/berlin"])
def test_an_invalid_timezone_falls_back_to_moscow(name: str) -> None:
    assert resolve_timezone(name) == ZoneInfo("Europe/Moscow")
    assert NIGHT.next_allowed(utc(2026, 6, 1, 20, 0), name) == utc(2026, 6, 2, 6, 0)


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        NIGHT.next_allowed(datetime(2026, 6, 1, 12, 0), "Europe/Moscow")


def test_quiet_hours_are_wall_clock_times_without_a_zone() -> None:
    with pytest.raises(ValueError, match="wall-clock"):
        QuietHours(time(22, 0, tzinfo=UTC), time(9, 0))
