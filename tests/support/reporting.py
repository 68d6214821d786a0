"""Shared by the report tests: the local stack's clock moved in-process, shop-local times, and
feeding a table's real stream batches to the counting functions."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from loyalty.clock import LOCAL_CLOCK_ENV, set_local_clock

from infra.local.provision import Stack
from tests.support.events import context
from tests.support.streams import StreamTap, batches

MOSCOW = ZoneInfo("Europe/Moscow")
Clock = Callable[[datetime], object]


@contextmanager
def local_clock(monkeypatch: Any) -> Iterator[Clock]:
    """The local stack's clock, moved in this process (handlers read it through ``utcnow``)."""
    monkeypatch.setenv(LOCAL_CLOCK_ENV, "1")
    try:
        yield set_local_clock
    finally:
        set_local_clock(None)


def local(month: str, day: int, hour: int, minute: int = 0) -> datetime:
    """A time in the shop's time zone (Moscow), as a UTC instant."""
    year, number = (int(part) for part in month.split("-"))
    return datetime(year, number, day, hour, minute, tzinfo=MOSCOW).astimezone(UTC)


class Counting:
    """Feeds a table's real stream batches to the counting function of its stream, and keeps
    every batch delivered, for redelivery."""

    def __init__(self, stack: Stack, table: str = "LedgerTable") -> None:
        self.tap = StreamTap(stack, table)
        self.delivered: list[list[dict[str, Any]]] = []

    def deliver(self, batch: list[dict[str, Any]]) -> dict[str, int]:
        from functions.reports.app import count_stream

        return dict(count_stream(self.tap.event(batch), context("reports", 30)))

    def count_new(self, rng: random.Random) -> int:
        records = self.tap.take()
        sizes = [rng.randint(1, 40) for _ in range(len(records))]
        counted = 0
        for batch in batches(records, sizes):
            counted += self.deliver(batch)["counted"]
            self.delivered.append(batch)
        return counted
