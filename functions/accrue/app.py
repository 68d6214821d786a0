"""Accrual: purchases over HTTP from POS and web shops, and from partners through the
``purchase-events`` queue (each message signed with the partner's key, and credited to the merchant
that issued it). Both paths call the same use case, exactly once per transaction id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty import runtime
from loyalty.api.purchases import PurchaseEvent, PurchaseRequest, PurchaseResult, RefundRequest, RefundResult
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.errors import InvalidRequest
from loyalty.http.access import TILL
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, idempotent_reply, validation_details
from loyalty.platform.observability import logger, metrics, observed_handler
from loyalty.platform.queues import QueueConsumer
from loyalty.services import accrual
from pydantic import ValidationError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


class AccrueConfig(CoreConfig):
    purchase_events_dlq_url: str
    purchase_events_max_receive_count: int = 5


CONFIG = AccrueConfig.from_env()
runtime.bootstrap(CONFIG)

bp = ApiBlueprint(__name__, tags=("Purchases",))


@bp.route(
    "/v1/purchases",
    methods=["POST"],
    authorizer=merchant_key,
    access=TILL,
    summary="Record a purchase: the member earns points, once per transaction_id",
    request=PurchaseRequest,
    response=PurchaseResult,
    status=201,
    errors=(404, 409, 422, 503),
    idempotent=True,
)
def post_purchase() -> object:
    request = bp.parse(PurchaseRequest)
    result, replayed = accrual.accrue(bp.merchant_id(), request, utcnow(), runtime.current().cipher())
    metrics.add_metric(name="PointsEarned", unit="Count", value=result.points_earned)
    return idempotent_reply(201, result, replayed)


@bp.route(
    "/v1/purchases/{transaction_id}/refunds",
    methods=["POST"],
    authorizer=merchant_key,
    access=TILL,
    summary="Refund part or all of a purchase: its points are taken back, once per refund_id",
    request=RefundRequest,
    response=RefundResult,
    status=201,
    errors=(404, 409, 422, 503),
    idempotent=True,
)
def post_refund(transaction_id: str) -> object:
    request = bp.parse(RefundRequest)
    result, replayed = accrual.refund(bp.merchant_id(), transaction_id, request, utcnow())
    return idempotent_reply(201, result, replayed)


app = create_app("accrue", bp)


def apply_purchase_event(record: SQSRecord) -> None:
    try:
        event = PurchaseEvent.model_validate_json(record.body)
    except ValidationError as exc:
        raise InvalidRequest("purchase event is invalid", details=validation_details(exc)) from exc
    from loyalty.services import partners  # the queue's path only, not the till's

    cipher = runtime.current().cipher()
    attributes = {name: str(value.string_value) for name, value in record.message_attributes.items()}
    merchant_id = partners.sender(record.body, attributes, event.merchant_id, cipher)
    request = PurchaseRequest.model_validate(event.model_dump(exclude={"merchant_id"}))
    result, replayed = accrual.accrue(merchant_id, request, utcnow(), cipher)
    logger.info(
        "purchase event applied",
        extra={
            "merchant_id": merchant_id,
            "partner": attributes.get("partner_key"),
            "transaction_id": event.transaction_id,
            "points": result.points_earned,
            "replayed": replayed,
        },
    )


purchase_events = QueueConsumer(
    "PurchaseEvents",
    apply_purchase_event,
    dlq_url=CONFIG.purchase_events_dlq_url,
    max_receive_count=CONFIG.purchase_events_max_receive_count,
)


@observed_handler
def handle_purchase_events(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return purchase_events(event, context)
