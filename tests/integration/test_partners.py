"""The partner queue is bound to its senders: a message credits only the merchant whose partner key
signed it; unsigned, forged, revoked or misdirected messages are dead-lettered with their reason."""

from __future__ import annotations

import json
from typing import Any

import boto3

from infra.local.provision import REGION, Stack
from tests.integration.conftest import create_merchant
from tests.support.api import GatewayClient
from tests.support.events import context, sqs_record
from tests.support.partners import PartnerSender


def body(member: dict[str, Any], transaction_id: str, **extra: Any) -> str:
    return json.dumps(
        {"transaction_id": transaction_id, "member_id": member["member_id"], "amount_kopecks": 100_000, **extra}
    )


def dead_letters(stack: Stack) -> dict[str, dict[str, str]]:
    """Dead-lettered messages by their source message id: failure code and the partner that sent it."""
    sqs = boto3.client("sqs", region_name=REGION)
    messages = sqs.receive_message(
        QueueUrl=stack.queue_url("PurchaseEventsDLQ"), MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])
    return {
        m["MessageAttributes"]["source_message_id"]["StringValue"]: {
            name: value["StringValue"] for name, value in m["MessageAttributes"].items()
        }
        for m in messages
    }


def balance(members_api: GatewayClient, member: dict[str, Any]) -> int:
    reply = members_api.get("/v1/members/{member_id}", path_params={"member_id": member["member_id"]})
    return int(reply.body["balance"])


def test_a_signed_message_credits_the_merchant_that_issued_the_key(
    partner: PartnerSender, member: dict[str, Any], members_api: GatewayClient, stack: Stack
) -> None:
    from functions.accrue.app import handle_purchase_events

    records = [partner.record(body(member, "web-1")), partner.record(body(member, "web-2"))]
    assert handle_purchase_events({"Records": records}, context()) == {"batchItemFailures": []}
    assert balance(members_api, member) == 20
    assert dead_letters(stack) == {}


def test_what_the_merchant_did_not_sign_is_dead_lettered_with_its_reason(
    admin: GatewayClient,
    partner: PartnerSender,
    keys_api: GatewayClient,
    member: dict[str, Any],
    merchant: dict[str, Any],
    members_api: GatewayClient,
    stack: Stack,
) -> None:
    from functions.accrue.app import handle_purchase_events
    from functions.keys.app import app as keys_app

    other = create_merchant(admin, "Чужой магазин")
    issued = GatewayClient(keys_app, {"X-Api-Key": other["api_key"]}).post("/v1/partners", body={"name": "x"}).body
    outsider = PartnerSender(issued["partner_id"], issued["signing_secret"])
    forged = PartnerSender(partner.partner_id, "ps_not-the-secret")
    stranger = PartnerSender("ptn_unknown", "ps_whatever")
    plain = body(member, "p-0")
    records = [
        sqs_record(plain, message_id="unsigned"),
        forged.record(body(member, "p-1"), message_id="forged"),
        stranger.record(body(member, "p-2"), message_id="unknown"),
        # another merchant's partner naming this merchant, or not naming it (then it credits the
        # other merchant, where this member does not exist)
        outsider.record(body(member, "p-3", merchant_id=merchant["merchant_id"]), message_id="misdirected"),
        outsider.record(body(member, "p-4"), message_id="foreign"),
        # the body changed after signing
        {**partner.record(plain), "messageId": "tampered", "body": body(member, "p-0", amount_kopecks=9_999_999)},
    ]
    assert handle_purchase_events({"Records": records}, context()) == {"batchItemFailures": []}
    assert balance(members_api, member) == 0
    dead = dead_letters(stack)
    assert {source: reasons["failure_code"] for source, reasons in dead.items()} == {
        "unsigned": "partner_signature_missing",
        "forged": "partner_signature_invalid",
        "unknown": "partner_unknown",
        "misdirected": "partner_merchant_mismatch",
        "foreign": "member_not_found",
        "tampered": "partner_signature_invalid",
    }
    assert all(reasons["failure_kind"] == "permanent" for reasons in dead.values())
    assert dead["forged"]["partner_key"] == partner.partner_id  # which partner to call about it


def test_a_revoked_partner_is_refused_from_its_next_message(
    partner: PartnerSender, keys_api: GatewayClient, member: dict[str, Any], stack: Stack
) -> None:
    from functions.accrue.app import handle_purchase_events

    listed = keys_api.get("/v1/partners").body["partners"]
    assert [(p["partner_id"], p["status"]) for p in listed] == [(partner.partner_id, "active")]
    assert "signing_secret" not in listed[0]
    revoked = keys_api.post("/v1/partners/{partner_id}/revoke", path_params={"partner_id": partner.partner_id})
    assert revoked.status == 200 and revoked.body["status"] == "revoked"
    handle_purchase_events({"Records": [partner.record(body(member, "late"), message_id="late")]}, context())
    assert dead_letters(stack)["late"]["failure_code"] == "partner_revoked"


def test_a_merchant_cannot_revoke_another_merchants_partner(admin: GatewayClient, partner: PartnerSender) -> None:
    from functions.keys.app import app

    other = create_merchant(admin, "Другая")
    reply = GatewayClient(app, {"X-Api-Key": other["api_key"]}).post(
        "/v1/partners/{partner_id}/revoke", path_params={"partner_id": partner.partner_id}
    )
    assert reply.status == 404
