"""Putting domain events on the EventBridge bus, ten at a time, retrying the entries it refuses."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable

from loyalty.events import SOURCE, DomainEvent
from loyalty.platform.aws import client

BATCH = 10  # PutEvents takes at most ten entries
ATTEMPTS = 3


class PublishFailed(Exception):
    pass


def publish(bus_name: str, events: Iterable[DomainEvent]) -> int:
    pending = [
        {
            "Source": SOURCE,
            "DetailType": event.type,
            "EventBusName": bus_name,
            "Detail": json.dumps(event.model_dump(mode="json"), ensure_ascii=False),
            "Time": event.occurred_at,
        }
        for event in events
    ]
    published = 0
    for start in range(0, len(pending), BATCH):
        batch = pending[start : start + BATCH]
        for attempt in range(ATTEMPTS):
            response = client("events").put_events(Entries=batch)
            failed = [entry for entry, result in zip(batch, response["Entries"], strict=True) if "ErrorCode" in result]
            published += len(batch) - len(failed)
            if not failed:
                break
            batch = failed
            time.sleep(0.1 * 2**attempt)
        else:
            raise PublishFailed(f"{len(batch)} events refused by EventBridge")
    return published
