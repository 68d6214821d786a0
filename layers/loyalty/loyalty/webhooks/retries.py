"""What one attempt's answer means, when to try again, and when an endpoint that keeps failing is
disabled.

- A ``2xx`` answer delivers. Anything else fails the attempt: other statuses (a ``3xx`` too:
  redirects are not followed), a timeout, a refused connection, an address the URL policy forbids.
- ``410 Gone`` says the receiver wants no more: the endpoint is disabled at once.
- Otherwise the delivery is tried again after ``base x 2^(attempt - 1)`` seconds (at most
  ``MAX_DELAY_SECONDS``), give or take ``JITTER`` so that endpoints that failed together are not
  retried together, and never sooner than the answer's ``Retry-After``. The number of attempts is
  the delivery queue's receive budget; after the last one the delivery is ``failed`` (it can be
  replayed by hand).
- An endpoint is disabled, and the merchant told, when at least ``failures`` attempts in a row
  have failed over at least ``seconds`` (whatever deliveries they were for): one success resets
  the count.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

# SQS keeps a message invisible for at most 12 hours from its receipt; six leave ample room.
MAX_DELAY_SECONDS = 6 * 3600
JITTER = 0.1
GONE = 410
_random = random.SystemRandom()


@dataclass(frozen=True)
class AttemptResult:
    """What one POST to the endpoint came to."""

    status_code: int | None  # None: no HTTP answer (timeout, refused, forbidden address)
    latency_ms: int
    error: str | None = None  # why it failed, in a few words (never the payload)
    retry_after_seconds: int | None = None
    response_excerpt: str | None = None  # the start of the receiver's answer, for the delivery log

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == GONE


def nominal_delay(attempt: int, base_seconds: int) -> int:
    """The delay after failed attempt ``attempt`` (1 is the first), before jitter."""
    return int(min(base_seconds * 2 ** max(attempt - 1, 0), MAX_DELAY_SECONDS))


def retry_delay(
    attempt: int,
    base_seconds: int,
    retry_after_seconds: int | None = None,
    uniform: Callable[[float, float], float] = _random.uniform,
) -> int:
    """Seconds to wait after failed attempt ``attempt`` before the next one."""
    delay = nominal_delay(attempt, base_seconds) * uniform(1 - JITTER, 1 + JITTER)
    if retry_after_seconds is not None:
        delay = max(delay, min(retry_after_seconds, MAX_DELAY_SECONDS))
    return max(1, min(round(delay), MAX_DELAY_SECONDS))


def schedule(base_seconds: int, attempts: int) -> list[int]:
    """Nominal seconds from the first attempt to each attempt: ``[0, base, 3 x base, ...]``."""
    times, elapsed = [0], 0
    for attempt in range(1, attempts):
        elapsed += nominal_delay(attempt, base_seconds)
        times.append(elapsed)
    return times


@dataclass(frozen=True)
class DisableRule:
    failures: int  # at least this many failed attempts in a row ...
    seconds: int  # ... spanning at least this long

    def applies(self, failures_in_a_row: int, failing_since: datetime | None, now: datetime) -> bool:
        if failing_since is None or failures_in_a_row < self.failures:
            return False
        return (now - failing_since).total_seconds() >= self.seconds
