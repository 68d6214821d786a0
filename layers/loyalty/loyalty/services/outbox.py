"""The ledger's outbox: the domain events a batch of the ledger table's stream stands for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyalty.data import ledger
from loyalty.events import DomainEvent, from_ledger_entry


def ledger_events(stream_event: Mapping[str, Any]) -> list[DomainEvent]:
    return [event for entry in ledger.entries_from_stream(stream_event) for event in from_ledger_entry(entry)]
