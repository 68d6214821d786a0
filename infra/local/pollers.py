"""Feeding queue messages and table stream records to the same handlers Lambda would call."""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Callable
from typing import Any

from infra.local.invoke import FakeLambdaContext, sqs_event, stream_event

Handler = Callable[[dict[str, Any], Any], Any]


class Poller(threading.Thread, abc.ABC):
    def __init__(self, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self._stop_event = threading.Event()
        self.last_error: str | None = None
        self.batches = 0

    def stop(self) -> None:
        self._stop_event.set()

    @property
    def stopping(self) -> bool:
        return self._stop_event.is_set()

    def run(self) -> None:
        while not self.stopping:
            try:
                self.poll_once()
                self.last_error = None
            except Exception as exc:  # keep polling: a broken batch must not stop the stack
                self.last_error = f"{type(exc).__name__}: {exc}"
                time.sleep(0.5)

    @abc.abstractmethod
    def poll_once(self) -> None:
        """Fetch one batch and hand it to the handler."""


class SqsPoller(Poller):
    """Long-polls a queue like Lambda's event source mapping: deletes what the handler reports
    as processed and leaves batch item failures to reappear after the visibility timeout."""

    def __init__(
        self,
        name: str,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        handler: Handler,
        batch_size: int,
        timeout: int,
        region: str,
    ) -> None:
        super().__init__(name)
        self._sqs, self._url, self._arn = sqs, queue_url, queue_arn
        self._handler, self._batch_size, self._timeout, self._region = handler, batch_size, timeout, region

    def poll_once(self) -> None:
        received = self._sqs.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=min(self._batch_size, 10),
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return
        context = FakeLambdaContext(self.name, self._timeout, self._region)
        try:
            response = self._handler(sqs_event(received, self._arn, self._region), context) or {}
        except Exception:
            return  # the whole batch failed: every message comes back after its visibility timeout
        failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        done = [m for m in received if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        self.batches += 1


class StreamPoller(Poller):
    """Reads a DynamoDB stream shard by shard, as Lambda's stream event source does."""

    def __init__(
        self,
        name: str,
        streams: Any,
        stream_arn: str,
        handler: Handler,
        batch_size: int,
        timeout: int,
        region: str,
    ) -> None:
        super().__init__(name)
        self._streams, self._arn, self._handler = streams, stream_arn, handler
        self._batch_size, self._timeout, self._region = batch_size, timeout, region
        self._iterators: dict[str, str] = {}

    def poll_once(self) -> None:
        shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._streams.get_shard_iterator(
                    StreamArn=self._arn,
                    ShardId=shard_id,
                    ShardIteratorType="TRIM_HORIZON",
                )["ShardIterator"]
            response = self._streams.get_records(ShardIterator=self._iterators[shard_id], Limit=self._batch_size)
            records = response.get("Records", [])
            if records:
                context = FakeLambdaContext(self.name, self._timeout, self._region)
                # A failing batch is retried from the same position, as Lambda does by default.
                self._handler(stream_event(records, self._arn, self._region), context)
                self.batches += 1
            self._iterators[shard_id] = response["NextShardIterator"]
        time.sleep(0.2)
