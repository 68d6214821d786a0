"""The expiry job as Lambda runs it: the schedule's fan-out, then the expiry queue drained through
its worker's handler one message at a time (the queue is FIFO, a group per shard and month end)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3

from infra.local.invoke import FakeLambdaContext, scheduled_event, sqs_event
from infra.local.provision import REGION, Stack


@dataclass
class Drained:
    runs: list[dict[str, Any]] = field(default_factory=list)  # the message bodies handled, in order
    failures: int = 0
    points: int = 0  # what the expire entries written meanwhile took


def expired_points() -> int:
    """Every point the ledger's expire entries took (a test may scan; the product never does)."""
    items = boto3.resource("dynamodb", region_name=REGION).Table("ledger").scan()["Items"]
    return -sum(int(item["points"]) for item in items if item.get("kind") == "expire")


def _body(raw: str) -> dict[str, Any]:
    try:
        return dict(json.loads(raw))
    except ValueError:
        return {"unreadable": raw}


def drain(stack: Stack, *, most: int = 1000, deliveries: int = 1) -> Drained:
    """Every message is handed to the worker ``deliveries`` times (SQS delivers at least once)
    before it is deleted, unless it fails; a failed one comes back at once."""
    from loyalty.platform.observability import metrics

    from functions.expire.app import handle_runs

    sqs = boto3.client("sqs", region_name=REGION)
    url, arn = stack.queue_url("ExpiryQueue"), stack.attributes[("ExpiryQueue", "Arn")]
    drained, before = Drained(), expired_points()
    for _ in range(most):
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"]).get("Messages", [])
        if not received:
            drained.points = expired_points() - before
            return drained
        for _ in range(deliveries):
            reply = handle_runs(sqs_event(received, arn, REGION), FakeLambdaContext("expire-runs", 60, REGION))
            metrics.clear_metrics()  # what Lambda's flush after each invocation does (disabled here: never flushed)
        handle = received[0]["ReceiptHandle"]
        if reply["batchItemFailures"]:
            drained.failures += 1
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
        else:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
        drained.runs.append(_body(received[0]["Body"]))
    raise AssertionError("the expiry queue did not empty")


def run_expiry_job(stack: Stack, now: datetime) -> dict[str, Any]:
    """The daily schedule as of ``now``, then every run it queued: its answer and the points expired."""
    from functions.expire.app import handle

    fanned_out = handle(scheduled_event("expire", now, REGION), FakeLambdaContext("expire", 900, REGION))
    drained = drain(stack)
    return {**fanned_out, "runs": len(drained.runs), "points": drained.points}
