"""Gift cards through SevenDar: ordering (stored first), the queue worker that submits orders,
SevenDar's signed webhooks, the stored value at the till, and the table stream that queues new
orders, announces status changes and counts sales."""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty import runtime
from loyalty.api.gift_cards import (
    DesignList,
    DesignQuery,
    DesignView,
    GiftCardOrderRequest,
    GiftCardOrderView,
    GiftCardRedeemRequest,
    GiftCardRedemptionView,
    GiftCardView,
    WebhookAck,
)
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.errors import InvalidRequest, Unauthenticated, Unavailable
from loyalty.http.access import MANAGE, TILL
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, idempotent_reply, reply
from loyalty.platform.aws import client
from loyalty.platform.observability import logger, observed_handler
from loyalty.platform.publisher import publish
from loyalty.platform.queues import QueueConsumer
from loyalty.platform.secrets import secret_json
from loyalty.services import gift_cards, stats
from loyalty.sevendar.client import SevenDarClient, SevenDarError
from loyalty.sevendar.webhooks import WebhookRejected, verify

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


class GiftCardsConfig(CoreConfig):
    gift_card_queue_url: str
    gift_card_dlq_url: str
    gift_card_max_receive_count: int = 8
    gift_card_retry_seconds: int = 15
    sevendar_base_url: str
    sevendar_secret_name: str
    public_base_url: str


CONFIG = GiftCardsConfig.from_env()
runtime.bootstrap(CONFIG)
WEBHOOK_PATH = "/v1/webhooks/sevendar"


def sevendar_secret() -> dict[str, Any]:
    return secret_json(CONFIG.sevendar_secret_name, CONFIG.secret_cache_seconds)


@cache
def sevendar() -> SevenDarClient:
    return SevenDarClient(CONFIG.sevendar_base_url, str(sevendar_secret()["api_key"]), max_attempts=2)


@cache
def sevendar_for_orders() -> SevenDarClient:
    """Checking an order against the catalog must not hold the till: one short try."""
    return SevenDarClient(
        CONFIG.sevendar_base_url,
        str(sevendar_secret()["api_key"]),
        read_timeout=2.0,
        connect_timeout=1.0,
        max_attempts=1,
    )


CATALOG = gift_cards.DesignCatalog(sevendar_for_orders)


bp = ApiBlueprint(__name__, tags=("Gift cards",))


@bp.route(
    "/v1/gift-cards/designs",
    methods=["GET"],
    authorizer=merchant_key,
    access=MANAGE,
    query=DesignQuery,
    summary="SevenDar's design catalog of gift cards and plastic loyalty cards",
    response=DesignList,
    errors=(503,),
)
def get_designs() -> object:
    bp.merchant_id()
    try:
        designs = sevendar().designs(bp.query_model(DesignQuery).kind)
    except SevenDarError as exc:
        raise Unavailable("the design catalog is unavailable; retry", code="sevendar_unavailable") from exc
    return reply(200, DesignList(designs=[DesignView.model_validate(d.model_dump()) for d in designs]))


@bp.route(
    "/v1/gift-cards/orders",
    methods=["POST"],
    authorizer=merchant_key,
    access=MANAGE,
    request=GiftCardOrderRequest,
    response=GiftCardOrderView,
    status=201,
    errors=(404, 409, 422, 503),
    idempotent=True,
    summary="Order gift cards or plastic loyalty cards from SevenDar (checked against its catalog, "
    "stored now, submitted by a worker)",
)
def post_order() -> object:
    request = bp.parse(GiftCardOrderRequest)
    view, replayed = gift_cards.place_order(bp.merchant_id(), request, utcnow(), runtime.current().cipher(), CATALOG)
    return idempotent_reply(201, view, replayed)


@bp.route(
    "/v1/gift-cards/orders/{order_id}",
    methods=["GET"],
    authorizer=merchant_key,
    access=MANAGE,
    response=GiftCardOrderView,
    summary="An order and its status history",
)
def get_order(order_id: str) -> object:
    return reply(200, gift_cards.order_view(gift_cards.get_order(bp.merchant_id(), order_id)))


@bp.route(
    "/v1/gift-cards/orders/{order_id}/cancel",
    methods=["POST"],
    authorizer=merchant_key,
    access=MANAGE,
    response=GiftCardOrderView,
    errors=(404, 409, 503),
    summary="Cancel an order while SevenDar still allows it (not once shipped); points paid come back once",
)
def cancel_order(order_id: str) -> object:
    return reply(200, gift_cards.cancel(bp.merchant_id(), order_id, sevendar(), utcnow()))


@bp.route(
    "/v1/gift-cards/{code}",
    methods=["GET"],
    authorizer=merchant_key,
    access=TILL,
    response=GiftCardView,
    summary="A gift card's balance at the till",
)
def get_card(code: str) -> object:
    return reply(200, gift_cards.get_card(bp.merchant_id(), code, utcnow(), runtime.current().cipher()))


@bp.route(
    "/v1/gift-cards/{code}/redeem",
    methods=["POST"],
    authorizer=merchant_key,
    access=TILL,
    request=GiftCardRedeemRequest,
    response=GiftCardRedemptionView,
    errors=(409, 422, 503),
    idempotent=True,
    summary="Spend part of a gift card's value, once per redemption_id, never below zero",
)
def post_card_redeem(code: str) -> object:
    request = bp.parse(GiftCardRedeemRequest)
    view, replayed = gift_cards.redeem(bp.merchant_id(), code, request, utcnow(), runtime.current().cipher())
    return idempotent_reply(200, view, replayed)


@bp.route(
    WEBHOOK_PATH,
    methods=["POST"],
    response=WebhookAck,
    errors=(401, 404, 409, 422),
    summary="SevenDar's signed order-status webhook (HMAC over timestamp and body; replays refused)",
    tags=("Webhooks",),
)
def post_webhook() -> object:
    request = bp.current_request
    body = request.raw_body if isinstance(request.raw_body, bytes) else (request.raw_body or "").encode()
    try:
        event = verify(dict(request.headers), body, str(sevendar_secret()["webhook_secret"]).encode(), utcnow())
    except WebhookRejected as exc:
        if exc.reason == "malformed":
            raise InvalidRequest("webhook body is malformed", code="malformed_webhook") from exc
        raise Unauthenticated(f"webhook rejected: {exc.reason}", code=f"webhook_{exc.reason}") from exc
    ack = gift_cards.apply_webhook(event, utcnow(), runtime.current().cipher())
    return reply(200, ack)


app = create_app("gift_cards", bp)


# ---- the queue worker ----------------------------------------------------------------------
def submit_order(record: SQSRecord) -> None:
    try:
        message = json.loads(record.body)
        merchant_id, order_id = str(message["merchant_id"]), str(message["order_id"])
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise InvalidRequest("not a gift-card order message") from exc
    status = gift_cards.submit(
        merchant_id,
        order_id,
        sevendar(),
        f"{CONFIG.public_base_url}{WEBHOOK_PATH}",
        runtime.current().cipher(),
        utcnow(),
    )
    logger.info("gift-card order submitted", extra={"order": order_id, "status": status})


orders = QueueConsumer(
    "GiftCardOrders",
    submit_order,
    dlq_url=CONFIG.gift_card_dlq_url,
    max_receive_count=CONFIG.gift_card_max_receive_count,
    queue_url=CONFIG.gift_card_queue_url,
    backoff_seconds=CONFIG.gift_card_retry_seconds,
)


@observed_handler
def handle_orders(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return orders(event, context)


# ---- the table stream ----------------------------------------------------------------------
def queue_order(merchant_id: str, order_id: str) -> None:
    client("sqs").send_message(
        QueueUrl=CONFIG.gift_card_queue_url, MessageBody=json.dumps({"merchant_id": merchant_id, "order_id": order_id})
    )


@observed_handler
def handle_stream(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """New orders go to the worker's queue; status changes become events; card ledger entries
    become sales counters, each once. A failure retries the batch: each step is idempotent
    downstream."""
    now = utcnow()
    queued, announced, lines = gift_cards.stream_work(event, queue_order, now)
    if announced:
        publish(CONFIG.event_bus_name, announced)
    counted = stats.count_gift_card_lines(lines, now)
    return {"queued": queued, "announced": len(announced), "counted": counted.counted}
