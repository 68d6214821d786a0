"""Quiet hours: the member's night in the merchant's time zone, when nothing but sign-in codes is sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from datetime import timezone as utc_offset
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FALLBACK_TIMEZONE = "Europe/Moscow"
# Moscow has kept UTC+3 all year since 2014: the last resort if the zone database itself is missing.
_MOSCOW_FIXED = utc_offset(timedelta(hours=3), "MSK")


def resolve_timezone(name: str) -> tzinfo:
    """The IANA zone ``name``, or Moscow time when it is not a valid zone name."""
    for candidate in (name, FALLBACK_TIMEZONE):
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            continue
    return _MOSCOW_FIXED


@dataclass(frozen=True)
class QuietHours:
    """Local wall-clock hours from ``start`` (inclusive) to ``end`` (exclusive), possibly across midnight.

    ``start == end`` means there are no quiet hours at all.
    """

    start: time = time(22, 0)
    end: time = time(9, 0)

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("quiet hours are local wall-clock times and take no time zone")

    def is_quiet(self, local: datetime) -> bool:
        """Whether the wall-clock time of ``local`` falls in quiet hours."""
        now = local.time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def next_allowed(self, now_utc: datetime, timezone: str) -> datetime:
        """``now_utc`` if it is not quiet in ``timezone``; otherwise the UTC instant quiet hours end there."""
        if now_utc.tzinfo is None:
            raise ValueError("now_utc must be timezone-aware")
        zone = resolve_timezone(timezone)
        local = now_utc.astimezone(zone)
        if not self.is_quiet(local):
            return now_utc
        # Before ``end`` the night ends today; after ``start`` (a night across midnight) it ends tomorrow.
        end_day: date = local.date() if local.time() < self.end else local.date() + timedelta(days=1)
        end = datetime.combine(end_day, self.end)
        ends_at = _first_instant_at_or_after(end, zone)
        if ends_at <= now_utc:  # the clocks went back and replay the night: its first end is behind us
            ends_at = end.replace(tzinfo=zone, fold=1).astimezone(UTC)
        return ends_at


def _first_instant_at_or_after(wall: datetime, zone: tzinfo) -> datetime:
    """The first UTC instant at which the local clock in ``zone`` shows ``wall`` or later.

    That is ``wall`` itself, the first of the two when clocks go back and it happens twice. When
    clocks go forward over it (``wall`` in the DST gap, e.g. 02:30 in Berlin on the last Sunday in
    March), it is the instant of the jump.
    """
    after_jump = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if after_jump.astimezone(zone).replace(tzinfo=None) == wall:
        return after_jump
    # In a gap, fold=0 reads ``wall`` with the offset before the jump (an instant after it) and
    # fold=1 with the offset after (an instant before it); the jump lies between, on a whole second.
    low = int(wall.replace(tzinfo=zone, fold=1).astimezone(UTC).timestamp())
    high = int(after_jump.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, UTC).astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)
