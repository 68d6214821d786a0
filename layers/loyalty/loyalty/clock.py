"""Time helpers. All times are timezone-aware UTC; the domain takes "now" as an argument."""

from __future__ import annotations

from datetime import UTC, date, datetime

from loyalty.errors import InvalidRequest


def utcnow() -> datetime:
    return datetime.now(UTC)


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
