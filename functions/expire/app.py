"""The expiry job. The daily schedule fans out one message per shard of every month end due, and
one per shard of the month end whose warnings are due (as many days ahead as each program says);
the expiry queue's worker takes a bounded page of a shard per message: it removes what is left of
each expired lot, once, or warns the members whose points are about to expire."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty import runtime
from loyalty.config import CoreConfig
from loyalty.errors import InvalidRequest
from loyalty.platform.observability import logger, metrics, observed_handler
from loyalty.platform.publisher import publish
from loyalty.platform.queues import QueueConsumer
from loyalty.platform.schedule import scheduled_now
from loyalty.services import expiry, expiry_runs
from pydantic import ValidationError


class ExpireConfig(CoreConfig):
    expiry_lookback_months: int = 3
    expiry_queue_url: str
    expiry_dlq_url: str
    expiry_max_receive_count: int = 5


CONFIG = ExpireConfig.from_env()
runtime.bootstrap(CONFIG)


@observed_handler
def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    now = scheduled_now(event)
    queued = expiry_runs.enqueue(expiry.shard_runs(now, CONFIG.expiry_lookback_months), CONFIG.expiry_queue_url)
    warning_runs = expiry_runs.enqueue(expiry.warning_runs(now), CONFIG.expiry_queue_url)
    result = {"queued": queued, "warning_runs": warning_runs}
    logger.info("expiry fanned out", extra=result)
    return result


# ---- the expiry queue's worker -------------------------------------------------------------------
def expire_run(record: SQSRecord) -> None:
    try:
        run = expiry.ShardRun.model_validate_json(record.body)
    except ValidationError as exc:
        raise InvalidRequest("not an expiry run") from exc
    outcome = expiry_runs.run_and_continue(
        run, CONFIG.expiry_queue_url, lambda events: publish(CONFIG.event_bus_name, events)
    )
    if run.warning_days is None:
        metrics.add_metric(name="PointsExpired", unit="Count", value=outcome.points)
        done = "expiry run"
    else:
        metrics.add_metric(name="ExpiryWarnings", unit="Count", value=outcome.warned)
        done = "expiry warning run"
    logger.info(
        done,
        extra={
            "day": run.day.isoformat(),
            "shard": run.shard,
            "members": outcome.members,
            "points": outcome.points,
            "warned": outcome.warned,
            "more": outcome.next_run is not None,
        },
    )


runs = QueueConsumer(
    "ExpiryRuns", expire_run, dlq_url=CONFIG.expiry_dlq_url, max_receive_count=CONFIG.expiry_max_receive_count
)


@observed_handler
def handle_runs(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return runs(event, context)
