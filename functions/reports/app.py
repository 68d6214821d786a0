"""Reports: counters aggregated from the ledger's stream, and the merchant's summary that reads
them (a handful of items, whatever the merchant's size)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty import runtime
from loyalty.api.reports import DayFigures, GiftCardSummary, PointsSummary, ReportQuery, ReportSummary
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.data.models import LedgerEntryItem
from loyalty.errors import InvalidRequest
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, reply
from loyalty.platform.observability import logger, metrics, tracer
from loyalty.services import stats
from loyalty.services.merchants import programs

CONFIG = CoreConfig.from_env()
runtime.bootstrap(CONFIG)

bp = ApiBlueprint(__name__, tags=("Reports",))
MAX_DAYS = 366


@bp.route(
    "/v1/reports/summary",
    methods=["GET"],
    authorizer=merchant_key,
    query=ReportQuery,
    response=ReportSummary,
    summary="Members, purchases, points (with the liability in roubles) and gift-card sales",
)
def get_summary() -> object:
    query = bp.query_model(ReportQuery)
    merchant_id = bp.merchant_id()
    end = query.end or utcnow().date()
    start = query.start or end - timedelta(days=29)
    if start > end or (end - start).days >= MAX_DAYS:
        raise InvalidRequest(f"from must not be after to, and the range at most {MAX_DAYS} days")
    total, days = stats.read(CONFIG.merchants_table, merchant_id, start, end)
    value = programs.get(merchant_id).program.unit_value_kopecks
    issued, redeemed = total.get("points_issued", 0), total.get("points_redeemed", 0)
    expired, clawed = total.get("points_expired", 0), total.get("points_clawed_back", 0)
    outstanding = issued - redeemed - expired - clawed
    members, purchases = total.get("members_new", 0), total.get("purchases", 0)
    sold, redeemed_value = total.get("gift_card_nominal_kopecks", 0), total.get("gift_card_redeemed_kopecks", 0)
    return reply(
        200,
        ReportSummary(
            members_total=members,
            purchases=purchases,
            purchase_kopecks=total.get("purchase_kopecks", 0),
            average_check_kopecks=total.get("purchase_kopecks", 0) // purchases if purchases else 0,
            purchases_per_member=round(purchases / members, 2) if members else 0.0,
            points=PointsSummary(
                issued=issued,
                redeemed=redeemed,
                expired=expired,
                clawed_back=clawed,
                outstanding=outstanding,
                liability_kopecks=outstanding * value,
            ),
            gift_cards=GiftCardSummary(
                cards_sold=total.get("gift_cards_sold", 0),
                nominal_sold_kopecks=sold,
                redeemed_kopecks=redeemed_value,
                outstanding_kopecks=sold - redeemed_value,
            ),
            days=[
                DayFigures(
                    day=date.fromisoformat(day), **{k: v for k, v in figures.items() if k in DayFigures.model_fields}
                )
                for day, figures in sorted(days.items())
            ],
        ),
    )


app = create_app("reports", bp)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def count_ledger(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    rows = []
    for record in event.get("Records", []):
        if record.get("eventName") == "INSERT":
            entry = LedgerEntryItem.from_raw_data(record["dynamodb"]["NewImage"])
            rows.append((entry.merchant_id, entry.created_at.date(), stats.ledger_counters(entry)))
    aggregated = stats.aggregate(rows)
    for (merchant_id, day), counters in aggregated.items():
        stats.add(CONFIG.merchants_table, merchant_id, day, counters)
    return {"entries": len(rows), "updates": len(aggregated)}
