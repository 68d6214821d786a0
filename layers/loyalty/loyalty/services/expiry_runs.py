"""The expiry job through a queue, so that no Lambda invocation's work grows with the members.

The daily schedule only fans out: one message per shard of every month end due (16 x 3, cheap and
fixed), and one per shard of a month end whose warnings are due (16 on such a day). The expiry
queue's worker runs one message: a page of at most ``expiry.BATCH_MEMBERS`` members of its shard,
expired or warned, for at most ``RUN_SECONDS``, then queues the same shard from where it
stopped. The queue is FIFO with a group per shard and month end, so a shard runs one page at a
time, in order; a repeated schedule's fan-out or a continuation queued twice is dropped by SQS's
deduplication. A message that is received again (a crash, a timeout) runs its page again: the
members it expired before are out of the shard's queue and expire nothing twice.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from loyalty.events import DomainEvent
from loyalty.platform.aws import client
from loyalty.services.expiry import ShardOutcome, ShardRun, expire_shard, warn_shard

RUN_SECONDS = 30.0  # a run stops taking members after this (the worker's timeout leaves room to finish)
SQS_BATCH = 10  # SendMessageBatch takes at most ten


def _group(run: ShardRun) -> str:
    kind = "expire" if run.warning_days is None else f"warn{run.warning_days}"
    return f"{kind}-{run.day.isoformat()}-{run.shard:02d}"


def _deduplication_id(run: ShardRun) -> str:
    """The same run (shard, month end, scheduled time, position) is queued once."""
    position = hashlib.sha256((run.after or "").encode()).hexdigest()[:32]
    return f"{_group(run)}-{run.as_of:%Y%m%dT%H%M%S}-{position}"


def _entry(n: int, run: ShardRun) -> dict[str, str]:
    return {
        "Id": str(n),
        "MessageBody": run.model_dump_json(),
        "MessageGroupId": _group(run),
        "MessageDeduplicationId": _deduplication_id(run),
    }


def enqueue(runs: list[ShardRun], queue_url: str) -> int:
    sqs = client("sqs")
    for start in range(0, len(runs), SQS_BATCH):
        entries = [_entry(n, run) for n, run in enumerate(runs[start : start + SQS_BATCH])]
        failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed", [])
        if failed:  # the schedule fails and is retried; what was queued is deduplicated
            raise RuntimeError(f"the expiry queue refused {len(failed)} runs: {failed[0].get('Code')}")
    return len(runs)


def run_and_continue(
    run: ShardRun,
    queue_url: str,
    publish: Callable[[list[DomainEvent]], object],
    *,
    seconds: float = RUN_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> ShardOutcome:
    """Run one message's page (expiry, or warnings published through ``publish``); queue the rest
    of the shard, if any, before the message is done."""
    deadline = clock() + seconds

    def time_left() -> bool:
        return clock() < deadline

    if run.warning_days is None:
        outcome = expire_shard(run, time_left=time_left)
    else:
        outcome = warn_shard(run, publish, time_left=time_left)
    if outcome.next_run is not None:
        enqueue([outcome.next_run], queue_url)
    return outcome
