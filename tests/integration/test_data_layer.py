"""The data layer's contracts: a refused transaction names the condition that failed whatever
the order of its items; 'busy' is one retryable answer over HTTP and in the queues."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from loyalty import runtime
from loyalty.config import CoreConfig
from loyalty.data.credentials import KeySecretItem
from loyalty.data.transaction import AlreadyExists, Stale, Transaction
from loyalty.errors import Busy

from infra.local.provision import Stack
from tests.support.api import GatewayClient
from tests.support.events import context
from tests.support.partners import PartnerSender

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
runtime.bootstrap(CoreConfig.from_env())  # binds the table names, as a function's cold start does


def key_item(name: str) -> KeySecretItem:
    return KeySecretItem(f"APIKEY#{name}", "APIKEY", merchant_id="mch_x", key_id=name, scope="full")


@pytest.mark.parametrize("existing_first", [True, False])
def test_a_refused_create_is_named_whatever_its_place_in_the_transaction(stack: Stack, existing_first: bool) -> None:
    taken = key_item("taken")
    taken.save()
    tx = Transaction()
    writes = [("taken", taken), ("fresh-1", key_item("fresh-1")), ("fresh-2", key_item("fresh-2"))]
    for name, item in writes if existing_first else list(reversed(writes)):
        tx.create(item, name=name)
    with pytest.raises(AlreadyExists) as refused:
        tx.commit()
    assert refused.value.what == "taken"
    assert KeySecretItem.count("APIKEY#fresh-1") == 0  # nothing of a refused transaction is written


def test_a_condition_on_an_existing_item_is_named_stale(stack: Stack) -> None:
    item = key_item("k")
    item.save()
    tx = Transaction()
    tx.create(key_item("other"), name="other")
    tx.put(key_item("k"), condition=KeySecretItem.key_id == "not-its-id", name="the key")
    with pytest.raises(Stale) as refused:
        tx.commit()
    assert refused.value.what == "the key"


def test_a_single_item_is_written_without_a_transaction_and_refused_by_name(stack: Stack) -> None:
    key_item("one").save()
    tx = Transaction()
    tx.create(key_item("one"), name="api key")
    with pytest.raises(AlreadyExists) as refused:
        tx.commit()
    assert refused.value.what == "api key"


def test_more_than_dynamodb_takes_in_one_transaction_is_refused_before_sending(stack: Stack) -> None:
    tx = Transaction()
    for n in range(101):
        tx.create(key_item(f"many-{n}"), name=f"key {n}")
    with pytest.raises(ValueError, match="at most 100"):
        tx.commit()


def test_a_conditional_write_needs_a_name(stack: Stack) -> None:
    with pytest.raises(ValueError, match="needs a name"):
        Transaction().put(key_item("x"), condition=KeySecretItem.key_id == "x")


def test_busy_is_a_503_with_retry_after(
    accrue_api: GatewayClient, member: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyalty.services import accrual

    def busy(*args: Any, **kwargs: Any) -> Any:
        raise Busy("the member is being changed by many requests at once; retry")

    monkeypatch.setattr(accrual, "apply_change", busy)
    reply = accrue_api.post(
        "/v1/purchases", body={"transaction_id": "b-1", "member_id": member["member_id"], "amount_kopecks": 1000}
    )
    assert reply.status == 503
    assert reply.body["error"]["code"] == "busy"
    assert reply.headers["Retry-After"] == "1"


def test_the_queues_retry_busy_instead_of_dead_lettering_it(
    merchant: dict[str, Any],
    member: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    stack: Stack,
    partner: PartnerSender,
) -> None:
    from loyalty.services import accrual

    from functions.accrue.app import handle_purchase_events

    def busy(*args: Any, **kwargs: Any) -> Any:
        raise Busy("busy")

    monkeypatch.setattr(accrual, "apply_change", busy)
    body = json.dumps(
        {
            "merchant_id": merchant["merchant_id"],
            "transaction_id": "q-1",
            "member_id": member["member_id"],
            "amount_kopecks": 1000,
        }
    )
    answer = handle_purchase_events({"Records": [partner.record(body, message_id="m-1")]}, context("accrue"))
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}  # back to the queue, not the DLQ
    sqs = __import__("boto3").client("sqs", region_name="eu-central-1")
    dlq = sqs.get_queue_url(QueueName="purchase-events-dlq")["QueueUrl"]
    assert sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0).get("Messages") is None
