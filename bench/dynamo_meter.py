"""Counting DynamoDB calls and capacity units, independent of the machine.

Every botocore call to DynamoDB is recorded (PynamoDB and boto3 both go through botocore). Capacity
units are computed from item sizes with DynamoDB's published rules, because moto does not report
them for transactions:
- reads: 1 RCU per 4 KB (strongly consistent; half for eventually consistent), Query on the sum;
- writes: 1 WCU per 1 KB; TransactWriteItems costs 2 WCU per 1 KB per item.
Item size follows the documented formula: attribute names plus values (strings in UTF-8 bytes,
numbers about one byte per two digits plus one, maps and lists 3 bytes plus their elements).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient

_SCALAR_SIZES: dict[str, Any] = {
    "S": lambda raw: len(str(raw).encode()),
    "N": lambda raw: len(str(raw).lstrip("-").replace(".", "")) // 2 + 1,
    "BOOL": lambda raw: 1,
    "NULL": lambda raw: 1,
    "B": len,
}


def value_size(value: dict[str, Any]) -> int:
    ((kind, raw),) = value.items()
    if kind in _SCALAR_SIZES:
        return int(_SCALAR_SIZES[kind](raw))
    if kind == "M":
        return 3 + sum(len(name.encode()) + value_size(inner) + 1 for name, inner in raw.items())
    if kind == "L":
        return 3 + sum(value_size(inner) + 1 for inner in raw)
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: item}) for item in raw)
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def _rcu(size: int, consistent: bool) -> float:
    units = max(math.ceil(size / 4096), 1)
    return float(units) if consistent else units / 2


def _wcu(size: int) -> int:
    return max(math.ceil(size / 1024), 1)


@dataclass
class Meter:
    calls: Counter[str] = field(default_factory=Counter)
    read_units: float = 0.0
    write_units: float = 0.0

    def record(self, operation: str, params: dict[str, Any], response: dict[str, Any]) -> None:
        self.calls[operation] += 1
        consistent = bool(params.get("ConsistentRead"))
        if operation == "GetItem":
            self.read_units += _rcu(item_size(response.get("Item", {})), consistent)
        elif operation == "Query":
            self.read_units += _rcu(sum(item_size(i) for i in response.get("Items", [])), consistent)
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            self.write_units += _wcu(item_size(params.get("Item", params.get("Key", {}))))
        elif operation == "TransactWriteItems":
            for action in params["TransactItems"]:
                ((_kind, body),) = action.items()
                self.write_units += 2 * _wcu(item_size(body.get("Item", body.get("Key", {}))))

    def reset(self) -> None:
        self.calls.clear()
        self.read_units = self.write_units = 0.0

    def snapshot(self) -> dict[str, Any]:
        return {"calls": dict(self.calls), "rcu": self.read_units, "wcu": self.write_units}


@contextmanager
def metering() -> Iterator[Meter]:
    """Record every DynamoDB call made in this process while the block runs."""
    meter = Meter()
    original = BaseClient._make_api_call

    def counted(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        is_dynamodb = client.meta.service_model.service_name == "dynamodb"
        try:
            response = original(client, operation, params)
        except Exception:
            if is_dynamodb:  # a refused conditional write is still a round-trip (and, in AWS, capacity)
                meter.record(operation, params, {})
            raise
        if is_dynamodb:
            meter.record(operation, params, response)
        return response

    BaseClient._make_api_call = counted
    try:
        yield meter
    finally:
        BaseClient._make_api_call = original
