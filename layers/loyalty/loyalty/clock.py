"""The one clock, and time helpers. All times are timezone-aware UTC; the domain takes "now" as an
argument, and every handler, worker, stream consumer and job gets it from ``utcnow``.

Only the local stack may move the clock (``set_local_clock``): demos and tests replay months of a
shop in minutes. From the instant it is set to, the clock runs on in real time. In AWS the clock is
the system's: setting it is refused unless the process was started as the local stack (the
environment variable ``LOYALTY_LOCAL_CLOCK=1``, which nothing in the template sets).
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, date, datetime, timedelta

from loyalty.errors import InvalidRequest

LOCAL_CLOCK_ENV = "LOYALTY_LOCAL_CLOCK"
_lock = threading.Lock()
_offset = timedelta(0)


def utcnow() -> datetime:
    """Now, by the one clock of the system."""
    return datetime.now(UTC) + _offset


class ClockNotSettable(RuntimeError):
    """Only the local stack may move the clock."""


def set_local_clock(now: datetime | None) -> datetime:
    """Make ``utcnow`` answer ``now`` at once and run on from it in real time; ``None`` returns to
    real time. Returns the clock's reading. Refused outside the local stack."""
    global _offset  # noqa: PLW0603 - the clock is one per process by design
    if os.environ.get(LOCAL_CLOCK_ENV) != "1":
        raise ClockNotSettable(f"the clock can be set only on the local stack ({LOCAL_CLOCK_ENV}=1)")
    if now is not None and now.tzinfo is None:
        raise ValueError("the clock needs a time zone-aware instant")
    with _lock:
        _offset = now - datetime.now(UTC) if now is not None else timedelta(0)
    return utcnow()


def clock_offset() -> timedelta:
    """How far the clock is from real time (zero unless the local stack moved it)."""
    return _offset


def isoformat(moment: datetime) -> str:
    """ISO-8601 in UTC with a 'Z' suffix and millisecond precision (sortable as text)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def to_millis(moment: datetime) -> datetime:
    """The same instant at the millisecond precision stored times have (``isoformat``)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def parse_instant(value: str, *, field: str = "time") -> datetime:
    """Parse an ISO-8601 instant; a value without an offset is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError) as exc:
        raise InvalidRequest(f"{field} must be an ISO-8601 time", details={"field": field}) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the end of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def end_of_month(day: date) -> date:
    next_month = add_months(day.replace(day=1), 1)
    return date.fromordinal(next_month.toordinal() - 1)
