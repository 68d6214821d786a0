"""Outgoing webhooks in `make bench`.

``costs`` (in the bench's process, on its moto): DynamoDB calls and capacity units of the fan-out
of one event and of one delivery attempt. ``python -m bench.webhooks`` (its own process, the whole
local stack in it): how long a purchase takes to reach the stack's own webhook receiver, and the
delays between attempts when the receiver fails (retry base 1 s)."""

from __future__ import annotations

import itertools
import json
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from bench.dynamo_meter import Meter

PURCHASES = 30


@contextmanager
def _receiver() -> Iterator[tuple[str, list[int]]]:
    """A receiver on 127.0.0.1 that answers the statuses queued in its list (then 200)."""
    answers: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(answers.pop(0) if answers else 200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", answers
    finally:
        server.shutdown()
        server.server_close()


def costs(meter: Meter, measure: Callable[[Meter, Callable[[], Any]], dict[str, Any]]) -> dict[str, Any]:
    from loyalty.api.webhooks import EndpointRequest
    from loyalty.clock import utcnow
    from loyalty.events import DomainEvent
    from loyalty.runtime import current
    from loyalty.services import webhook_deliveries, webhook_endpoints
    from loyalty.services.webhook_deliveries import Deliverer, DeliveryJob, DeliverySettings, RetryLater
    from loyalty.webhooks.retries import DisableRule
    from loyalty.webhooks.sender import WebhookSender
    from loyalty.webhooks.urls import UrlPolicy

    now, cipher = utcnow(), current().cipher()
    jobs: list[DeliveryJob] = []

    def event(merchant_id: str, number: int) -> DomainEvent:
        data = {"points": 10, "balance": 10, "transaction_id": f"t-{number}", "amount_kopecks": 100_000}
        return DomainEvent(
            event_id=f"le_{number}",
            type="points_earned",
            merchant_id=merchant_id,
            member_id="m",
            occurred_at=now,
            data=data,
        )

    settings = DeliverySettings(retry_base_seconds=60, attempts=16, disable_rule=DisableRule(10, 86_400))
    deliverer = Deliverer(WebhookSender(UrlPolicy.LOCAL), cipher, settings, lambda endpoint, reason: None)
    results: dict[str, Any] = {}
    with _receiver() as (url, answers):
        results["webhook fan-out, merchant without endpoints"] = measure(
            meter, lambda: webhook_deliveries.fan_out(event("mch_none", 1), now, jobs.append)
        )
        for _ in range(2):
            webhook_endpoints.create(
                "mch_two", EndpointRequest(url=url, event_types=["points.earned"]), now, cipher, UrlPolicy.LOCAL
            )
        results["webhook fan-out, 2 endpoints subscribed"] = measure(
            meter, lambda: webhook_deliveries.fan_out(event("mch_two", 2), now, jobs.append)
        )
        results["webhook attempt, delivered"] = measure(meter, lambda: deliverer.deliver(jobs[0], 1, now))
        answers.append(503)

        def failed_attempt() -> None:
            try:
                deliverer.deliver(jobs[1], 1, now)
            except RetryLater:
                return

        results["webhook attempt, failed (retried later)"] = measure(meter, failed_attempt)
    return results


def latency() -> dict[str, Any]:
    from infra.local.stack import LocalSettings, LocalStack

    settings = LocalSettings(api_port=0, aws_port=0, sevendar_port=0, queue_visibility_timeout=1, log_level="ERROR")
    settings.extra_env = {"WEBHOOK_RETRY_SECONDS": "1"}
    stack = LocalStack(settings)
    stack.start()
    try:
        return _measure_latency(stack)
    finally:
        stack.stop()


def _measure_latency(stack: Any) -> dict[str, Any]:
    api = stack.api_url
    merchant = requests.post(
        f"{api}/v1/admin/merchants",
        json={"name": "Bench"},
        headers={"Authorization": f"Bearer {stack.settings.admin_token}"},
        timeout=10,
    ).json()
    key = {"X-Api-Key": merchant["api_key"]}
    url = f"{api}/_local/webhook-receiver/bench"
    requests.post(
        f"{api}/v1/webhook-endpoints", json={"url": url, "event_types": ["purchase.recorded"]}, headers=key, timeout=10
    )
    member = requests.post(f"{api}/v1/members", json={"phone": "+79160000099"}, headers=key, timeout=10).json()

    def arrivals(transaction_id: str) -> list[datetime]:
        return [
            datetime.fromisoformat(m["received_at"])
            for m in stack.webhook_receiver.messages()
            if json.loads(m["text"])["data"].get("transaction_id") == transaction_id
        ]

    def purchase(transaction_id: str) -> datetime:
        body = {"transaction_id": transaction_id, "member_id": member["member_id"], "amount_kopecks": 100_000}
        requests.post(f"{api}/v1/purchases", json=body, headers=key, timeout=10).raise_for_status()
        return datetime.now(UTC)

    def wait(transaction_id: str, count: int) -> list[datetime]:
        deadline = time.monotonic() + 60
        while len(found := arrivals(transaction_id)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return found

    seconds = []
    for number in range(PURCHASES):
        answered = purchase(f"lat-{number}")
        seconds.append((wait(f"lat-{number}", 1)[0] - answered).total_seconds())
    requests.put(f"{api}/_local/webhook-receiver/bench/faults", json={"failures": 3}, timeout=10)
    purchase("retried")
    tries = wait("retried", 4)
    time.sleep(1)  # let the worker record the last attempt before the stack stops
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(tries)]
    return {
        "purchases": PURCHASES,
        "latency_median_s": statistics.median(seconds),
        "latency_p90_s": statistics.quantiles(seconds, n=10)[-1],
        "latency_max_s": max(seconds),
        "retry_gaps_s_with_base_1s": gaps,
    }


RESULT_PREFIX = "WEBHOOK_BENCH "  # the stack's own logs share stdout


def run_in_subprocess() -> dict[str, Any]:
    import subprocess
    import sys

    output = subprocess.run([sys.executable, "-m", "bench.webhooks"], capture_output=True, check=True, text=True)
    [line] = [line for line in output.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    result: dict[str, Any] = json.loads(line.removeprefix(RESULT_PREFIX))
    return result


if __name__ == "__main__":
    print(RESULT_PREFIX + json.dumps(latency()), flush=True)
