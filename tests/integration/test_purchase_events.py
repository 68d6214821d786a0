"""The partner queue: the same accrual as HTTP, partial batch failures, reasons in the DLQ."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from infra.local.provision import REGION, Stack
from tests.support.api import GatewayClient
from tests.support.events import context
from tests.support.partners import PartnerSender


def event_body(merchant: dict[str, Any], member: dict[str, Any], transaction_id: str, amount: int) -> str:
    return json.dumps(
        {
            "merchant_id": merchant["merchant_id"],
            "transaction_id": transaction_id,
            "member_id": member["member_id"],
            "amount_kopecks": amount,
            "channel": "partner",
        }
    )


def dlq_messages(stack: Stack) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    return sqs.receive_message(
        QueueUrl=stack.queue_url("PurchaseEventsDLQ"), MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])


def balance(members_api: GatewayClient, member: dict[str, Any]) -> int:
    return int(
        members_api.get("/v1/members/{member_id}", path_params={"member_id": member["member_id"]}).body["balance"]
    )


def test_a_malformed_message_fails_alone_and_lands_in_the_dlq_with_its_reason(
    stack: Stack,
    merchant: dict[str, Any],
    member: dict[str, Any],
    members_api: GatewayClient,
    partner: PartnerSender,
) -> None:
    from functions.accrue.app import handle_purchase_events

    records = [
        partner.record(event_body(merchant, member, "P-1", 100_000)),
        partner.record("{this is not json", message_id="broken"),
        partner.record(event_body(merchant, member, "P-2", 200_000)),
    ]
    response = handle_purchase_events({"Records": records}, context())
    assert response == {"batchItemFailures": []}  # the bad one is parked, not retried forever
    assert balance(members_api, member) == 30
    [dead] = dlq_messages(stack)
    assert dead["Body"] == "{this is not json"
    attributes = dead["MessageAttributes"]
    assert attributes["failure_code"]["StringValue"] == "validation_error"
    assert attributes["failure_kind"]["StringValue"] == "permanent"
    assert attributes["source_message_id"]["StringValue"] == "broken"


def test_redelivered_messages_apply_once(
    merchant: dict[str, Any], member: dict[str, Any], members_api: GatewayClient, partner: PartnerSender
) -> None:
    from functions.accrue.app import handle_purchase_events

    body = event_body(merchant, member, "P-dup", 100_000)
    for _ in range(3):
        assert handle_purchase_events({"Records": [partner.record(body)]}, context()) == {"batchItemFailures": []}
    assert balance(members_api, member) == 10


def test_a_transient_failure_is_retried_then_dead_lettered_with_its_reason(
    stack: Stack,
    merchant: dict[str, Any],
    member: dict[str, Any],
    members_api: GatewayClient,
    monkeypatch: pytest.MonkeyPatch,
    partner: PartnerSender,
) -> None:
    from loyalty.services import accrual

    from functions.accrue import app as accrue_app

    real_accrue = accrual.accrue

    def flaky(merchant_id: str, request: Any, *args: Any) -> Any:
        if request.transaction_id == "P-flaky":
            raise RuntimeError("DynamoDB is having a bad day")
        return real_accrue(merchant_id, request, *args)

    monkeypatch.setattr(accrual, "accrue", flaky)
    good, flaky_body = (
        event_body(merchant, member, "P-ok", 100_000),
        event_body(merchant, member, "P-flaky", 5_000),
    )
    first = accrue_app.handle_purchase_events(
        {"Records": [partner.record(good), partner.record(flaky_body, message_id="m-flaky", receive_count=1)]},
        context(),
    )
    assert first == {"batchItemFailures": [{"itemIdentifier": "m-flaky"}]}
    assert balance(members_api, member) == 10
    assert dlq_messages(stack) == []
    last = accrue_app.handle_purchase_events(
        {"Records": [partner.record(flaky_body, message_id="m-flaky", receive_count=5)]}, context()
    )
    assert last == {"batchItemFailures": []}
    [dead] = dlq_messages(stack)
    assert dead["MessageAttributes"]["failure_kind"]["StringValue"] == "retries_exhausted"
    assert "bad day" in dead["MessageAttributes"]["failure_reason"]["StringValue"]


def test_another_merchant_or_an_unknown_member_is_permanent(
    stack: Stack, merchant: dict[str, Any], member: dict[str, Any], partner: PartnerSender
) -> None:
    from functions.accrue.app import handle_purchase_events

    stranger = {"merchant_id": "mch_unknown", "member_id": member["member_id"]}
    response = handle_purchase_events(
        {
            "Records": [
                partner.record(event_body(stranger, member, "P-x", 1000)),
                partner.record(event_body(merchant, {"member_id": "mbr_missing"}, "P-y", 1000)),
            ]
        },
        context(),
    )
    assert response == {"batchItemFailures": []}
    codes = sorted(m["MessageAttributes"]["failure_code"]["StringValue"] for m in dlq_messages(stack))
    assert codes == ["member_not_found", "partner_merchant_mismatch"]
