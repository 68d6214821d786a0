"""The merchant's report reads pre-aggregated counters, fed from the ledger's stream."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from infra.local.provision import REGION, Stack
from tests.integration.conftest import earn
from tests.support.api import GatewayClient
from tests.support.events import context


@pytest.fixture
def reports_api(merchant: dict[str, Any]) -> GatewayClient:
    from functions.reports.app import app

    return GatewayClient(app, {"X-Api-Key": merchant["api_key"]})


def stream_everything(stack: Stack) -> dict[str, int]:
    """Replay the ledger table's stream into the counter function, as Lambda would."""
    from functions.reports.app import count_ledger

    streams = boto3.client("dynamodbstreams", region_name=REGION)
    arn = stack.attributes[("LedgerTable", "StreamArn")]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    return dict(count_ledger({"Records": records}, context("reports", 30)))


def test_summary_counts_members_purchases_and_points(
    stack: Stack,
    reports_api: GatewayClient,
    members_api: GatewayClient,
    accrue_api: GatewayClient,
    redeem_api: GatewayClient,
) -> None:
    from tests.integration.test_redemptions import redeem

    members = [members_api.post("/v1/members", body={"phone": f"+7916777000{n}"}).body for n in range(3)]
    for member in members:
        earn(accrue_api, member, 40)
    assert redeem(redeem_api, members[0], "rep-1", 15).status == 201
    counted = stream_everything(stack)
    assert counted["entries"] == 3 + 3 + 1
    summary = reports_api.get("/v1/reports/summary")
    assert summary.status == 200, summary.body
    body = summary.body
    assert (body["members_total"], body["purchases"], body["purchase_kopecks"]) == (3, 3, 1_200_000)
    assert body["average_check_kopecks"] == 400_000
    assert body["points"] == {
        "issued": 120,
        "redeemed": 15,
        "expired": 0,
        "clawed_back": 0,
        "outstanding": 105,
        "liability_kopecks": 10_500,
    }
    [today] = body["days"]
    assert (today["purchases"], today["members_new"], today["members_active"]) == (3, 3, 3)
    assert reports_api.get("/v1/reports/summary", query={"from": "2026-12-01", "to": "2026-01-01"}).status == 400
