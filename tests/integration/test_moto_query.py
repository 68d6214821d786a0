"""The local stack's moto answers a table's Query from its partition (``infra.local.moto_patches``):
the same items in the same order as DynamoDB, with work that does not grow with the rest of the
table. moto alone sorted the whole table for every Query, so that a member's read slowed down with
every member imported."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto.dynamodb.models.dynamo_type import DynamoType

from infra.local.provision import REGION


@pytest.fixture
def table() -> Iterator[str]:
    client = boto3.client("dynamodb", region_name=REGION)
    name = f"query-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
            {"AttributeName": "n", "AttributeType": "N"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    yield name
    client.delete_table(TableName=name)


def put(table: str, pk: str, sk: str, n: int, g: str = "all") -> None:
    item = {"pk": {"S": pk}, "sk": {"S": sk}, "g": {"S": g}, "n": {"N": str(n)}}
    boto3.client("dynamodb", region_name=REGION).put_item(TableName=table, Item=item)


def query(table: str, **kwargs: Any) -> list[str]:
    """Every page's sort keys, in order."""
    client, keys, start = boto3.client("dynamodb", region_name=REGION), [], None
    while True:
        page = client.query(TableName=table, **kwargs, **({"ExclusiveStartKey": start} if start else {}))
        keys += [item["sk"]["S"] if "sk" in item else item["pk"]["S"] for item in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            return keys


def of(pk: str, condition: str = "", **values: str) -> dict[str, Any]:
    return {
        "KeyConditionExpression": "pk = :pk" + (f" AND {condition}" if condition else ""),
        "ExpressionAttributeValues": {":pk": {"S": pk}, **{f":{k}": {"S": v} for k, v in values.items()}},
    }


def test_a_table_query_answers_from_its_partition_in_dynamodb_order(table: str) -> None:
    for pk in ("a", "b", "c"):
        for sk in ("LEDGER#03", "MEMBER", "LEDGER#01", "LEDGER#02", "MEMBER#HISTORY"):
            put(table, pk, sk, 1)
    assert query(table, **of("b")) == ["LEDGER#01", "LEDGER#02", "LEDGER#03", "MEMBER", "MEMBER#HISTORY"]
    assert query(table, **of("b"), ScanIndexForward=False, Limit=2) == [
        "MEMBER#HISTORY",
        "MEMBER",
        "LEDGER#03",
        "LEDGER#02",
        "LEDGER#01",
    ]
    assert query(table, **of("c", "begins_with(sk, :m)", m="MEMBER"), ConsistentRead=True) == [
        "MEMBER",
        "MEMBER#HISTORY",
    ]
    assert query(table, **of("a", "sk BETWEEN :x AND :y", x="LEDGER#02", y="LEDGER#09"), Limit=1) == [
        "LEDGER#02",
        "LEDGER#03",
    ]
    assert query(table, **of("nobody")) == []


def test_an_index_query_still_sees_every_partition_in_index_order(table: str) -> None:
    for n, pk in enumerate(("c", "a", "b")):
        put(table, pk, "MEMBER", 3 - n)
    found = query(
        table,
        IndexName="by_g",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "all"}},
        Limit=2,
    )
    assert found == ["MEMBER", "MEMBER", "MEMBER"]
    pks = [
        item["pk"]["S"]
        for item in boto3.client("dynamodb", region_name=REGION).query(
            TableName=table,
            IndexName="by_g",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "all"}},
        )["Items"]
    ]
    assert pks == ["b", "a", "c"]  # n = 1, 2, 3


@pytest.fixture
def values_read(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[], object]], int]:
    """How many stored values moto reads (``DynamoType.cast_value``) to answer ``ask``."""
    cast_value = DynamoType.cast_value

    def measure(ask: Callable[[], object]) -> int:
        count = 0

        def counted(self: DynamoType) -> Any:
            nonlocal count
            count += 1
            return cast_value.fget(self)  # type: ignore[attr-defined]

        monkeypatch.setattr(DynamoType, "cast_value", property(counted))
        try:
            ask()
        finally:
            monkeypatch.setattr(DynamoType, "cast_value", cast_value)
        return count

    return measure


def test_a_query_costs_the_same_beside_ten_or_five_hundred_other_partitions(
    table: str, values_read: Callable[[Callable[[], object]], int]
) -> None:
    put(table, "member", "MEMBER", 1)
    put(table, "member", "LEDGER#01", 2, g="shop")

    def read_member() -> None:
        assert query(table, **of("member")) == ["LEDGER#01", "MEMBER"]

    def list_shop() -> None:
        found = query(
            table, IndexName="by_g", KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": {"S": "shop"}}
        )
        assert found == ["LEDGER#01"]

    for n in range(10):
        put(table, f"other-{n}", "MEMBER", 1)
    beside_ten = values_read(read_member), values_read(list_shop)
    for n in range(10, 500):
        put(table, f"other-{n}", "MEMBER", 1)
    assert (values_read(read_member), values_read(list_shop)) == beside_ten
