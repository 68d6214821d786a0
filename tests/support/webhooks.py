"""A webhook receiver written from the documentation alone: the Standard Webhooks specification
(https://www.standardwebhooks.com) and the README's "Receiving webhooks" section, not our code.
If what we send drifts from the standard, the tests that verify with it fail.

From the specification:
- headers ``webhook-id``, ``webhook-timestamp`` (integer unix seconds), ``webhook-signature``: a
  space-delimited list of signatures, each ``v1,<base64>`` for the symmetric scheme;
- the signed content is ``{msg_id}.{timestamp}.{payload}`` with the payload exactly as received;
- the symmetric scheme is HMAC-SHA256; secrets are shown base64-encoded behind ``whsec_``;
- compare in constant time, and refuse timestamps outside a tolerance (replays).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_SECONDS = 5 * 60


class Rejected(Exception):
    pass


def verify(headers: Mapping[str, str], body: bytes, secret: str, now: float | None = None) -> dict[str, Any]:
    """The payload of an authentic delivery, or ``Rejected``."""
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        msg_id, timestamp, signatures = (
            lowered["webhook-id"],
            lowered["webhook-timestamp"],
            lowered["webhook-signature"],
        )
    except KeyError as exc:
        raise Rejected(f"missing header {exc}") from exc
    if abs((time.time() if now is None else now) - int(timestamp)) > TOLERANCE_SECONDS:
        raise Rejected("timestamp outside the tolerance")
    prefix = "whsec_"
    key = base64.b64decode(secret[len(prefix) :] if secret.startswith(prefix) else secret)
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            payload: dict[str, Any] = json.loads(body)
            return payload
    raise Rejected("no signature matches")


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    answered: int


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records deliveries and answers with the statuses given
    (then 200)."""

    url: str
    answers: list[int] = field(default_factory=list)
    retry_after: str | None = None
    received: list[Received] = field(default_factory=list)

    def fail_next(self, *statuses: int) -> None:
        self.answers.extend(statuses)

    def payloads(self, secret: str) -> list[dict[str, Any]]:
        return [verify(request.headers, request.body, secret) for request in self.received]


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                status = state.answers.pop(0) if state.answers else 200
                state.received.append(Received(self.path, dict(self.headers.items()), body, time.time(), status))
            self.send_response(status)
            if state.retry_after and status >= 400:
                self.send_header("Retry-After", state.retry_after)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}' if status < 300 else b'{"error": "not now"}')

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
