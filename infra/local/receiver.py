"""The local stack's own webhook receiver: ``POST /_local/webhook-receiver/{name}``.

Point a webhook endpoint at it (``http://127.0.0.1:8000/_local/webhook-receiver/crm``) and every
delivery it gets shows in the dev inbox (``GET /_local/inbox?channel=webhook&to=crm``): headers,
raw body, what it answered and when it arrived. ``PUT /_local/webhook-receiver/{name}/faults``
with ``{"failures": 2, "status": 503}`` makes the next two deliveries fail, to watch retries.
It does not check signatures: it cannot know the secret (the merchant keeps it).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalice.app import Response
from loyalty.api.common import Request
from loyalty.clock import utcnow
from loyalty.http.blueprint import ApiBlueprint, reply
from pydantic import Field

KEPT = 1000  # the newest deliveries kept in memory
SHOWN_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "user-agent")


@dataclass
class Faults:
    failures: int = 0  # how many of the next deliveries fail
    status: int = 503


class WebhookReceiver:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[dict[str, Any]] = []
        self._faults: dict[str, Faults] = {}

    def set_faults(self, name: str, failures: int, status: int) -> dict[str, Any]:
        with self._lock:
            self._faults[name] = Faults(failures, status)
        return {"name": name, "failures": failures, "status": status}

    def receive(self, name: str, headers: Mapping[str, str], body: bytes) -> int:
        """Record a delivery; the status to answer it with."""
        lowered = {key.lower(): value for key, value in headers.items()}
        text = body.decode("utf-8", errors="replace")
        with self._lock:
            faults = self._faults.get(name)
            status = 200
            if faults is not None and faults.failures > 0:
                faults.failures -= 1
                status = faults.status
            self._received.append(
                {
                    "channel": "webhook",
                    "id": lowered.get("webhook-id"),
                    "to": name,
                    "subject": _event_type(text),
                    "text": text,
                    "headers": {key: lowered[key] for key in SHOWN_HEADERS if key in lowered},
                    "answered": status,
                    "received_at": utcnow().isoformat(),
                    "event_id": None,
                    "kind": _event_type(text),
                }
            )
            del self._received[:-KEPT]
        return status

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(message) for message in self._received]


def _event_type(text: str) -> str | None:
    try:
        payload = json.loads(text)
    except ValueError:
        return None
    return str(payload.get("type")) if isinstance(payload, dict) and payload.get("type") else None


class ReceiverFaults(Request):
    failures: int = Field(ge=0, le=1_000_000, description="how many of the next deliveries fail")
    status: int = Field(default=503, ge=300, le=599)


CONTENT_TYPES = ["application/json", "text/plain", "application/octet-stream"]


def add_receiver_routes(bp: ApiBlueprint, receiver: WebhookReceiver) -> None:
    @bp.route("/_local/webhook-receiver/{name}", methods=["POST"], content_types=CONTENT_TYPES)
    def webhook_receiver(name: str) -> Response:
        request = bp.current_request
        body = request.raw_body if isinstance(request.raw_body, bytes) else (request.raw_body or "").encode()
        status = receiver.receive(name, dict(request.headers), body)
        return reply(status, {"received": status < 300, "status": status})

    @bp.route("/_local/webhook-receiver/{name}/faults", methods=["PUT"])
    def webhook_receiver_faults(name: str) -> Response:
        faults = bp.parse(ReceiverFaults)
        return reply(200, receiver.set_faults(name, faults.failures, faults.status))
