"""Reports: counters aggregated from the ledger's stream, and the merchant's summary that reads
them (a handful of items, whatever the merchant's size)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty import runtime
from loyalty.api.reports import ReportQuery, ReportSummary
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.http.access import MANAGE
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, reply
from loyalty.platform.observability import logger, metrics, tracer
from loyalty.services import stats

CONFIG = CoreConfig.from_env()
runtime.bootstrap(CONFIG)

bp = ApiBlueprint(__name__, tags=("Reports",))


@bp.route(
    "/v1/reports/summary",
    methods=["GET"],
    authorizer=merchant_key,
    access=MANAGE,
    query=ReportQuery,
    response=ReportSummary,
    summary="Members, purchases, points (with the liability in roubles) and gift-card sales",
)
def get_summary() -> object:
    query = bp.query_model(ReportQuery)
    return reply(200, stats.summary(bp.merchant_id(), query.start, query.end, utcnow().date()))


app = create_app("reports", bp)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def count_ledger(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    entries, updates = stats.count_ledger(event)
    return {"entries": entries, "updates": updates}
