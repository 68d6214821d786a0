"""Pre-aggregated counters for reports: a report reads a few counter items, never the ledger.

Counters are added from the tables' streams (in batches, aggregated per merchant and day), so the
requests that cause them pay nothing and a hot merchant's counter is written once per batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from loyalty.data.models import LedgerEntryItem
from loyalty.platform.aws import client

TOTAL = "STATS#TOTAL"

Counters = dict[str, int]


def day_sk(day: date) -> str:
    return f"STATS#{day.isoformat()}"


def month_sk(day: date) -> str:
    return f"STATS#{day:%Y-%m}"


def ledger_counters(entry: LedgerEntryItem) -> Counters:  # noqa: PLR0911 - one rule per ledger kind
    details = dict(entry.details or {})
    points = int(entry.points)
    kind = entry.kind
    if kind == "enrolled":
        return {"members_new": 1, "points_issued": points}
    if kind == "earn":
        counters = {"purchases": 1, "purchase_kopecks": int(details.get("amount_kopecks", 0)), "points_issued": points}
        if details.get("first_in_month"):
            counters["members_active"] = 1
        return counters
    if kind == "bonus":
        return {"points_issued": points, f"bonus_{details.get('bonus', 'other')}": points}
    if kind in ("redeem", "reward", "gift_card"):
        return {"points_redeemed": -points, "redemptions": 1}
    if kind in ("redeem_reversal", "gift_card_refund"):
        return {"points_redeemed": -points}
    if kind == "refund":
        return {"points_clawed_back": -points, "refund_kopecks": int(details.get("amount_kopecks", 0))}
    if kind == "expire":
        return {"points_expired": -points}
    return {}


def aggregate(rows: Iterable[tuple[str, date, Counters]]) -> dict[tuple[str, date], Counters]:
    totals: dict[tuple[str, date], Counters] = defaultdict(lambda: defaultdict(int))
    for merchant_id, day, counters in rows:
        for name, value in counters.items():
            if value:
                totals[(merchant_id, day)][name] += value
    return {key: dict(value) for key, value in totals.items() if value}


def add(table: str, merchant_id: str, day: date, counters: Mapping[str, int]) -> None:
    """ADD the counters to the merchant's total, its day and its month."""
    if not counters:
        return
    names = {f"#c{i}": name for i, name in enumerate(counters)}
    values = {f":v{i}": {"N": str(value)} for i, value in enumerate(counters.values())}
    expression = "ADD " + ", ".join(f"#c{i} :v{i}" for i in range(len(counters)))
    dynamodb = client("dynamodb")
    for sk in (TOTAL, day_sk(day), month_sk(day)):
        dynamodb.update_item(
            TableName=table,
            Key={"pk": {"S": merchant_id}, "sk": {"S": sk}},
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )


def _numbers(item: Mapping[str, Any]) -> dict[str, int]:
    return {name: int(value["N"]) for name, value in item.items() if "N" in value}


def read(table: str, merchant_id: str, start: date, end: date) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """The merchant's totals, and the counters of each day from ``start`` to ``end`` (one GetItem
    and one Query, whatever the number of members or purchases)."""
    dynamodb = client("dynamodb")
    total = dynamodb.get_item(TableName=table, Key={"pk": {"S": merchant_id}, "sk": {"S": TOTAL}}).get("Item", {})
    days = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk AND sk BETWEEN :start AND :end",
        ExpressionAttributeValues={
            ":pk": {"S": merchant_id},
            ":start": {"S": day_sk(start)},
            ":end": {"S": day_sk(end)},
        },
    ).get("Items", [])
    by_day = {item["sk"]["S"].removeprefix("STATS#"): _numbers(item) for item in days}
    return _numbers(total), {day: counters for day, counters in by_day.items() if len(day) == 10}
