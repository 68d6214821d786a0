"""Running the template's schedules locally: on a timer, and on demand as of any time."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loyalty.clock import utcnow

from infra.local.invoke import FakeLambdaContext, scheduled_event

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int:
    match = _RATE.match(expression)
    if match is None:
        raise ValueError(f"the local scheduler understands rate(...) expressions, not {expression!r}")
    return int(match.group(1)) * _SECONDS[match.group(2).rstrip("s")]


@dataclass(frozen=True)
class Job:
    name: str
    handler: Callable[[dict[str, Any], Any], Any]
    every_seconds: int
    timeout: int
    region: str

    def run(self, now: datetime | None = None) -> Any:
        moment = now or utcnow()
        context = FakeLambdaContext(self.name, self.timeout, self.region)
        return self.handler(scheduled_event(self.name, moment, self.region), context)


class Scheduler(threading.Thread):
    def __init__(self, jobs: dict[str, Job]) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.jobs = jobs
        self._stop_event = threading.Event()
        self.last_runs: dict[str, str] = {}
        self.last_errors: dict[str, str] = {}

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        due = dict.fromkeys(self.jobs, 0.0)
        elapsed = 0.0
        while not self._stop_event.wait(1.0):
            elapsed += 1.0
            for name, job in self.jobs.items():
                if elapsed >= due[name] + job.every_seconds:
                    due[name] = elapsed
                    self.run_job(name)

    def run_job(self, name: str, now: datetime | None = None) -> Any:
        job = self.jobs[name]
        try:
            result = job.run(now)
        except Exception as exc:
            self.last_errors[name] = f"{type(exc).__name__}: {exc}"
            raise
        self.last_runs[name] = utcnow().isoformat()
        self.last_errors.pop(name, None)
        return result
