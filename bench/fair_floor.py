"""Goal 5: the accrual use case against a fair floor, in one run.

The floor is what an accrual has to send anyway: the exact DynamoDB requests the use case made for
one accrual (recorded as botocore got them: the member's read, then the TransactWriteItems with
the real items, conditions and expressions), replayed through a bare boto3 client on the same moto.
What is left between the two is what the project adds in-process: validation, the domain's rules,
PynamoDB's serialisation, logging.

Each replay must be accepted as the use case's write is, so it gets its own transaction id and
its own member: a copy, seeded before timing, of every item the recorded accrual read (same
content, same version), under a member id of the same length. The replayed requests are then the
recorded ones with two strings swapped, the same size and shape. Both run in alternating batches so
that both see the same machine.
"""

from __future__ import annotations

import copy
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore import xform_name
from botocore.client import BaseClient

from infra.local.provision import REGION

if TYPE_CHECKING:
    from loyalty.pii.cipher import PiiCipher

GOAL = 1.3
BATCH = 20
READS_NOT_SEEDED = ("BatchGetItem", "Scan", "TransactGetItems")


def _items_read(call: Call) -> list[dict[str, Any]]:
    """The items a GetItem or a Query answered with (other calls read none the floor seeds)."""
    if call.operation == "GetItem":
        return [call.response["Item"]] if "Item" in call.response else []
    if call.operation == "Query":
        return list(call.response["Items"])
    return []


@dataclass(frozen=True)
class Call:
    operation: str
    params: dict[str, Any]
    response: dict[str, Any]


@contextmanager
def recording() -> Iterator[list[Call]]:
    """Every DynamoDB request made while the block runs, with its answer, as botocore got it."""
    calls: list[Call] = []
    original = BaseClient._make_api_call

    def recorded(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        response = original(client, operation, params)
        if client.meta.service_model.service_name == "dynamodb":
            calls.append(Call(operation, copy.deepcopy(params), copy.deepcopy(response)))
        return response

    BaseClient._make_api_call = recorded
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original


def _swapped(value: Any, swaps: dict[str, str]) -> Any:
    text = json.dumps(value)
    for old, new in swaps.items():
        text = text.replace(old, new)
    return json.loads(text)


def _shape(calls: list[Call]) -> list[tuple[str, list[str], int]]:
    """Each request's operation, tables and size (its token aside: botocore makes one per call)."""
    shape = []
    for call in calls:
        params = {name: value for name, value in call.params.items() if name != "ClientRequestToken"}
        text = json.dumps(params, sort_keys=True)
        shape.append((call.operation, sorted(set(re.findall(r'"TableName": "([^"]+)"', text))), len(text)))
    return shape


class Floor:
    """The recorded requests of one accrual, replayed through a bare client: the n-th replay reads
    and writes the n-th copy of the member under a fresh transaction id."""

    def __init__(self, calls: list[Call], transaction_id: str, member_id: str, copies: int) -> None:
        operations = [call.operation for call in calls]
        if not calls or not calls[-1].operation.startswith(("Transact", "Put", "Update")):
            raise ValueError(f"the recorded accrual wrote nothing: {operations}")
        if any(operation in READS_NOT_SEEDED for operation in operations):
            raise ValueError(f"the floor seeds what GetItem and Query read, not what {operations} read: extend _seed")
        self._client = boto3.client("dynamodb", region_name=REGION)
        self._transaction_id = transaction_id
        self._member_id = member_id
        # ClientRequestToken is the use case's own; botocore makes a fresh one for each replay
        self._calls = [
            (call.operation, {name: value for name, value in call.params.items() if name != "ClientRequestToken"})
            for call in calls
        ]
        self._reads = [(call.params["TableName"], item) for call in calls for item in _items_read(call)]
        self._next = 0
        self._prepared = [self._requests(n) for n in range(copies + 1)]  # one more for the check
        self._seed(copies + 1)
        self._check(calls)

    def _swaps(self, n: int) -> dict[str, str]:
        member = f"{self._member_id[:-8]}{n:08d}"  # same length: same item sizes
        return {self._transaction_id: f"{self._transaction_id[:-8]}r{n:07d}", self._member_id: member}

    def _requests(self, n: int) -> list[tuple[str, dict[str, Any]]]:
        swaps = self._swaps(n)
        return [(xform_name(operation), _swapped(params, swaps)) for operation, params in self._calls]

    def _seed(self, copies: int) -> None:
        """Each copy's member (and anything else the accrual read) as the use case read it."""
        for n in range(copies):
            swaps = self._swaps(n)
            for table, item in self._reads:
                self._client.put_item(TableName=table, Item=_swapped(item, swaps))

    def _check(self, recorded: list[Call]) -> None:
        """One replay, accepted, sends what the use case sent: the same requests, tables and sizes."""
        with recording() as replayed:
            self.replay()
        if _shape(replayed) != _shape(recorded):
            raise AssertionError(f"the floor is not the use case's requests: {_shape(replayed)} != {_shape(recorded)}")

    def replay(self) -> None:
        """One accrual's requests, in order, as the use case sent them (built before timing)."""
        requests = self._prepared[self._next]
        self._next += 1
        for method, params in requests:
            getattr(self._client, method)(**params)


def run(merchant_id: str, member_id: str, now: datetime, cipher: PiiCipher, runs: int) -> dict[str, Any]:
    """Goal 5 for a member as the bench left it: accruals by member id, as ``make bench`` times them."""
    from loyalty.api.purchases import PurchaseRequest
    from loyalty.services import accrual

    def accrue(transaction_id: str) -> None:
        request = PurchaseRequest(transaction_id=transaction_id, member_id=member_id, amount_kopecks=100_000)
        accrual.accrue(merchant_id, request, now, cipher)

    return measure(accrue, member_id, runs)


def measure(accrue: Callable[[str], object], member_id: str, runs: int) -> dict[str, Any]:
    """``accrue(transaction_id)`` runs one accrual by member id through the use case. Records one,
    then times ``runs`` of each, alternating batches of ``BATCH``. Transaction ids are unique in
    the requests (so swapping them is exact) and all of one length (so are the items)."""
    prefix = f"ff-{uuid.uuid4().hex[:8]}-"
    recorded_id = f"{prefix}c0000000"
    with recording() as calls:
        accrue(recorded_id)
    floor = Floor(calls, recorded_id, member_id, runs)
    use_case, floor_s = Clocks(), Clocks()
    done = 0
    while done < runs:
        batch = min(BATCH, runs - done)
        with use_case:
            for n in range(done, done + batch):
                accrue(f"{prefix}u{n:07d}")
        with floor_s:
            for _ in range(batch):
                floor.replay()
        done += batch
    return {
        "runs": runs,
        "requests": [call.operation for call in calls],
        "use_case_cpu_s": use_case.cpu,
        "floor_cpu_s": floor_s.cpu,
        "use_case_wall_s": use_case.wall,
        "floor_wall_s": floor_s.wall,
        "ratio": use_case.cpu / floor_s.cpu,
        "ratio_wall": use_case.wall / floor_s.wall,
    }


class Clocks:
    """Time spent inside ``with`` blocks: the process's CPU time (this process runs moto too, so
    it counts both sides of every request and little of the neighbours) and wall time."""

    def __init__(self) -> None:
        self.cpu = self.wall = 0.0

    def __enter__(self) -> None:
        self._started = (time.process_time(), time.perf_counter())

    def __exit__(self, *_: object) -> None:
        cpu, wall = self._started
        self.cpu += time.process_time() - cpu
        self.wall += time.perf_counter() - wall


def print_row(result: dict[str, Any]) -> None:
    ratio = result["ratio"]
    print()
    print("| goal | measured | goal | met? |")
    print("| --- | --- | --- | --- |")
    print(f"| goal 5: accrual vs fair floor | {ratio:.2f}x | {GOAL}x | {'yes' if ratio <= GOAL else '**no**'} |")
    print(
        f"({result['runs']} accruals by member id through the use case against the same requests "
        f"({', '.join(result['requests'])}) of the same items replayed through a bare boto3 client, on the same "
        f"moto in this process, alternating batches of {BATCH}: CPU {result['use_case_cpu_s']:.2f}s vs "
        f"{result['floor_cpu_s']:.2f}s; wall {result['use_case_wall_s']:.2f}s vs {result['floor_wall_s']:.2f}s, "
        f"ratio {result['ratio_wall']:.2f}x)"
    )
