"""A local SevenDar that behaves like the real supplier, for the local stack and tests.

It serves SevenDar's API as ``loyalty.sevendar.client`` describes it, from memory: bearer-key auth
(401 otherwise), validation with SevenDar's error shape (400 no Idempotency-Key or no JSON, 422 an
invalid order), idempotent creates (same key and body: the same answer, another body: 409), a small
design catalog, and orders that move one status per ``step_seconds`` (accepted -> in_production ->
shipped -> delivered) on a background ticker (``step_seconds=0``: only when told). Every change is
sent as a signed webhook to the order's callback_url from a background worker, retried with
backoff until it gets a 2xx; a callback that is down only costs retries.

Control, without auth (and the same from Python for tests):
- ``POST /_standin/faults`` ``{"mode": "down"|"slow"|"error500"|"throttle"|"none", "count": int|null,
  "delay_seconds": float}``: the next ``count`` API requests (null: all, until changed) answer 503,
  wait ``delay_seconds`` first, answer 500, or answer 429 with ``Retry-After: 1``;
  ``GET /_standin/faults`` shows it with how many requests it has affected;
- ``POST /_standin/orders/{id}/advance`` and ``.../fail``: move an order now (and send its webhook);
- ``GET /_standin/orders``: every order, with how many times its idempotency key was used;
- ``GET /_standin/webhooks``: every webhook with its delivery attempts;
- ``POST /_standin/reset``: forget everything.

Run alone: ``python -m infra.sevendar.standin --port 8700`` (prints the URL; Ctrl-C stops).
The signature here is computed independently of ``loyalty.sevendar.webhooks``, as SevenDar would.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import hmac
import itertools
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, unquote

import urllib3

# The stand-in reads the local stack's one clock: when a demo moves it, SevenDar's webhooks must
# not look stale to the API that checks their timestamps.
from loyalty.clock import utcnow

DEFAULT_API_KEY = "sevendar-local-key"
DEFAULT_WEBHOOK_SECRET = b"sevendar-local-webhook-secret"
DEFAULT_PORT = 8700

KINDS = ("gift_card", "loyalty_card")
FAULT_MODES = ("none", "down", "slow", "error500", "throttle")
NEXT_STATUS = {"accepted": "in_production", "in_production": "shipped", "shipped": "delivered"}
NOT_CANCELLABLE = frozenset({"shipped", "delivered", "failed"})
MAX_QUANTITY = 10_000
MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_WEBHOOK_BACKOFF_SECONDS = 30.0

_PREVIEWS = "https://sevendar.example/previews"
CATALOG: tuple[dict[str, Any], ...] = (
    {
        "id": "gc_birch_grove",
        "name": "Берёзовая роща",
        "kind": "gift_card",
        "preview_url": f"{_PREVIEWS}/gc_birch_grove.png",
        "min_nominal_kopecks": 50_000,
        "max_nominal_kopecks": 5_000_000,
    },
    {
        "id": "gc_winter_tale",
        "name": "Зимняя сказка",
        "kind": "gift_card",
        "preview_url": f"{_PREVIEWS}/gc_winter_tale.png",
        "min_nominal_kopecks": 100_000,
        "max_nominal_kopecks": 10_000_000,
    },
    {
        "id": "gc_khokhloma",
        "name": "Хохлома",
        "kind": "gift_card",
        "preview_url": f"{_PREVIEWS}/gc_khokhloma.png",
        "min_nominal_kopecks": 30_000,
        "max_nominal_kopecks": 3_000_000,
    },
    {
        "id": "lc_classic",
        "name": "Классическая пластиковая карта",
        "kind": "loyalty_card",
        "preview_url": f"{_PREVIEWS}/lc_classic.png",
        "min_nominal_kopecks": None,
        "max_nominal_kopecks": None,
    },
    {
        "id": "lc_gold",
        "name": "Золотая карта постоянного гостя",
        "kind": "loyalty_card",
        "preview_url": f"{_PREVIEWS}/lc_gold.png",
        "min_nominal_kopecks": None,
        "max_nominal_kopecks": None,
    },
)
_DESIGNS = {design["id"]: design for design in CATALOG}

_ORDER_PATH = re.compile(r"^/v1/orders/([^/]+)$")
_CANCEL_PATH = re.compile(r"^/v1/orders/([^/]+)/cancel$")
_CONTROL_ORDER_PATH = re.compile(r"^/_standin/orders/([^/]+)/(advance|fail)$")
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_POSTAL_CODE = re.compile(r"^[0-9]{6}$")

Answer = tuple[int, dict[str, Any], dict[str, str]]


class StandInError(Exception):
    """A request the stand-in refuses, as SevenDar would: HTTP status and SevenDar's error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def answer(self) -> Answer:
        return self.status, {"error": {"code": self.code, "message": self.message}}, {}


def _now_iso() -> str:
    return utcnow().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class _Order:
    id: str
    reference: str
    kind: str
    quantity: int
    callback_url: str
    idempotency_key: str
    created_at: str
    updated_at: str
    next_step_at: float
    status: str = "accepted"
    tracking_number: str | None = None
    printed_codes: tuple[str, ...] = ()  # what the recipient finds on the cards (control API only)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "status": self.status,
            "kind": self.kind,
            "quantity": self.quantity,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "tracking_number": self.tracking_number,
        }


@dataclass
class _IdempotencyRecord:
    fingerprint: str
    order_id: str
    answer: dict[str, Any]


@dataclass
class _Webhook:
    event_id: str
    order_id: str
    status: str
    callback_url: str
    body: bytes
    generation: int
    attempts: int = 0
    delivered: bool = False
    gave_up: bool = False
    last_result: str = "pending"

    def public(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "order_id": self.order_id,
            "status": self.status,
            "attempts": self.attempts,
            "delivered": self.delivered,
            "gave_up": self.gave_up,
            "last_result": self.last_result,
        }


@dataclass
class _Fault:
    mode: str = "none"
    remaining: int | None = None  # None: every request until changed
    delay_seconds: float = 0.0
    affected: int = 0

    def public(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "count": self.remaining,
            "delay_seconds": self.delay_seconds,
            "affected": self.affected,
        }


class SevenDarStandIn:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = DEFAULT_API_KEY,
        webhook_secret: bytes = DEFAULT_WEBHOOK_SECRET,
        step_seconds: float = 2.0,
        webhook_retry_base_seconds: float = 0.5,
        webhook_max_attempts: int = 8,
    ) -> None:
        self._host, self._port = host, port
        self._api_key = api_key
        self._webhook_secret = webhook_secret
        self._step_seconds = step_seconds
        self._webhook_retry_base = webhook_retry_base_seconds
        self._webhook_max_attempts = webhook_max_attempts

        self._lock = threading.RLock()  # guards all state below
        self._orders: dict[str, _Order] = {}
        self._keys: dict[str, _IdempotencyRecord] = {}
        self._key_uses: dict[str, int] = {}
        self._webhooks: list[_Webhook] = []
        self._fault = _Fault()
        self._generation = 0  # bumped by reset: pending webhooks of before are dropped

        self._due = threading.Condition()  # guards the delivery queue; never held while taking _lock
        self._queue: list[tuple[float, int, _Webhook]] = []
        self._sequence = itertools.count()

        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=1.0, read=2.0), retries=False)

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("the stand-in is already started")
        self._stopping.clear()
        self._server = _Server((self._host, self._port), self)
        # A short poll interval makes stop() quick, which keeps tests that start many stand-ins fast.
        workers: list[tuple[str, Callable[..., None], dict[str, Any]]] = [
            ("server", self._server.serve_forever, {"poll_interval": 0.05}),
            ("webhooks", self._deliver_loop, {}),
        ]
        if self._step_seconds > 0:
            workers.append(("ticker", self._tick_loop, {}))
        for name, target, kwargs in workers:
            thread = threading.Thread(target=target, kwargs=kwargs, name=f"sevendar-standin-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        with self._due:
            self._due.notify_all()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        self._server = None
        self._http.clear()

    @property
    def api_key(self) -> str:
        return self._api_key

    @property
    def webhook_secret(self) -> bytes:
        return self._webhook_secret

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the stand-in is not started")
        host = "127.0.0.1" if self._host in ("", "0.0.0.0") else self._host
        return f"http://{host}:{self._server.server_address[1]}"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # --- control, from Python -------------------------------------------------------------

    def set_fault(self, mode: str, count: int | None = None, delay_seconds: float = 0.0) -> dict[str, Any]:
        if mode not in FAULT_MODES:
            raise StandInError(422, "validation_error", f"mode must be one of {', '.join(FAULT_MODES)}")
        if count is not None and (not _is_int(count) or count < 1):
            raise StandInError(422, "validation_error", "count must be a positive integer or null")
        if not isinstance(delay_seconds, int | float) or not 0 <= delay_seconds <= 120:
            raise StandInError(422, "validation_error", "delay_seconds must be between 0 and 120")
        with self._lock:
            self._fault = _Fault(mode, None if mode == "none" else count, float(delay_seconds))
            return self._fault.public()

    def fault(self) -> dict[str, Any]:
        with self._lock:
            return self._fault.public()

    def advance(self, order_id: str) -> dict[str, Any]:
        """Move the order one status on now, and send its webhook."""
        with self._lock:
            order = self._order(order_id)
            if order.status not in NEXT_STATUS:
                raise StandInError(409, "final_status", f"the order is already {order.status}")
            self._move(order, NEXT_STATUS[order.status])
            return order.public()

    def fail(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            order = self._order(order_id)
            if order.status not in NEXT_STATUS:
                raise StandInError(409, "final_status", f"the order is already {order.status}")
            self._move(order, "failed")
            return order.public()

    def orders(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {
                    **order.public(),
                    "callback_url": order.callback_url,
                    "idempotency_key": order.idempotency_key,
                    "idempotency_key_uses": self._key_uses.get(order.idempotency_key, 0),
                    "printed_codes": list(order.printed_codes),
                }
                for order in self._orders.values()
            ]

    def webhooks(self) -> list[dict[str, Any]]:
        with self._lock:
            return [webhook.public() for webhook in self._webhooks]

    def reset(self) -> None:
        with self._lock:
            self._orders.clear()
            self._keys.clear()
            self._key_uses.clear()
            self._webhooks.clear()
            self._fault = _Fault()
            self._generation += 1
            with self._due:
                self._queue.clear()

    # --- HTTP -----------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """Answer one request. ``headers`` have lower-case names."""
        path, _, query = target.partition("?")
        try:
            if path.startswith("/_standin/"):
                return self._control(method, path, body)
            if not path.startswith("/v1/"):
                raise StandInError(404, "not_found", "no such endpoint")
            throttled = self._apply_fault()
            if throttled is not None:
                return throttled
            expected = f"Bearer {self._api_key}".encode()
            if not hmac.compare_digest(headers.get("authorization", "").encode(), expected):
                raise StandInError(401, "unauthorized", "a valid API key is required")
            return self._api(method, path, query, headers, body)
        except StandInError as error:
            return error.answer()

    def _api(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Answer:
        if path == "/v1/designs":
            _allow(method, "GET")
            return self._designs(query)
        if path == "/v1/orders":
            _allow(method, "POST")
            return self._create(headers.get("idempotency-key", "").strip(), body)
        if match := _ORDER_PATH.match(path):
            _allow(method, "GET")
            with self._lock:
                return 200, self._order(unquote(match[1])).public(), {}
        if match := _CANCEL_PATH.match(path):
            _allow(method, "POST")
            return self._cancel(unquote(match[1]))
        raise StandInError(404, "not_found", "no such endpoint")

    def _control(self, method: str, path: str, body: bytes) -> Answer:
        if path == "/_standin/faults":
            if method == "GET":
                return 200, self.fault(), {}
            _allow(method, "POST")
            settings = _json_object(body)
            return (
                200,
                self.set_fault(settings.get("mode", ""), settings.get("count"), settings.get("delay_seconds", 0.0)),
                {},
            )
        if path == "/_standin/orders":
            _allow(method, "GET")
            return 200, {"orders": self.orders()}, {}
        if path == "/_standin/webhooks":
            _allow(method, "GET")
            return 200, {"webhooks": self.webhooks()}, {}
        if path == "/_standin/reset":
            _allow(method, "POST")
            self.reset()
            return 200, {"reset": True}, {}
        if match := _CONTROL_ORDER_PATH.match(path):
            _allow(method, "POST")
            order_id = unquote(match[1])
            return 200, self.advance(order_id) if match[2] == "advance" else self.fail(order_id), {}
        raise StandInError(404, "not_found", "no such control endpoint")

    def _apply_fault(self) -> Answer | None:
        with self._lock:
            fault = self._fault
            if fault.mode == "none":
                return None
            fault.affected += 1
            mode, delay = fault.mode, fault.delay_seconds
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._fault = _Fault(affected=fault.affected)
        if mode == "slow":
            self._stopping.wait(delay)  # outside the lock: other requests go on meanwhile
            return None
        if mode == "down":
            return StandInError(503, "service_unavailable", "SevenDar is temporarily unavailable").answer()
        if mode == "throttle":
            return 429, {"error": {"code": "rate_limited", "message": "too many requests"}}, {"Retry-After": "1"}
        return StandInError(500, "internal_error", "internal error").answer()

    # --- API ------------------------------------------------------------------------------

    def _designs(self, query: str) -> Answer:
        kind = parse_qs(query).get("kind", [None])[0]
        if kind is not None and kind not in KINDS:
            raise StandInError(422, "validation_error", "kind must be gift_card or loyalty_card")
        return 200, {"designs": [design for design in CATALOG if kind in (None, design["kind"])]}, {}

    def _create(self, idempotency_key: str, body: bytes) -> Answer:
        if not idempotency_key:
            raise StandInError(400, "missing_idempotency_key", "the Idempotency-Key header is required")
        payload = _json_object(body)
        fingerprint = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        with self._lock:  # one lock from look-up to insert: racing retries still make one order
            self._key_uses[idempotency_key] = self._key_uses.get(idempotency_key, 0) + 1
            record = self._keys.get(idempotency_key)
            if record is not None:
                if record.fingerprint != fingerprint:
                    raise StandInError(409, "idempotency_key_reused", "the Idempotency-Key was used with another body")
                return 200, record.answer, {}
            _validate_order(payload)
            now = _now_iso()
            order = _Order(
                id=f"sd_{uuid.uuid4().hex[:20]}",
                reference=payload["reference"],
                kind=payload["kind"],
                quantity=payload["quantity"],
                callback_url=payload["callback_url"],
                idempotency_key=idempotency_key,
                created_at=now,
                updated_at=now,
                next_step_at=time.monotonic() + self._step_seconds,
                printed_codes=tuple(card["code"] for card in payload["cards"]),
            )
            self._orders[order.id] = order
            answer = {"id": order.id, "reference": order.reference, "status": order.status, "created_at": now}
            self._keys[idempotency_key] = _IdempotencyRecord(fingerprint, order.id, answer)
            return 201, answer, {}

    def _cancel(self, order_id: str) -> Answer:
        with self._lock:
            order = self._order(order_id)
            if order.status in NOT_CANCELLABLE:
                raise StandInError(409, "not_cancellable", f"the order is already {order.status}")
            if order.status != "cancelled":  # cancelling twice is still cancelled
                self._move(order, "cancelled")
            return 200, order.public(), {}

    def _order(self, order_id: str) -> _Order:
        order = self._orders.get(order_id)
        if order is None:
            raise StandInError(404, "not_found", "no such order")
        return order

    # --- progress and webhooks ------------------------------------------------------------

    def _move(self, order: _Order, status: str) -> None:
        """Change the status (under the lock) and queue its webhook."""
        order.status = status
        order.updated_at = _now_iso()
        order.next_step_at = time.monotonic() + self._step_seconds
        if status == "shipped":
            order.tracking_number = f"RA{random.randrange(10**9):09d}RU"  # a Russian Post-shaped number
        event_id = str(uuid.uuid4())
        event = {
            "event_id": event_id,
            "type": "order.status_changed",
            "order_id": order.id,
            "reference": order.reference,
            "status": status,
            "occurred_at": order.updated_at,
            "tracking_number": order.tracking_number,
        }
        body = json.dumps(event, ensure_ascii=False).encode()
        webhook = _Webhook(event_id, order.id, status, order.callback_url, body, self._generation)
        self._webhooks.append(webhook)
        self._schedule(webhook, 0.0)

    def _tick_loop(self) -> None:
        tick = min(max(self._step_seconds / 4, 0.01), 0.25)
        while not self._stopping.wait(tick):
            now = time.monotonic()
            with self._lock:
                for order in self._orders.values():
                    if order.status in NEXT_STATUS and order.next_step_at <= now:
                        self._move(order, NEXT_STATUS[order.status])

    def _schedule(self, webhook: _Webhook, delay: float) -> None:
        with self._due:
            heapq.heappush(self._queue, (time.monotonic() + delay, next(self._sequence), webhook))
            self._due.notify()

    def _deliver_loop(self) -> None:
        while True:
            with self._due:
                while not self._stopping.is_set():
                    now = time.monotonic()
                    if self._queue and self._queue[0][0] <= now:
                        _, _, webhook = heapq.heappop(self._queue)
                        break
                    self._due.wait(self._queue[0][0] - now if self._queue else None)
                else:
                    return  # stopping
            self._deliver(webhook)

    def _deliver(self, webhook: _Webhook) -> None:
        timestamp = str(int(utcnow().timestamp()))  # signed afresh on each attempt, so a retry is never stale
        digest = hmac.new(self._webhook_secret, timestamp.encode() + b"." + webhook.body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-SevenDar-Event-Id": webhook.event_id,
            "X-SevenDar-Timestamp": timestamp,
            "X-SevenDar-Signature": f"v1={digest}",
        }
        try:
            response = self._http.request(
                "POST", webhook.callback_url, body=webhook.body, headers=headers, redirect=False
            )
            delivered, result = 200 <= response.status < 300, f"HTTP {response.status}"
        except Exception as error:  # an unreachable or broken callback must not stop the deliveries
            delivered, result = False, type(error).__name__
        with self._lock:
            webhook.attempts += 1
            webhook.last_result = result
            webhook.delivered = delivered
            if delivered:
                return
            if webhook.generation != self._generation or webhook.attempts >= self._webhook_max_attempts:
                webhook.gave_up = True
                return
            delay = min(MAX_WEBHOOK_BACKOFF_SECONDS, self._webhook_retry_base * 2.0 ** (webhook.attempts - 1))
        if not self._stopping.is_set():
            self._schedule(webhook, delay)


# --- validation, as SevenDar would -------------------------------------------------------------


def _validate_order(order: dict[str, Any]) -> None:
    _check(_text(order.get("reference")), "reference", "a non-empty string is required")
    kind: Any = order.get("kind")
    _check(kind in KINDS, "kind", "must be gift_card or loyalty_card")
    design_id, artwork_url = order.get("design_id"), order.get("artwork_url")
    _check(design_id is None or _text(design_id), "design_id", "must be a string or null")
    _check(artwork_url is None or _url(artwork_url), "artwork_url", "must be an http(s) URL or null")
    _check(design_id is not None or artwork_url is not None, "design_id", "a design or an artwork is required")
    design = _DESIGNS.get(design_id) if design_id is not None else None
    _check(design_id is None or (design is not None and design["kind"] == kind), "design_id", "no such design")
    quantity: Any = order.get("quantity")
    _check(_is_int(quantity) and 1 <= quantity <= MAX_QUANTITY, "quantity", f"must be 1..{MAX_QUANTITY}")
    cards: Any = order.get("cards")
    _check(isinstance(cards, list) and len(cards) == quantity, "cards", "one card per quantity is required")
    for index, card in enumerate(cards):
        _validate_card(card, f"cards[{index}]", kind, design)
    _check(len({card["code"] for card in cards}) == len(cards), "cards", "codes must be unique")
    recipient: Any = order.get("recipient")
    _validate_recipient(recipient)
    _validate_delivery(order.get("delivery"), kind, recipient)
    greeting = order.get("greeting")
    _check(greeting is None or (isinstance(greeting, str) and len(greeting) <= 500), "greeting", "500 characters")
    _check(_url(order.get("callback_url")), "callback_url", "an http(s) URL is required")


def _validate_card(card: Any, where: str, kind: str, design: Mapping[str, Any] | None) -> None:
    _check(isinstance(card, dict), where, "must be an object")
    _check(_text(card.get("code")) and len(card["code"]) <= 64, f"{where}.code", "a code of 1..64 characters")
    nominal = card.get("nominal_kopecks")
    if kind == "loyalty_card":
        _check(nominal is None, f"{where}.nominal_kopecks", "a loyalty card has no nominal")
        return
    _check(_is_int(nominal) and nominal > 0, f"{where}.nominal_kopecks", "a gift card needs a positive nominal")
    if design is not None:
        low, high = design["min_nominal_kopecks"], design["max_nominal_kopecks"]
        _check(low <= nominal <= high, f"{where}.nominal_kopecks", f"this design takes {low}..{high} kopecks")


def _validate_recipient(recipient: Any) -> None:
    _check(isinstance(recipient, dict), "recipient", "must be an object")
    for name in ("name", "phone", "email"):
        _check(recipient.get(name) is None or _text(recipient[name]), f"recipient.{name}", "must be a string or null")
    phone, email = recipient.get("phone"), recipient.get("email")
    _check(phone is None or bool(_E164.match(phone)), "recipient.phone", "must be E.164: + and 8 to 15 digits")
    _check(email is None or "@" in email, "recipient.email", "must be an email address")


def _validate_delivery(delivery: Any, kind: str, recipient: Mapping[str, Any]) -> None:
    _check(isinstance(delivery, dict), "delivery", "must be an object")
    method = delivery.get("method")
    _check(method in ("email", "courier", "post"), "delivery.method", "must be email, courier or post")
    if method == "email":
        _check(kind == "gift_card", "delivery.method", "plastic loyalty cards cannot be emailed")
        _check(recipient.get("email") is not None, "recipient.email", "required for delivery by email")
        return
    if method == "courier":
        _check(recipient.get("phone") is not None, "recipient.phone", "the courier needs a phone number")
    address = delivery.get("address")
    _check(isinstance(address, dict), "delivery.address", f"required for delivery by {method}")
    postal_code = address.get("postal_code")
    _check(
        isinstance(postal_code, str) and bool(_POSTAL_CODE.match(postal_code)),
        "delivery.address.postal_code",
        "6 digits",
    )
    for name in ("region", "city", "street", "house"):
        _check(_text(address.get(name)), f"delivery.address.{name}", "a non-empty string is required")
    apartment = address.get("apartment")
    _check(apartment is None or _text(apartment), "delivery.address.apartment", "must be a string or null")


def _check(condition: Any, field_name: str, message: str) -> None:
    # Messages name the field, never its value: requests carry personal data.
    if not condition:
        raise StandInError(422, "validation_error", f"{field_name}: {message}")


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _allow(method: str, allowed: str) -> None:
    if method != allowed:
        raise StandInError(405, "method_not_allowed", f"use {allowed}")


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body or b"{}")
    except ValueError as error:
        raise StandInError(400, "invalid_json", "the body is not JSON") from error
    if not isinstance(payload, dict):
        raise StandInError(400, "invalid_json", "the body must be a JSON object")
    return payload


# --- server ---------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], standin: SevenDarStandIn) -> None:
        super().__init__(address, _Handler)
        self.standin = standin


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "SevenDarStandIn/1.0"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length_header = self.headers.get("Content-Length") or "0"
        length = int(length_header) if length_header.isdigit() else -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self._reply(*StandInError(413, "payload_too_large", "a body up to 2 MiB is accepted").answer())
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        self._reply(*self.server.standin.handle(self.command, self.path, headers, body))

    def _reply(self, status: int, payload: Mapping[str, Any], headers: Mapping[str, str]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            for name, value in {"Content-Type": "application/json; charset=utf-8", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout during a "slow" fault): nothing to tell it

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no access log: paths are harmless, but the output of tests and the local stack stays readable


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a local SevenDar stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--step-seconds", type=float, default=2.0, help="seconds per status step; 0: only on demand")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--webhook-secret", default=DEFAULT_WEBHOOK_SECRET.decode())
    args = parser.parse_args(argv)
    standin = SevenDarStandIn(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        webhook_secret=args.webhook_secret.encode(),
        step_seconds=args.step_seconds,
    )
    standin.start()
    print(f"SevenDar stand-in on {standin.url} (API key {args.api_key!r}); Ctrl-C stops it", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
