"""The outboxes: the domain events a batch of the ledger table's stream stands for, and the coupon
uses a batch of the members table's stream shows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyalty.data import ledger, members
from loyalty.events import DomainEvent, from_coupon_use, from_ledger_entry


def ledger_events(stream_event: Mapping[str, Any]) -> list[DomainEvent]:
    return [event for entry in ledger.entries_from_stream(stream_event) for event in from_ledger_entry(entry)]


def coupon_events(stream_event: Mapping[str, Any]) -> list[DomainEvent]:
    return [from_coupon_use(before, after) for before, after in members.coupon_uses_from_stream(stream_event)]
