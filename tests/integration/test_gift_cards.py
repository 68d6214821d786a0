"""Gift cards through SevenDar (the local stand-in): orders stored then submitted, signed
webhooks, points payments refunded on failure, stored value spent at the till."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from loyalty.sevendar.webhooks import sign

from tests.conftest import SEVENDAR
from tests.integration.conftest import earn
from tests.support.api import GatewayClient
from tests.support.events import context, sqs_record

EMAIL_ORDER: dict[str, Any] = {
    "kind": "gift_card",
    "design_id": "gc_birch_grove",
    "quantity": 2,
    "nominal_kopecks": 300_000,
    "recipient": {"name": "Ольга", "email": "olga@example.ru", "phone": "+79161112233"},
    "delivery": {"method": "email"},
    "greeting": "С днём рождения!",
    "payment": {"method": "money", "reference": "till-5-receipt-881"},
}


@pytest.fixture
def gift_api(merchant: dict[str, Any]) -> GatewayClient:
    from functions.gift_cards.app import app

    return GatewayClient(app, {"X-Api-Key": merchant["api_key"]})


def submit(merchant: dict[str, Any], order_id: str, receive_count: int = 1) -> dict[str, Any]:
    from functions.gift_cards.app import handle_orders

    record = sqs_record(
        json.dumps({"merchant_id": merchant["merchant_id"], "order_id": order_id}),
        message_id=order_id,
        receive_count=receive_count,
        queue="gift-card-orders",
    )
    return dict(handle_orders({"Records": [record]}, context("gift-cards", 30)))


def standin_order(reference_order_id: str | None = None) -> dict[str, Any]:
    orders = SEVENDAR.orders()
    assert orders, "SevenDar has no orders"
    return orders[-1] if reference_order_id is None else next(o for o in orders if o["id"] == reference_order_id)


def webhook(
    gift_api: GatewayClient,
    sd_order: dict[str, Any],
    status: str,
    *,
    event_id: str | None = None,
    secret: bytes | None = None,
    timestamp: int | None = None,
) -> Any:
    from functions.gift_cards.app import app

    body = json.dumps(
        {
            "event_id": event_id or str(uuid.uuid4()),
            "type": "order.status_changed",
            "order_id": sd_order["id"],
            "reference": sd_order["reference"],
            "status": status,
            "occurred_at": datetime.now(UTC).isoformat(),
            "tracking_number": None,
        }
    ).encode()
    stamp = timestamp or int(time.time())
    headers = {
        "X-SevenDar-Event-Id": json.loads(body)["event_id"],
        "X-SevenDar-Timestamp": str(stamp),
        "X-SevenDar-Signature": sign(secret or SEVENDAR.webhook_secret, stamp, body),
    }
    return GatewayClient(app, headers).post("/v1/webhooks/sevendar", body=body.decode())


def place(gift_api: GatewayClient, order_id: str, **changes: Any) -> Any:
    return gift_api.post("/v1/gift-cards/orders", body={"order_id": order_id, **EMAIL_ORDER, **changes})


def test_designs_come_from_sevendar(gift_api: GatewayClient) -> None:
    reply = gift_api.get("/v1/gift-cards/designs", query={"kind": "gift_card"})
    assert reply.status == 200, reply.body
    assert {d["kind"] for d in reply.body["designs"]} == {"gift_card"}


def test_an_order_is_stored_then_submitted_then_moved_by_signed_webhooks_to_a_spendable_card(
    gift_api: GatewayClient, merchant: dict[str, Any]
) -> None:
    placed = place(gift_api, "GC-1")
    assert placed.status == 201, placed.body
    assert placed.body["status"] == "created"
    assert place(gift_api, "GC-1").body == placed.body  # idempotent on order_id
    assert place(gift_api, "GC-1", quantity=3).status == 409
    assert SEVENDAR.orders() == []  # stored first; the worker submits
    assert submit(merchant, "GC-1") == {"batchItemFailures": []}
    assert submit(merchant, "GC-1") == {"batchItemFailures": []}  # redelivered: not placed twice
    sd_order = standin_order()
    assert sd_order["idempotency_key_uses"] == 1
    for status in ("in_production", "shipped", "delivered"):
        reply = webhook(gift_api, sd_order, status)
        assert reply.status == 200, reply.body
    order = gift_api.get("/v1/gift-cards/orders/{order_id}", path_params={"order_id": "GC-1"}).body
    assert [h["status"] for h in order["history"]] == ["created", "submitted", "in_production", "shipped", "delivered"]
    code = sd_order["printed_codes"][0]
    card = gift_api.get("/v1/gift-cards/{code}", path_params={"code": code.lower()}).body
    assert (card["status"], card["balance_kopecks"]) == ("active", 300_000)
    spent = gift_api.post(
        "/v1/gift-cards/{code}/redeem",
        path_params={"code": code},
        body={"redemption_id": "till-1", "amount_kopecks": 120_000},
    )
    assert spent.status == 200 and spent.body["balance_kopecks"] == 180_000
    again = gift_api.post(
        "/v1/gift-cards/{code}/redeem",
        path_params={"code": code},
        body={"redemption_id": "till-1", "amount_kopecks": 120_000},
    )
    assert again.body == spent.body and again.headers.get("Idempotent-Replayed") == "true"
    too_much = gift_api.post(
        "/v1/gift-cards/{code}/redeem",
        path_params={"code": code},
        body={"redemption_id": "till-2", "amount_kopecks": 180_001},
    )
    assert too_much.status == 409 and too_much.body["error"]["code"] == "insufficient_funds"


def test_forged_replayed_stale_unknown_and_illegal_webhooks_are_rejected(
    gift_api: GatewayClient, merchant: dict[str, Any]
) -> None:
    place(gift_api, "GC-2")
    submit(merchant, "GC-2")
    sd_order = standin_order()
    assert webhook(gift_api, sd_order, "shipped", secret=b"not-the-secret").status == 401
    assert webhook(gift_api, sd_order, "shipped", timestamp=int(time.time()) - 3600).status == 401
    first = webhook(gift_api, sd_order, "shipped", event_id="evt-1")
    assert first.status == 200 and first.body["duplicate"] is False
    replayed = webhook(gift_api, sd_order, "shipped", event_id="evt-1")
    assert replayed.status == 200 and replayed.body["duplicate"] is True
    stale = webhook(gift_api, sd_order, "in_production")
    assert stale.body["ignored"] == "stale"  # out of order: never moves backwards
    assert webhook(gift_api, {**sd_order, "reference": "gco_nope"}, "shipped").status == 404
    assert webhook(gift_api, sd_order, "delivered").status == 200
    illegal = webhook(gift_api, sd_order, "failed")
    assert illegal.status == 409 and illegal.body["error"]["code"] == "illegal_transition"


def test_paid_by_points_and_refunded_when_sevendar_fails_the_order(
    gift_api: GatewayClient,
    accrue_api: GatewayClient,
    members_api: GatewayClient,
    merchant: dict[str, Any],
    member: dict[str, Any],
) -> None:
    earn(accrue_api, member, 700)
    payment = {"method": "points", "member_id": member["member_id"]}
    short = place(gift_api, "GC-3", quantity=3, payment=payment)  # 9 000 RUB = 9 000 points
    assert short.status == 409 and short.body["error"]["code"] == "insufficient_points"
    paid = place(gift_api, "GC-4", quantity=1, nominal_kopecks=50_000, payment=payment)
    assert paid.status == 201, paid.body
    assert paid.body["points_paid"] == 500

    def balance() -> int:
        return int(
            members_api.get("/v1/members/{member_id}", path_params={"member_id": member["member_id"]}).body["balance"]
        )

    assert balance() == 200
    submit(merchant, "GC-4")
    assert webhook(gift_api, standin_order(), "failed").status == 200
    assert balance() == 700
    assert gift_api.get("/v1/gift-cards/orders/{order_id}", path_params={"order_id": "GC-4"}).body["status"] == "failed"


def test_orders_placed_while_sevendar_is_down_all_arrive_once_when_it_is_back(
    gift_api: GatewayClient, merchant: dict[str, Any]
) -> None:
    SEVENDAR.set_fault("down")
    for n in range(3):
        assert place(gift_api, f"GC-down-{n}").status == 201
    for n in range(3):
        result = submit(merchant, f"GC-down-{n}")
        assert result == {"batchItemFailures": [{"itemIdentifier": f"GC-down-{n}"}]}
    assert SEVENDAR.orders() == []
    SEVENDAR.set_fault("none")
    for n in range(3):
        assert submit(merchant, f"GC-down-{n}", receive_count=2) == {"batchItemFailures": []}
        assert submit(merchant, f"GC-down-{n}", receive_count=3) == {"batchItemFailures": []}
    placed = SEVENDAR.orders()
    assert len(placed) == 3
    assert all(order["idempotency_key_uses"] >= 1 for order in placed)
    assert len({order["reference"] for order in placed}) == 3


def test_concurrent_redemptions_never_overspend_a_card(gift_api: GatewayClient, merchant: dict[str, Any]) -> None:
    place(gift_api, "GC-5", quantity=1, nominal_kopecks=100_000)
    submit(merchant, "GC-5")
    sd_order = standin_order()
    webhook(gift_api, sd_order, "delivered")
    code = sd_order["printed_codes"][0]

    def spend(n: int) -> int:
        return gift_api.post(
            "/v1/gift-cards/{code}/redeem",
            path_params={"code": code},
            body={"redemption_id": f"race-{n}", "amount_kopecks": 30_000},
        ).status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(spend, range(8)))
    assert statuses == [200, 200, 200, 409, 409, 409, 409, 409]
    card = gift_api.get("/v1/gift-cards/{code}", path_params={"code": code}).body
    assert card["balance_kopecks"] == 10_000


def test_invalid_orders_say_what_is_wrong(gift_api: GatewayClient) -> None:
    for changes, hint in (
        (
            {
                "delivery": {
                    "method": "post",
                    "address": {
                        "postal_code": "12345",
                        "region": "Москва",
                        "city": "Москва",
                        "street": "Тверская",
                        "house": "1",
                    },
                }
            },
            "postal_code",
        ),
        ({"delivery": {"method": "courier"}}, "address"),
        ({"recipient": {"email": None, "name": "A"}}, "email"),
        ({"recipient": {"email": "a@b.ru", "phone": "+12025550123"}}, "Russian"),
        ({"nominal_kopecks": 100}, "500"),
        ({"design_id": None}, "design_id"),
    ):
        reply = place(gift_api, f"GC-bad-{hint}", **changes)
        assert reply.status == 400, (changes, reply.body)
        assert hint in json.dumps(reply.body, ensure_ascii=False), reply.body


def test_an_accepted_webhook_that_beats_the_worker_loses_nothing(
    gift_api: GatewayClient, merchant: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SevenDar answers the create and sends its "accepted" webhook; the webhook commits before the
    worker records the submission. Neither may be lost: the order is submitted, keeps SevenDar's
    id, and the worker's message is not dead-lettered."""
    import functions.gift_cards.app as gift_cards_app

    place(gift_api, "GC-race")
    real = gift_cards_app.sevendar()

    class WebhookFirst:
        def create_order(self, order: Any, idempotency_key: str) -> Any:
            placed = real.create_order(order, idempotency_key)
            assert webhook(gift_api, standin_order(placed.id), "accepted").status == 200
            return placed

    monkeypatch.setattr(gift_cards_app, "sevendar", WebhookFirst)
    assert submit(merchant, "GC-race") == {"batchItemFailures": []}
    order = gift_api.get("/v1/gift-cards/orders/{order_id}", path_params={"order_id": "GC-race"}).body
    assert [h["status"] for h in order["history"]] == ["created", "submitted"]
    from loyalty.data import gift_cards as table

    stored = table.get_order(merchant["merchant_id"], "GC-race")
    assert stored is not None and stored.sevendar_order_id == standin_order()["id"]


def test_a_failure_and_its_points_refund_are_one_write(
    gift_api: GatewayClient,
    accrue_api: GatewayClient,
    members_api: GatewayClient,
    merchant: dict[str, Any],
    member: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from loyalty.data import changes
    from loyalty.data.transaction import Stale

    earn(accrue_api, member, 700)
    payment = {"method": "points", "member_id": member["member_id"]}
    assert place(gift_api, "GC-atomic", quantity=1, nominal_kopecks=50_000, payment=payment).status == 201
    submit(merchant, "GC-atomic")
    stage = changes.stage

    def refund_fails(*args: Any, **kwargs: Any) -> None:
        raise Stale("member")  # the member write cannot be done, every time

    monkeypatch.setattr(changes, "stage", refund_fails)
    failed = webhook(gift_api, standin_order(), "failed", event_id="evt-fail")
    assert failed.status == 503  # SevenDar retries the webhook
    order = gift_api.get("/v1/gift-cards/orders/{order_id}", path_params={"order_id": "GC-atomic"}).body
    assert order["status"] == "submitted"  # not recorded as failed with the points gone

    monkeypatch.setattr(changes, "stage", stage)
    assert webhook(gift_api, standin_order(), "failed", event_id="evt-fail").status == 200
    assert webhook(gift_api, standin_order(), "failed", event_id="evt-fail").body["duplicate"] is True
    balance = members_api.get("/v1/members/{member_id}", path_params={"member_id": member["member_id"]}).body
    assert balance["balance"] == 700  # refunded, once


def test_documented_order_sizes_work_and_larger_ones_are_refused_clearly(
    gift_api: GatewayClient,
    accrue_api: GatewayClient,
    members_api: GatewayClient,
    merchant: dict[str, Any],
    member: dict[str, Any],
) -> None:
    hundred = place(gift_api, "GC-100", quantity=100, nominal_kopecks=50_000)
    assert hundred.status == 201, hundred.body
    submit(merchant, "GC-100")
    assert webhook(gift_api, standin_order(), "delivered").status == 200
    codes = standin_order()["printed_codes"]
    assert len(codes) == 100
    assert gift_api.get("/v1/gift-cards/{code}", path_params={"code": codes[-1]}).body["status"] == "active"

    earn(accrue_api, member, 50_000)
    by_points = place(
        gift_api,
        "GC-100-pts",
        quantity=100,
        nominal_kopecks=50_000,
        payment={"method": "points", "member_id": member["member_id"]},
    )
    assert by_points.status == 201, by_points.body
    assert by_points.body["points_paid"] == 50_000

    plastic = {"kind": "loyalty_card", "design_id": "lc_classic", "nominal_kopecks": None}
    thousand = place(gift_api, "LC-1000", quantity=1_000, **plastic)
    assert thousand.status == 201, thousand.body
    assert len(thousand.body["card_numbers"]) == 1_000
    too_many = place(gift_api, "LC-1001", quantity=1_001, **plastic)
    assert too_many.status == 400
    assert "1000" in json.dumps(too_many.body)


def test_plastic_card_numbers_are_reserved_for_their_order(
    gift_api: GatewayClient, members_api: GatewayClient, merchant: dict[str, Any]
) -> None:
    from loyalty.data import members as members_table

    ordered = place(gift_api, "LC-5", quantity=5, kind="loyalty_card", design_id="lc_classic", nominal_kopecks=None)
    number = ordered.body["card_numbers"][0]
    submit(merchant, "LC-5")
    assert members_table.find_by_card(merchant["merchant_id"], number) is None  # reserved, nobody's yet
    joined = members_api.post("/v1/members", body={"phone": "+79161234400", "card_number": number})
    assert joined.status == 201, joined.body  # the shop hands the plastic card out at the till
    second = members_api.post("/v1/members", body={"phone": "+79161234401", "card_number": number})
    assert (second.status, second.body["error"]["code"]) == (409, "card_in_use")


def test_an_unknown_design_or_a_nominal_outside_the_catalog_is_a_400_at_order_time(gift_api: GatewayClient) -> None:
    unknown = place(gift_api, "GC-nodesign", design_id="gc_no_such_design")
    assert (unknown.status, unknown.body["error"]["details"]["field"]) == (400, "design_id")
    catalog = gift_api.get("/v1/gift-cards/designs", query={"kind": "gift_card"}).body["designs"]
    birch = next(d for d in catalog if d["id"] == "gc_birch_grove")
    below = place(gift_api, "GC-low", nominal_kopecks=birch["min_nominal_kopecks"] - 100)
    assert (below.status, below.body["error"]["details"]["field"]) == (400, "nominal_kopecks")
    at_minimum = place(gift_api, "GC-min", nominal_kopecks=birch["min_nominal_kopecks"])
    assert at_minimum.status == 201  # the catalog's minimum, not a fixed 500 roubles


def test_each_receipt_shows_the_balance_its_spend_left_under_concurrency(
    gift_api: GatewayClient, merchant: dict[str, Any]
) -> None:
    place(gift_api, "GC-receipts", quantity=1, nominal_kopecks=100_000)
    submit(merchant, "GC-receipts")
    webhook(gift_api, standin_order(), "delivered")
    code = standin_order()["printed_codes"][0]

    def spend(n: int) -> Any:
        return gift_api.post(
            "/v1/gift-cards/{code}/redeem",
            path_params={"code": code},
            body={"redemption_id": f"rcpt-{n}", "amount_kopecks": 10_000},
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(spend, range(8)))
    assert {reply.status for reply in replies} == {200}
    assert sorted(reply.body["balance_kopecks"] for reply in replies) == [20_000 + 10_000 * n for n in range(8)]
