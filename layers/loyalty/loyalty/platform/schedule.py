"""Scheduled (EventBridge) invocations: "now" comes from the event, so a job can run as of any time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loyalty.clock import parse_instant, utcnow

SAFETY_MARGIN_MS = 20_000


def scheduled_now(event: dict[str, Any]) -> Any:
    raw = event.get("time")
    return parse_instant(raw, field="time") if isinstance(raw, str) else utcnow()


def time_left(context: Any) -> Callable[[], bool]:
    """True while there is time to do one more unit of work before Lambda's timeout; the rest
    is picked up by the next run (the queues the jobs read from keep it)."""
    return lambda: int(context.get_remaining_time_in_millis()) > SAFETY_MARGIN_MS
