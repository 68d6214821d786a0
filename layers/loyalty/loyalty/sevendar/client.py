"""SevenDar API client.

SevenDar prints and delivers personalised gift cards and branded plastic loyalty cards anywhere in
Russia. The API as we assume it (JSON in and out, ``Authorization: Bearer <api_key>`` on every call):

``GET /v1/designs?kind=gift_card|loyalty_card``
    200 ``{"designs": [{"id", "name", "kind", "preview_url", "min_nominal_kopecks": int|null,
    "max_nominal_kopecks": int|null}]}``.

``POST /v1/orders`` with header ``Idempotency-Key`` (required)
    Body ``{"reference": our order id, "kind": "gift_card"|"loyalty_card", "design_id": str|null,
    "artwork_url": str|null, "quantity": int, "cards": [{"code": str, "nominal_kopecks": int|null}],
    "recipient": {"name", "phone" (E.164), "email"} (each str|null), "delivery": {"method":
    "email"|"courier"|"post", "address": {"postal_code": 6 digits, "region", "city", "street",
    "house", "apartment": str|null} | null}, "greeting": str|null, "callback_url": str}``. ``cards``
    holds the codes WE generated, one per card, to be printed.
    201 ``{"id": "sd_...", "reference", "status": "accepted", "created_at"}``. The same key again
    returns the same order (200 or 201, the same body, so its status may be stale) and never creates
    a second one; the same key with another body is a 409.

``GET /v1/orders/{id}``
    200 ``{"id", "reference", "status", "kind", "quantity", "created_at", "updated_at",
    "tracking_number": str|null}``; 404 when unknown.

``POST /v1/orders/{id}/cancel``
    200 the order, status "cancelled"; 409 once shipped or delivered.

Statuses: accepted -> in_production -> shipped -> delivered; or failed; or cancelled.
Errors: 4xx/5xx with ``{"error": {"code", "message"}}``; 429 may carry ``Retry-After`` (seconds).
Status changes arrive as signed webhooks: see ``loyalty.sevendar.webhooks``.

Retries: every call here is safe to repeat (creates carry the caller's idempotency key, cancelling
twice is still cancelled), so connection errors, timeouts, 5xx and 429 are retried with backoff;
any other 4xx is the request's fault and raises ``SevenDarRejected`` at once.

Personal data (names, phones, emails, addresses, greetings) is never logged, and is hidden from
the models' ``repr`` and validation errors.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol, Self, TypeVar
from urllib.parse import quote, urlencode

import urllib3
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from loyalty.platform.observability import logger

CardKind = Literal["gift_card", "loyalty_card"]
OrderStatus = Literal["accepted", "in_production", "shipped", "delivered", "failed", "cancelled"]
DeliveryMethod = Literal["email", "courier", "post"]
FINAL_STATUSES: frozenset[str] = frozenset({"delivered", "failed", "cancelled"})

MAX_RETRY_AFTER_SECONDS = 30.0  # a Retry-After beyond this would outlive the Lambda invocation
MAX_BACKOFF_SECONDS = 30.0
_TRANSIENT_ERRORS = (urllib3.exceptions.TimeoutError, urllib3.exceptions.ProtocolError)  # incl. refused/reset
_jitter = random.SystemRandom()

ModelT = TypeVar("ModelT", bound=BaseModel)


# --- errors ---------------------------------------------------------------------------------


class SevenDarError(Exception):
    """Base of everything this client raises (besides ValueError for a misuse)."""


class SevenDarRejected(SevenDarError):
    """SevenDar refused the request (a 4xx other than 429): retrying the same request will not help.

    ``message`` is SevenDar's own text and may echo request fields: do not log it."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"SevenDar rejected the request: HTTP {status} {code}")
        self.status = status
        self.code = code
        self.message = message


class SevenDarUnavailable(SevenDarError):
    """Every attempt failed on a connection error, a timeout, a 5xx or a 429. Try again later (a
    create with the same idempotency key)."""

    def __init__(self, attempts: int, last_failure: str) -> None:
        super().__init__(f"SevenDar unavailable after {attempts} attempts (last: {last_failure})")
        self.attempts = attempts
        self.last_failure = last_failure


class SevenDarProtocolError(SevenDarError):
    """SevenDar answered something we cannot read. The outcome is unknown: treat like unavailable."""


# --- models ---------------------------------------------------------------------------------


class _Request(BaseModel):
    # Validation errors must not carry personal data into logs.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class _Reply(BaseModel):
    # Fields SevenDar adds later are ignored, not an error.
    model_config = ConfigDict(frozen=True, extra="ignore")


class PrintedCard(_Request):
    """One card to print: the code or card number we generated, and a gift card's nominal."""

    code: str = Field(min_length=1, max_length=64)
    nominal_kopecks: int | None = Field(default=None, gt=0)


class Recipient(_Request):
    name: str | None = Field(default=None, max_length=200, repr=False)
    phone: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{7,14}$", repr=False)
    email: str | None = Field(default=None, max_length=254, repr=False)


class Address(_Request):
    postal_code: str = Field(pattern=r"^[0-9]{6}$", repr=False)
    region: str = Field(min_length=1, repr=False)
    city: str = Field(min_length=1, repr=False)
    street: str = Field(min_length=1, repr=False)
    house: str = Field(min_length=1, repr=False)
    apartment: str | None = Field(default=None, repr=False)


class Delivery(_Request):
    method: DeliveryMethod
    address: Address | None = None

    @model_validator(mode="after")
    def _address_for_physical_delivery(self) -> Self:
        if self.method != "email" and self.address is None:
            raise ValueError(f"delivery by {self.method} needs an address")
        return self


class NewOrder(_Request):
    """An order to place. ``quantity`` is the number of cards: each printed card has its own code."""

    reference: str = Field(min_length=1, max_length=64)
    kind: CardKind
    cards: tuple[PrintedCard, ...] = Field(min_length=1)
    recipient: Recipient
    delivery: Delivery
    callback_url: str = Field(pattern=r"^https?://")
    design_id: str | None = None
    artwork_url: str | None = None
    greeting: str | None = Field(default=None, max_length=500, repr=False)

    @model_validator(mode="after")
    def _cards_match_kind(self) -> Self:
        # A gift card carries its value printed on it; a loyalty card carries none.
        if any((card.nominal_kopecks is None) == (self.kind == "gift_card") for card in self.cards):
            raise ValueError("gift cards need a nominal, loyalty cards must not have one")
        if len({card.code for card in self.cards}) != len(self.cards):
            raise ValueError("card codes must be unique within an order")
        return self

    @property
    def quantity(self) -> int:
        return len(self.cards)

    def to_json(self) -> dict[str, Any]:
        return {**self.model_dump(mode="json"), "quantity": self.quantity}


class Design(_Reply):
    id: str
    name: str
    kind: CardKind
    preview_url: str
    min_nominal_kopecks: int | None = None
    max_nominal_kopecks: int | None = None


class OrderInfo(_Reply):
    """An order as SevenDar sees it. After a create, ``updated_at`` and ``tracking_number`` are
    unknown (None) and ``status`` is as of the first acceptance."""

    id: str
    reference: str
    status: OrderStatus
    kind: CardKind
    quantity: int
    created_at: AwareDatetime
    updated_at: AwareDatetime | None = None
    tracking_number: str | None = None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class _DesignList(_Reply):
    designs: list[Design]


# --- client ---------------------------------------------------------------------------------


class SevenDar(Protocol):
    """What the app needs from SevenDar; tests and the local stack may swap the implementation."""

    def designs(self, kind: str | None = None) -> list[Design]: ...

    def create_order(self, order: NewOrder, idempotency_key: str) -> OrderInfo: ...

    def get_order(self, order_id: str) -> OrderInfo: ...

    def cancel_order(self, order_id: str) -> OrderInfo: ...


class SevenDarClient:
    """SevenDar over HTTPS with urllib3. Thread-safe; create one per container and reuse it (it
    keeps a connection pool)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        connect_timeout: float = 2.0,
        read_timeout: float = 10.0,
        max_attempts: int = 4,
        backoff_base: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._sleep = sleep
        # Retries are ours (they know which answers are safe to repeat); redirects are not expected.
        self._pool = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout), retries=False
        )

    def designs(self, kind: str | None = None) -> list[Design]:
        query = f"?{urlencode({'kind': kind})}" if kind else ""
        payload = self._call("designs", "GET", f"/v1/designs{query}")
        return _parse(_DesignList, payload).designs

    def create_order(self, order: NewOrder, idempotency_key: str) -> OrderInfo:
        """Place ``order``. Use one idempotency key per order of ours, forever: calling again with
        it (after a timeout, in another invocation) returns the same SevenDar order."""
        if not idempotency_key.strip():
            raise ValueError("idempotency_key must not be blank")
        payload = self._call(
            "create_order", "POST", "/v1/orders", order.to_json(), {"Idempotency-Key": idempotency_key}
        )
        # The create answer omits what we sent; fill it in so every call returns the same model.
        info = _parse(OrderInfo, {"kind": order.kind, "quantity": order.quantity, **payload})
        if info.reference != order.reference:
            raise SevenDarProtocolError("SevenDar answered a create with another order's reference")
        return info

    def get_order(self, order_id: str) -> OrderInfo:
        return _parse(OrderInfo, self._call("get_order", "GET", f"/v1/orders/{_segment(order_id)}"))

    def cancel_order(self, order_id: str) -> OrderInfo:
        path = f"/v1/orders/{_segment(order_id)}/cancel"
        return _parse(OrderInfo, self._call("cancel_order", "POST", path, {}))

    def close(self) -> None:
        self._pool.clear()

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        headers = {**self._headers, **(extra_headers or {})}  # the same idempotency key on every attempt
        encoded = None
        if body is not None:
            encoded = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        url = self._base_url + path
        last_failure = ""
        for attempt in range(1, self._max_attempts + 1):
            try:
                response = self._pool.request(method, url, body=encoded, headers=headers, redirect=False)
            except _TRANSIENT_ERRORS as exc:
                last_failure, wait = type(exc).__name__, self._backoff(attempt)
            except urllib3.exceptions.HTTPError as exc:
                raise SevenDarProtocolError(f"SevenDar {operation} failed: {type(exc).__name__}") from exc
            else:
                if 200 <= response.status < 300:
                    return _json_object(response.data)
                last_failure, wait = self._retryable(operation, response, attempt)
            if attempt < self._max_attempts:
                logger.warning(
                    "SevenDar call failed, retrying",
                    extra={"operation": operation, "attempt": attempt, "failure": last_failure, "wait_seconds": wait},
                )
                self._sleep(wait)
        logger.error("SevenDar unavailable", extra={"operation": operation, "attempts": self._max_attempts})
        raise SevenDarUnavailable(self._max_attempts, last_failure)

    def _retryable(self, operation: str, response: Any, attempt: int) -> tuple[str, float]:
        """(why, how long to wait) for an answer worth retrying (429, 5xx); raises for the rest."""
        status = response.status
        if status == 429 or status >= 500:
            retry_after = _retry_after(response.headers.get("Retry-After"))
            wait = retry_after if retry_after is not None else self._backoff(attempt)
            return f"HTTP {status} {_error_of(status, response.data)[0]}", wait
        if 400 <= status < 500:
            code, message = _error_of(status, response.data)
            logger.warning(
                "SevenDar rejected a request", extra={"operation": operation, "status": status, "code": code}
            )
            raise SevenDarRejected(status, code, message)
        raise SevenDarProtocolError(f"SevenDar {operation} answered HTTP {status}")

    def _backoff(self, attempt: int) -> float:
        """Exponential, with "equal jitter": at least half the step, so clients that failed
        together do not retry together, and none retries at once."""
        step = min(MAX_BACKOFF_SECONDS, self._backoff_base * 2.0 ** (attempt - 1))
        return step / 2 + _jitter.uniform(0, step / 2)


def _segment(value: str) -> str:
    """An id as one path segment: a slash or a dot segment in it must not reach another endpoint."""
    if value in ("", ".", ".."):
        raise ValueError("order_id must be a SevenDar order id")
    return quote(value, safe="")


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP-date, or garbage: fall back to our own backoff
    if seconds is None or math.isnan(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER_SECONDS)


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(data)
    except ValueError as exc:
        raise SevenDarProtocolError("SevenDar answered with a body that is not JSON") from exc
    if not isinstance(payload, dict):
        raise SevenDarProtocolError("SevenDar answered with JSON that is not an object")
    return payload


def _error_of(status: int, data: bytes) -> tuple[str, str]:
    """SevenDar's ``{"error": {"code", "message"}}``, or a code made from the status."""
    try:
        error = json.loads(data).get("error") or {}
        return str(error.get("code") or f"http_{status}"), str(error.get("message") or "")
    except (ValueError, AttributeError):
        return f"http_{status}", ""


def _parse(model: type[ModelT], payload: dict[str, Any]) -> ModelT:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        fields = sorted({".".join(str(part) for part in error["loc"]) for error in exc.errors()})
        raise SevenDarProtocolError(f"SevenDar answered an unexpected shape (fields: {', '.join(fields)})") from exc
