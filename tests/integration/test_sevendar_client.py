"""The SevenDar client against the local stand-in over real HTTP: idempotent creates, retries only
where they are safe, rejections at once, and signed webhooks that verify."""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import urllib3
from loyalty.sevendar.client import (
    Address,
    Delivery,
    NewOrder,
    PrintedCard,
    Recipient,
    SevenDarClient,
    SevenDarRejected,
    SevenDarUnavailable,
)
from loyalty.sevendar.webhooks import verify

from infra.sevendar.standin import DEFAULT_API_KEY, DEFAULT_WEBHOOK_SECRET, SevenDarStandIn

NO_CALLBACK = "http://127.0.0.1:9/never-called"


class Receiver:
    """A callback endpoint: records every delivery; answers the given statuses first, then 200."""

    def __init__(self, statuses: tuple[int, ...] = ()) -> None:
        self.deliveries: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
        answers = list(statuses)
        deliveries = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                deliveries.put((dict(self.headers.items()), body))
                self.send_response(answers.pop(0) if answers else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1/webhooks/sevendar"

    def next(self, timeout: float = 3.0) -> tuple[dict[str, str], bytes]:
        return self.deliveries.get(timeout=timeout)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def standin() -> Iterator[SevenDarStandIn]:
    # No automatic progress: each test moves orders itself, so nothing races it.
    with SevenDarStandIn(step_seconds=0, webhook_retry_base_seconds=0.02) as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(standin: SevenDarStandIn, sleeps: list[float]) -> Iterator[SevenDarClient]:
    sevendar = SevenDarClient(standin.url, DEFAULT_API_KEY, connect_timeout=1.0, read_timeout=2.0, sleep=sleeps.append)
    yield sevendar
    sevendar.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


def gift_order(reference: str = "gco_1", callback_url: str = NO_CALLBACK, **changes: Any) -> NewOrder:
    fields: dict[str, Any] = {
        "reference": reference,
        "kind": "gift_card",
        "design_id": "gc_birch_grove",
        "cards": (PrintedCard(code="GC-7788-0001", nominal_kopecks=300_000),),
        "recipient": Recipient(name="Анна Иванова", phone="+79161234567", email="anna@example.ru"),
        "delivery": Delivery(
            method="courier",
            address=Address(
                postal_code="101000", region="Москва", city="Москва", street="Мясницкая", house="1", apartment="5"
            ),
        ),
        "greeting": "Счастливого дня рождения!",
        "callback_url": callback_url,
    }
    return NewOrder(**{**fields, **changes})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def eventually(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def raw_post(standin: SevenDarStandIn, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return urllib3.request(
        "POST",
        standin.url + path,
        body=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}", "Content-Type": "application/json", **(headers or {})},
        retries=False,
    )


# --- catalog and orders ---------------------------------------------------------------------


def test_designs_come_from_the_catalog_and_filter_by_kind(client: SevenDarClient) -> None:
    everything = client.designs()
    gift_cards = client.designs("gift_card")
    loyalty_cards = client.designs(kind="loyalty_card")
    assert {design.kind for design in gift_cards} == {"gift_card"}
    assert {design.kind for design in loyalty_cards} == {"loyalty_card"}
    assert len(everything) == len(gift_cards) + len(loyalty_cards) >= 4
    birch = next(design for design in gift_cards if design.id == "gc_birch_grove")
    assert birch.name == "Берёзовая роща"
    assert birch.min_nominal_kopecks is not None and birch.max_nominal_kopecks is not None
    assert all(design.min_nominal_kopecks is None for design in loyalty_cards)


def test_create_is_idempotent_the_same_key_never_makes_a_second_order(
    client: SevenDarClient, standin: SevenDarStandIn
) -> None:
    first = client.create_order(gift_order(), "gco_1")
    again = client.create_order(gift_order(), "gco_1")
    assert first == again
    assert (first.status, first.reference, first.kind, first.quantity) == ("accepted", "gco_1", "gift_card", 1)
    [order] = standin.orders()
    assert (order["id"], order["idempotency_key"], order["idempotency_key_uses"]) == (first.id, "gco_1", 2)


def test_the_same_key_with_another_order_is_rejected(client: SevenDarClient, standin: SevenDarStandIn) -> None:
    client.create_order(gift_order(), "gco_1")
    with pytest.raises(SevenDarRejected) as rejected:
        client.create_order(gift_order(greeting="Другое поздравление"), "gco_1")
    assert (rejected.value.status, rejected.value.code) == (409, "idempotency_key_reused")
    assert len(standin.orders()) == 1


def test_get_and_cancel(client: SevenDarClient, standin: SevenDarStandIn) -> None:
    created = client.create_order(gift_order(), "gco_1")
    fetched = client.get_order(created.id)
    assert (fetched.id, fetched.status, fetched.tracking_number) == (created.id, "accepted", None)
    assert fetched.created_at == created.created_at and fetched.updated_at is not None

    cancelled = client.cancel_order(created.id)
    assert (cancelled.status, cancelled.is_final) == ("cancelled", True)
    assert client.cancel_order(created.id).status == "cancelled"  # twice is still cancelled: safe to retry
    assert client.get_order(created.id).status == "cancelled"


def test_an_order_cannot_be_cancelled_once_shipped(client: SevenDarClient, standin: SevenDarStandIn) -> None:
    created = client.create_order(gift_order(), "gco_1")
    standin.advance(created.id)
    standin.advance(created.id)
    shipped = client.get_order(created.id)
    assert shipped.status == "shipped" and shipped.tracking_number
    with pytest.raises(SevenDarRejected) as rejected:
        client.cancel_order(created.id)
    assert rejected.value.status == 409


def test_an_unknown_order_is_a_404(client: SevenDarClient, sleeps: list[float]) -> None:
    with pytest.raises(SevenDarRejected) as rejected:
        client.get_order("sd_nope")
    assert (rejected.value.status, rejected.value.code, sleeps) == (404, "not_found", [])
    with pytest.raises(SevenDarRejected):
        client.get_order("../designs")  # an id stays one path segment
    with pytest.raises(ValueError):
        client.cancel_order("..")


# --- retries --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["error500", "throttle", "down"])
def test_transient_failures_are_retried_with_the_same_key_then_succeed(
    client: SevenDarClient, standin: SevenDarStandIn, sleeps: list[float], mode: str
) -> None:
    standin.set_fault(mode, count=2)
    created = client.create_order(gift_order(), "gco_1")
    assert created.status == "accepted"
    assert len(sleeps) == 2
    if mode == "throttle":
        assert sleeps == [1.0, 1.0]  # Retry-After is honoured
    else:
        assert 0.125 <= sleeps[0] <= 0.25 and 0.25 <= sleeps[1] <= 0.5  # exponential, jittered
    [order] = standin.orders()
    assert order["idempotency_key_uses"] == 1  # the faulted attempts never reached the order book
    assert standin.fault()["affected"] == 2


def test_a_supplier_that_stays_down_is_unavailable_after_max_attempts(
    client: SevenDarClient, standin: SevenDarStandIn, sleeps: list[float]
) -> None:
    reply = urllib3.request("POST", f"{standin.url}/_standin/faults", json={"mode": "down", "count": None})
    assert reply.status == 200
    with pytest.raises(SevenDarUnavailable) as unavailable:
        client.create_order(gift_order(), "gco_1")
    assert unavailable.value.attempts == 4 and "503" in unavailable.value.last_failure
    assert len(sleeps) == 3
    assert standin.fault()["affected"] == 4
    assert standin.orders() == []


def test_a_timeout_is_retried_and_the_late_original_does_not_make_a_second_order(
    standin: SevenDarStandIn, sleeps: list[float]
) -> None:
    impatient = SevenDarClient(standin.url, DEFAULT_API_KEY, read_timeout=0.2, sleep=sleeps.append)
    standin.set_fault("slow", count=1, delay_seconds=0.5)
    created = impatient.create_order(gift_order(), "gco_1")
    assert sleeps  # at least the slow attempt timed out
    # The first attempt is still being processed after the client gave up on it: it replays.
    eventually(lambda: standin.orders()[0]["idempotency_key_uses"] == len(sleeps) + 1)
    [order] = standin.orders()
    assert order["id"] == created.id
    impatient.close()


def test_an_unreachable_supplier_is_unavailable(sleeps: list[float]) -> None:
    nowhere = SevenDarClient(f"http://127.0.0.1:{free_port()}", DEFAULT_API_KEY, max_attempts=2, sleep=sleeps.append)
    with pytest.raises(SevenDarUnavailable) as unavailable:
        nowhere.designs()
    assert unavailable.value.attempts == 2 and len(sleeps) == 1


def test_an_invalid_order_is_rejected_at_once_without_retry(
    client: SevenDarClient, standin: SevenDarStandIn, sleeps: list[float]
) -> None:
    with pytest.raises(SevenDarRejected) as rejected:
        client.create_order(gift_order(design_id="gc_no_such_design"), "gco_1")
    assert (rejected.value.status, rejected.value.code) == (422, "validation_error")
    assert "design_id" in rejected.value.message
    assert sleeps == [] and standin.orders() == []


def test_a_wrong_api_key_is_rejected_at_once(standin: SevenDarStandIn, sleeps: list[float]) -> None:
    stranger = SevenDarClient(standin.url, "not-the-key", sleep=sleeps.append)
    with pytest.raises(SevenDarRejected) as rejected:
        stranger.designs()
    assert (rejected.value.status, sleeps) == (401, [])


# --- webhooks -------------------------------------------------------------------------------


def test_a_status_change_arrives_as_a_webhook_that_verifies(
    client: SevenDarClient, standin: SevenDarStandIn, receiver: Receiver
) -> None:
    created = client.create_order(gift_order(callback_url=receiver.url), "gco_1")
    standin.advance(created.id)
    headers, body = receiver.next()
    event = verify(headers, body, DEFAULT_WEBHOOK_SECRET, datetime.now(UTC))
    assert (event.type, event.order_id, event.reference, event.status) == (
        "order.status_changed",
        created.id,
        "gco_1",
        "in_production",
    )
    assert headers["X-SevenDar-Event-Id"] == event.event_id


def test_a_failing_callback_gets_the_same_event_again_until_it_answers_2xx(
    client: SevenDarClient, standin: SevenDarStandIn
) -> None:
    flaky = Receiver(statuses=(500, 503))
    try:
        created = client.create_order(gift_order(callback_url=flaky.url), "gco_1")
        standin.fail(created.id)
        events = [verify(*flaky.next(), DEFAULT_WEBHOOK_SECRET, datetime.now(UTC)) for _ in range(3)]
        assert {event.event_id for event in events} == {events[0].event_id}
        assert events[0].status == "failed"
        eventually(lambda: standin.webhooks()[0]["delivered"])
        assert standin.webhooks()[0]["attempts"] == 3
    finally:
        flaky.close()


def test_an_unreachable_callback_breaks_nothing(client: SevenDarClient, standin: SevenDarStandIn) -> None:
    created = client.create_order(gift_order(callback_url=f"http://127.0.0.1:{free_port()}/hook"), "gco_1")
    standin.advance(created.id)
    eventually(lambda: standin.webhooks()[0]["attempts"] >= 2)
    assert not standin.webhooks()[0]["delivered"]
    assert client.get_order(created.id).status == "in_production"  # still serving


def test_orders_progress_to_delivered_on_their_own(receiver: Receiver) -> None:
    with SevenDarStandIn(step_seconds=0.05) as standin:
        client = SevenDarClient(standin.url, DEFAULT_API_KEY)
        created = client.create_order(gift_order(callback_url=receiver.url), "gco_1")
        events = [verify(*receiver.next(), DEFAULT_WEBHOOK_SECRET, datetime.now(UTC)) for _ in range(3)]
        assert [event.status for event in events] == ["in_production", "shipped", "delivered"]
        assert events[-1].tracking_number is not None
        delivered = client.get_order(created.id)
        assert (delivered.status, delivered.tracking_number) == ("delivered", events[-1].tracking_number)
        client.close()


# --- the stand-in refuses what SevenDar would -------------------------------------------------


def _valid_body() -> dict[str, Any]:
    return gift_order().to_json()


def _with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    body = _valid_body()
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_with(("delivery", "address", "postal_code"), "1010"), "postal_code"),
        (_with(("quantity",), 0), "quantity"),
        (_with(("quantity",), 2), "cards"),
        (_with(("recipient", "phone"), "8 916 123-45-67"), "recipient.phone"),
        (_with(("cards",), [{"code": "GC-1", "nominal_kopecks": 1}]), "nominal_kopecks"),
        (_with(("kind",), "loyalty_card"), "design_id"),
        (_with(("callback_url",), "ftp://example"), "callback_url"),
    ],
    ids=["postal-code", "quantity-0", "cards-count", "phone", "nominal-range", "design-kind", "callback"],
)
def test_the_standin_refuses_invalid_orders(standin: SevenDarStandIn, body: dict[str, Any], field: str) -> None:
    reply = raw_post(standin, "/v1/orders", body, {"Idempotency-Key": "k-1"})
    assert reply.status == 422
    assert reply.json()["error"]["code"] == "validation_error" and field in reply.json()["error"]["message"]
    assert "+7916" not in reply.data.decode()  # errors name fields, never personal values


def test_the_standin_requires_an_idempotency_key_and_a_key(standin: SevenDarStandIn) -> None:
    assert raw_post(standin, "/v1/orders", _valid_body()).status == 400
    unauthenticated = urllib3.request("GET", f"{standin.url}/v1/designs", retries=False)
    assert unauthenticated.status == 401 and unauthenticated.json()["error"]["code"] == "unauthorized"


def test_the_standin_resets(standin: SevenDarStandIn, client: SevenDarClient) -> None:
    client.create_order(gift_order(), "gco_1")
    standin.set_fault("down")
    assert urllib3.request("POST", f"{standin.url}/_standin/reset").status == 200
    assert standin.orders() == [] and standin.fault()["mode"] == "none"
    assert client.create_order(gift_order(), "gco_1").status == "accepted"
