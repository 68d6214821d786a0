"""The KPI report's cost against the merchant's size: a year of a shop with N members, each
enrolled and buying through the use cases (with anonymous sales beside them), its ledger stream
counted by the counting function in batches of 100, then a 12-month report read and metered.

``python -m bench.kpis 100`` prints one JSON line; ``make bench`` runs it for 100 and 10,000
members, each in its own process on moto in-process (the fastest way to build 10,000 members).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from typing import Any

from bench import isolated
from bench.dynamo_meter import metering

BATCH = 100


def stream_records(stream_arn: str) -> list[dict[str, Any]]:
    """The table stream's records, read from moto's streams backend: in-process, moto routes the
    DynamoDB Streams API to DynamoDB's handler (the server, which the tests use, does not)."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    from infra.local.invoke import stream_event
    from infra.local.provision import ACCOUNT_ID, REGION

    streams = dynamodbstreams_backends[ACCOUNT_ID][REGION]
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(stream_arn)["Shards"]:
        iterator = streams.get_shard_iterator(stream_arn, shard["ShardId"], "TRIM_HORIZON").arn
        while True:
            page = streams.get_records(iterator, 1000)
            records += json.loads(json.dumps(page["Records"], default=str))
            iterator = page["NextShardIterator"]
            if not page["Records"]:
                break
    return list(stream_event(records, stream_arn, REGION)["Records"])


def run(members: int) -> dict[str, Any]:
    from loyalty.api.members import EnrollRequest
    from loyalty.api.purchases import PurchaseRequest
    from loyalty.api.reports import KpiQuery
    from loyalty.clock import utcnow
    from loyalty.domain.kpis import month_of
    from loyalty.services import accrual, enrollment, merchants, stats

    stack, cipher = isolated.provisioned()
    now = utcnow()
    start = now - timedelta(days=365)
    merchant_id = merchants.create_merchant("Bench coffee", start).merchant_id
    built = time.perf_counter()
    for n in range(members):
        moment = start + timedelta(days=364 * n / members)
        member = enrollment.enroll(merchant_id, EnrollRequest(phone=f"+7916{n:07d}"), moment, cipher)
        buyers: list[str | None] = [member.member_id] + ([None] if n % 4 == 0 else [])
        for number, buyer in enumerate(buyers):  # and an anonymous sale now and then
            request = PurchaseRequest(
                transaction_id=f"{number}-{n}", amount_kopecks=35_000 + n % 7 * 1_000, member_id=buyer
            )
            accrual.accrue(merchant_id, request, moment + timedelta(minutes=5), cipher)
        if n % 1_000 == 999:
            print(f"  {n + 1} members ...", file=sys.stderr, flush=True)
    records = stream_records(stack.attributes[("LedgerTable", "StreamArn")])
    building = time.perf_counter() - built
    with metering() as meter:
        first = stats.count_stream({"Records": records[:BATCH]}, now)
    batch_cost = meter.snapshot()
    for start_at in range(BATCH, len(records), BATCH):
        stats.count_stream({"Records": records[start_at : start_at + BATCH]}, now)
    last = month_of(now, "Europe/Moscow")
    query = KpiQuery.model_validate({"from": month_of(start + timedelta(days=31), "Europe/Moscow"), "to": last})
    with metering() as meter:
        report = stats.kpi_report(merchant_id, query, now)
    members_total = report.months[-1].members_total
    assert members_total == members, (members_total, members)
    return {
        "members": members,
        "months": len(report.months),
        "stream_records": len(records),
        "report": meter.snapshot(),
        "count_batch": {"facts": first.facts, **batch_cost},
        "build_seconds": round(building, 1),
    }


def main() -> None:
    isolated.serve(lambda: run(int(sys.argv[1])))


if __name__ == "__main__":
    main()
