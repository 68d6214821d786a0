"""Reading a table's real DynamoDB stream from moto, as Lambda's event source does, so that tests
can feed (and redeliver, bisect, reorder) the very batches a consumer would get."""

from __future__ import annotations

from typing import Any

import boto3

from infra.local.invoke import stream_event
from infra.local.provision import REGION, Stack


class StreamTap:
    """The records a table's stream gained since the last ``take``, shard by shard."""

    def __init__(self, stack: Stack, table_id: str) -> None:
        self._streams = boto3.client("dynamodbstreams", region_name=REGION)
        self._arn = stack.attributes[(table_id, "StreamArn")]
        self._iterators: dict[str, str] = {}

    def take(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._streams.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            while True:
                response = self._streams.get_records(ShardIterator=self._iterators[shard_id], Limit=1000)
                self._iterators[shard_id] = response["NextShardIterator"]
                records += response.get("Records", [])
                if not response.get("Records"):
                    break
        return records

    def event(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        """``records`` as the Lambda event of one batch."""
        return stream_event(records, self._arn, REGION)


def batches(records: list[dict[str, Any]], sizes: list[int]) -> list[list[dict[str, Any]]]:
    """``records`` cut into consecutive batches of the given sizes (the last takes the rest)."""
    cut: list[list[dict[str, Any]]] = []
    start = 0
    for size in sizes:
        if start >= len(records):
            break
        cut.append(records[start : start + size])
        start += size
    if start < len(records):
        cut.append(records[start:])
    return cut
