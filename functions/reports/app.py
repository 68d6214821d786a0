"""Reports: the monthly KPIs of the program and gift-card sales, read from counters that the
ledger's and the notifications table's streams add exactly once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty import runtime
from loyalty.api.reports import GiftCardReport, KpiQuery, KpiReport
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.http.access import MANAGE
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, reply
from loyalty.platform.observability import metrics, observed_handler
from loyalty.services import stats

CONFIG = CoreConfig.from_env()
runtime.bootstrap(CONFIG)

bp = ApiBlueprint(__name__, tags=("Reports",))


@bp.route(
    "/v1/reports/kpis",
    methods=["GET"],
    authorizer=merchant_key,
    access=MANAGE,
    query=KpiQuery,
    response=KpiReport,
    summary="Does the program pay? Members, purchases, average checks, frequency, retention and churn, "
    "engagement, points and liability, program cost, incremental revenue, ROI, CLV and cohorts, per month",
)
def get_kpis() -> object:
    """Calendar months in the program's time zone, at most 24 (default: the last 6). Every figure
    is defined in the README ("Analytics: does the program pay?")."""
    return reply(200, stats.kpi_report(bp.merchant_id(), bp.query_model(KpiQuery), utcnow()))


@bp.route(
    "/v1/reports/gift-cards",
    methods=["GET"],
    authorizer=merchant_key,
    access=MANAGE,
    query=KpiQuery,
    response=GiftCardReport,
    summary="Gift cards sold, spent and outstanding, per month",
)
def get_gift_card_report() -> object:
    return reply(200, stats.gift_card_report(bp.merchant_id(), bp.query_model(KpiQuery), utcnow()))


app = create_app("reports", bp)


@observed_handler
def count_stream(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """The ledger's and the notifications table's streams: facts to monthly counters, each once.
    A failure retries (and bisects) the batch; what was counted stays counted once."""
    counted = stats.count_stream(event, utcnow())
    metrics.add_metric(name="FactsCounted", unit="Count", value=counted.counted)
    return counted.as_dict()
