"""The daily expiry schedule: removes what is left of every lot whose month has ended, once, and
warns members whose points expire at the next month end (as many days ahead as the program says)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty import runtime
from loyalty.config import CoreConfig
from loyalty.platform.observability import logger, metrics, tracer
from loyalty.platform.publisher import publish
from loyalty.platform.schedule import scheduled_now, time_left
from loyalty.services import expiry


class ExpireConfig(CoreConfig):
    expiry_lookback_months: int = 3


CONFIG = ExpireConfig.from_env()
runtime.bootstrap(CONFIG)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    now, budget = scheduled_now(event), time_left(context)
    expired = expiry.run_expiry(now, lookback_months=CONFIG.expiry_lookback_months, time_left=budget)
    warned = expiry.warn_expiring(now, lambda events: publish(CONFIG.event_bus_name, events), time_left=budget)
    metrics.add_metric(name="PointsExpired", unit="Count", value=expired["points"])
    metrics.add_metric(name="ExpiryWarnings", unit="Count", value=warned["warned"])
    result = {**expired, "warned": warned["warned"], "complete": min(expired["complete"], warned["complete"])}
    logger.info("expiry run", extra=result)
    return result
