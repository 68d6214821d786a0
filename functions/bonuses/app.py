"""Bonus actions: reviews and surveys (HTTP), birthdays (schedule), the referrer's reward (queue)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty import runtime
from loyalty.api.tiers import BonusActionRequest, BonusView
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.errors import InvalidRequest
from loyalty.events import DomainEvent
from loyalty.http.access import MANAGE
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, idempotent_reply, validation_details
from loyalty.platform.observability import logger, observed_handler
from loyalty.platform.queues import QueueConsumer, eventbridge_detail
from loyalty.platform.schedule import scheduled_now, time_left
from loyalty.services import bonuses
from pydantic import ValidationError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


class BonusesConfig(CoreConfig):
    bonus_events_dlq_url: str
    bonus_events_max_receive_count: int = 5


CONFIG = BonusesConfig.from_env()
runtime.bootstrap(CONFIG)

bp = ApiBlueprint(__name__, tags=("Tiers and bonuses",))


@bp.route(
    "/v1/members/{member_id}/bonus-actions",
    methods=["POST"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Grant the program's bonus for a review or survey, once per external_id",
    request=BonusActionRequest,
    response=BonusView,
    status=201,
    errors=(404, 409, 422, 503),
    idempotent=True,
)
def post_bonus_action(member_id: str) -> object:
    request = bp.parse(BonusActionRequest)
    result, replayed = bonuses.bonus_action(bp.merchant_id(), member_id, request, utcnow())
    return idempotent_reply(201, result, replayed)


app = create_app("bonuses", bp)


@observed_handler
def birthdays(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    result = bonuses.run_birthdays(scheduled_now(event), time_left(context))
    logger.info("birthdays", extra=result)
    return result


def apply_bonus_event(record: SQSRecord) -> None:
    """The referrer's reward when an invited member's purchase qualifies, and its reversal when
    that purchase is returned."""
    try:
        event = DomainEvent.model_validate(eventbridge_detail(record))
    except ValidationError as exc:
        raise InvalidRequest("not a domain event", details=validation_details(exc)) from exc
    if event.member_id is None:
        raise InvalidRequest(f"{event.type} without a member")
    now = utcnow()
    referrer_id = event.data.get("referrer_id")
    transaction_id = event.data.get("transaction_id")
    if event.type == "referral_qualified" and referrer_id:
        bonuses.reward_referrer(event.merchant_id, str(referrer_id), event.member_id, now, transaction_id)
    elif event.type == "referral_reversed" and referrer_id:
        bonuses.reverse_referrer(event.merchant_id, str(referrer_id), event.member_id, now, transaction_id)
    else:
        raise InvalidRequest(f"unexpected event {event.type}")


bonus_events = QueueConsumer(
    "BonusEvents",
    apply_bonus_event,
    dlq_url=CONFIG.bonus_events_dlq_url,
    max_receive_count=CONFIG.bonus_events_max_receive_count,
)


@observed_handler
def handle_bonus_events(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return bonus_events(event, context)
