"""Starting `python -m infra.local` (what `make run` runs) on free ports, for end-to-end tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import requests

from infra.local.provision import REGION
from tests.support.partners import PartnerSender

ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"LOYALTY_READY api=(\S+) aws=(\S+) sevendar=(\S*)")
ADMIN_TOKEN = "e2e-admin-token"
DEMO_KEY = "lk_demo_e2e_key"
# The stack gives itself STOP_SECONDS (8) to stop its parts, then exits: the rest is slack for a
# loaded CI machine.
STOP_BOUND_SECONDS = 15


@dataclass
class RunningStack:
    api: str
    aws: str
    sevendar: str
    seconds_to_healthy: float
    output: list[str]
    process: subprocess.Popen[str]
    stopped: bool = False

    def aws_client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.aws,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def queue_url(self, name: str) -> str:
        return str(self.aws_client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


@contextmanager
def running_stack(
    extra_env: dict[str, str] | None = None, timeout: float = 90, arguments: list[str] | None = None
) -> Iterator[RunningStack]:
    env = {
        **os.environ,
        "LOYALTY_PORT": "0",
        "LOYALTY_AWS_PORT": "0",
        "LOYALTY_SEVENDAR_PORT": "0",
        "LOYALTY_SEVENDAR_STEP_SECONDS": "0.5",
        "GIFT_CARD_RETRY_SECONDS": "1",
        "LOYALTY_ADMIN_TOKEN": ADMIN_TOKEN,
        "LOYALTY_DEMO_API_KEY": DEMO_KEY,
        "LOYALTY_QUEUE_VISIBILITY_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    for inherited in ("AWS_ENDPOINT_URL", "MERCHANTS_TABLE", "KEYS_SECRET_NAME"):
        env.pop(inherited, None)  # the stack sets its own; the test process's moto is not its moto
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local", *(arguments or [])],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output: list[str] = []
    ready: re.Match[str] | None = None
    assert process.stdout is not None
    while ready is None:
        line = process.stdout.readline()
        if not line:
            raise AssertionError("local stack exited before it was ready:\n" + "".join(output))
        output.append(line)
        ready = READY.search(line)
        if time.monotonic() - started > timeout:
            process.kill()
            raise AssertionError("local stack not ready in time:\n" + "".join(output))
    threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")), daemon=True).start()  # type: ignore[union-attr]
    api, aws, sevendar = ready.group(1), ready.group(2), ready.group(3)
    while requests.get(f"{api}/health", timeout=5).status_code != 200:
        time.sleep(0.1)
    stack = RunningStack(api, aws, sevendar, time.monotonic() - started, output, process)
    try:
        yield stack
    finally:
        if not stack.stopped:
            stop(process, output)


def stop(process: subprocess.Popen[str], output: list[str]) -> float:
    """Ctrl-C, as a developer would press it; the stack must be gone within STOP_BOUND_SECONDS
    whatever it was doing. Returns how long it took."""
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(timeout=STOP_BOUND_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("local stack did not stop on Ctrl-C:\n" + "".join(output[-20:])) from None
    assert code == 0, "".join(output)
    return time.monotonic() - started


def wait_for(predicate: Any, timeout: float = 20.0, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


class Shop:
    """A merchant of the running stack, created by the platform admin, calling with its key."""

    def __init__(self, stack: RunningStack, name: str = "Shop") -> None:
        self.api = stack.api
        created = requests.post(
            f"{self.api}/v1/admin/merchants",
            json={"name": name},
            timeout=10,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        ).json()
        self.merchant_id, self.key = created["merchant_id"], {"X-Api-Key": created["api_key"]}

    def call(self, method: str, path: str, body: Any = None, **params: str) -> Any:
        """The JSON answer of a call that must succeed (2xx)."""
        reply = requests.request(
            method, f"{self.api}{path}", json=body, params=params or None, headers=self.key, timeout=30
        )
        assert reply.status_code < 300, reply.text
        return reply.json()

    def partner(self, name: str = "Web shop") -> PartnerSender:
        """A partner system this merchant issued a signing key to (POST /v1/partners)."""
        issued = self.call("POST", "/v1/partners", {"name": name})
        return PartnerSender(issued["partner_id"], issued["signing_secret"])

    def member(self, member_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/v1/members/{member_id}"))

    def job(self, name: str, now: str) -> Any:
        return self.call("POST", f"/_local/jobs/{name}", now=now)
