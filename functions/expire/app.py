"""The expiry job. The daily schedule fans out one message per shard of every month end due and
warns members whose points expire at the next month end (as many days ahead as the program says);
the expiry queue's worker removes what is left of each expired lot, a bounded page of a shard per
message, once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty import runtime
from loyalty.config import CoreConfig
from loyalty.errors import InvalidRequest
from loyalty.platform.observability import logger, metrics, tracer
from loyalty.platform.publisher import publish
from loyalty.platform.queues import QueueConsumer
from loyalty.platform.schedule import scheduled_now, time_left
from loyalty.services import expiry, expiry_runs
from pydantic import ValidationError


class ExpireConfig(CoreConfig):
    expiry_lookback_months: int = 3
    expiry_queue_url: str
    expiry_dlq_url: str
    expiry_max_receive_count: int = 5


CONFIG = ExpireConfig.from_env()
runtime.bootstrap(CONFIG)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    now = scheduled_now(event)
    queued = expiry_runs.enqueue(expiry.shard_runs(now, CONFIG.expiry_lookback_months), CONFIG.expiry_queue_url)
    warned = expiry.warn_expiring(now, lambda events: publish(CONFIG.event_bus_name, events), time_left(context))
    metrics.add_metric(name="ExpiryWarnings", unit="Count", value=warned["warned"])
    result = {"queued": queued, **warned}
    logger.info("expiry fanned out", extra=result)
    return result


# ---- the expiry queue's worker -------------------------------------------------------------------
def expire_run(record: SQSRecord) -> None:
    try:
        run = expiry.ShardRun.model_validate_json(record.body)
    except ValidationError as exc:
        raise InvalidRequest("not an expiry run") from exc
    outcome = expiry_runs.run_and_continue(run, CONFIG.expiry_queue_url)
    metrics.add_metric(name="PointsExpired", unit="Count", value=outcome.points)
    logger.info(
        "expiry run",
        extra={
            "day": run.day.isoformat(),
            "shard": run.shard,
            "members": outcome.members,
            "points": outcome.points,
            "more": outcome.next_run is not None,
        },
    )


runs = QueueConsumer(
    "ExpiryRuns", expire_run, dlq_url=CONFIG.expiry_dlq_url, max_receive_count=CONFIG.expiry_max_receive_count
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handle_runs(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return runs(event, context)
