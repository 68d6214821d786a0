"""The expiry schedule: removes what is left of every lot whose month has ended, once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty import runtime
from loyalty.config import CoreConfig
from loyalty.platform.observability import logger, metrics, tracer
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
    result = expiry.run_expiry(
        scheduled_now(event), lookback_months=CONFIG.expiry_lookback_months, time_left=time_left(context)
    )
    metrics.add_metric(name="PointsExpired", unit="Count", value=result["points"])
    logger.info("expiry run", extra=result)
    return result
