"""A purchase over HTTP through the local stack, at 1 and 8 concurrent clients, next to its floor.

The stack runs as `make run` runs it (`python -m infra.local`, a process of its own, started the way
the end-to-end tests start it); the clients are threads of this process, each with its own
connection and its own member (the tills of a shop serve different people). The floor is the
same request with a wrong API key: the gateway, the merchant
authorizer's one read and the 401, without the function. The per-merchant throttle is lifted so
that it measures the work, not the usage plan. Latencies in ms; this machine's, so compare rows of
one run, not runs.
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from tests.support.local_stack import DEMO_KEY, running_stack

REQUESTS = 400
WARM_UP = 10
CLIENTS = (1, 8)
UNLIMITED = {"LOYALTY_THROTTLE_RATE": "1000000", "LOYALTY_THROTTLE_BURST": "1000000"}


def _timed(
    clients: int, total: int, send: Callable[[requests.Session, int, int], requests.Response], expect: int
) -> list[float]:
    numbers = itertools.count()
    lock = threading.Lock()

    def client(index: int) -> list[float]:
        seconds: list[float] = []
        with requests.Session() as session:
            for _ in range(total // clients):
                with lock:
                    number = next(numbers)
                started = time.perf_counter()
                answer = send(session, index, number)
                seconds.append(time.perf_counter() - started)
                if answer.status_code != expect:
                    raise AssertionError(f"expected {expect}, got {answer.status_code}: {answer.text[:200]}")
        return seconds

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return [second for seconds in pool.map(client, range(clients)) for second in seconds]


def _row(name: str, clients: int, seconds: list[float], wall: float) -> dict[str, Any]:
    cuts = statistics.quantiles(seconds, n=100)
    return {
        "request": name,
        "clients": clients,
        "requests": len(seconds),
        "p50_ms": round(statistics.median(seconds) * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
        "per_second": round(len(seconds) / wall, 1),
    }


def measure(requests_per_row: int = REQUESTS) -> list[dict[str, Any]]:
    with running_stack({**UNLIMITED, "LOYALTY_RUN_SCHEDULES": "0", "LOYALTY_LOG_LEVEL": "ERROR"}) as stack:
        api, key = stack.api, {"X-Api-Key": DEMO_KEY}
        cards = [
            requests.post(f"{api}/v1/members", json={"phone": f"+7916000{n:04d}"}, headers=key, timeout=10).json()[
                "card_number"
            ]
            for n in range(max(CLIENTS))
        ]

        def purchase(
            session: requests.Session, client: int, number: int, headers: dict[str, str] = key
        ) -> requests.Response:
            body = {"transaction_id": f"http-{number}", "card_number": cards[client], "amount_kopecks": 10_000}
            return session.post(f"{api}/v1/purchases", json=body, headers=headers, timeout=30)

        def refused(session: requests.Session, client: int, number: int) -> requests.Response:
            return purchase(session, client, number, {"X-Api-Key": "lk_wrong_key_for_the_floor"})

        def health(session: requests.Session, client: int, number: int) -> requests.Response:
            return session.get(f"{api}/health", timeout=30)

        def warm_up(session: requests.Session, client: int, number: int) -> requests.Response:
            return purchase(session, client, 10**7 + number)

        _timed(max(CLIENTS), WARM_UP * max(CLIENTS), warm_up, 201)  # every card seen, as by a busy shop's functions
        rows = []
        for round_number, clients in enumerate(CLIENTS):

            def accrue(
                session: requests.Session, client: int, number: int, base: int = round_number
            ) -> requests.Response:
                return purchase(session, client, base * 10**6 + number)

            kinds: list[tuple[str, Callable[[requests.Session, int, int], requests.Response], int]] = [
                ("POST /v1/purchases by card (201)", accrue, 201),
                ("the 401 floor: the same with a wrong key", refused, 401),
                ("GET /health", health, 200),
            ]
            for name, send, expect in kinds:
                started = time.perf_counter()
                seconds = _timed(clients, requests_per_row, send, expect)
                rows.append(_row(name, clients, seconds, time.perf_counter() - started))
        return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    print()
    print("| over HTTP, local stack | clients | requests | p50 ms | p99 ms | requests/s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(
            f"| {row['request']} | {row['clients']} | {row['requests']} | {row['p50_ms']:g} | "
            f"{row['p99_ms']:g} | {row['per_second']:g} |"
        )


if __name__ == "__main__":
    print_table(measure())
