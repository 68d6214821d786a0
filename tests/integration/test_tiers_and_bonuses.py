"""Tiers, paid memberships, welcome/birthday/review/survey/referral bonuses and stamp cards."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key
from loyalty.clock import add_months, utcnow

from infra.local.provision import REGION
from tests.integration.conftest import GOLD_PROGRAM, configure, new_phone
from tests.integration.test_purchases import ledger_sum, purchase
from tests.support.api import GatewayClient
from tests.support.events import context, sqs_record


def ledger(member_id: str) -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb", region_name=REGION).Table("ledger")
    return [i for i in table.scan()["Items"] if i["member_id"] == member_id]


def view(members_api: GatewayClient, member_id: str) -> dict[str, Any]:
    return dict(members_api.get("/v1/members/{member_id}", path_params={"member_id": member_id}).body)


def enroll(members_api: GatewayClient, **extra: Any) -> dict[str, Any]:
    reply = members_api.post("/v1/members", body={"phone": new_phone(), **extra})
    assert reply.status == 201, reply.body
    return dict(reply.body)


def test_welcome_bonus_and_base_tier_at_enrollment(program_api: GatewayClient, members_api: GatewayClient) -> None:
    configure(program_api, **GOLD_PROGRAM)
    member = enroll(members_api)
    assert (member["balance"], member["tier"]) == (50, "bronze")
    assert member["referral_code"] and len(member["referral_code"]) == 6
    [entry] = ledger(member["member_id"])
    assert (entry["kind"], int(entry["points"])) == ("enrolled", 50)


def test_upgrade_at_the_purchase_that_qualifies_and_benefits_from_then_on(
    program_api: GatewayClient, members_api: GatewayClient, accrue_api: GatewayClient, redeem_api: GatewayClient
) -> None:
    configure(program_api, **GOLD_PROGRAM)
    member = enroll(members_api)
    first = purchase(accrue_api, member, "T-1", 900_000).body
    assert (first["tier"], first["points_earned"]) == ("bronze", 90)
    second = purchase(accrue_api, member, "T-2", 200_000).body
    assert second["tier"] == "silver"  # 11 000 RUB in the window
    assert second["points_earned"] == 20  # this purchase still earned at bronze
    third = purchase(accrue_api, member, "T-3", 100_000).body
    assert third["points_earned"] == 15  # x1.5 at silver
    tier_entries = [e for e in ledger(member["member_id"]) if e["kind"] == "tier"]
    assert [json.loads(e["details"]) for e in tier_entries] == [
        {"old_tier": "bronze", "new_tier": "silver", "reason": "qualified"}
    ]
    quote = redeem_api.post(
        "/v1/redemptions/quote", body={"member_id": member["member_id"], "amount_kopecks": 100_000}
    ).body
    assert (quote["tier"], quote["tier_discount_percent"], quote["tier_discount_kopecks"]) == ("silver", 3, 3_000)


def test_review_a_year_later_downgrades_and_grace_delays_it(
    program_api: GatewayClient, members_api: GatewayClient, accrue_api: GatewayClient
) -> None:
    from functions.tiers.app import review

    configure(program_api, **{**GOLD_PROGRAM, "tiers": {**GOLD_PROGRAM["tiers"], "grace_days": 30}})
    member = enroll(members_api)
    assert purchase(accrue_api, member, "G-1", 3_000_000).body["tier"] == "gold"
    job = context("tiers", timeout=900)
    review_day = add_months(utcnow().date(), 12)
    assert review({"time": f"{review_day - timedelta(days=1)}T06:00:00Z"}, job)["changed"] == 0
    assert review({"time": f"{review_day}T06:00:00Z"}, job)["changed"] == 0  # grace starts
    assert view(members_api, member["member_id"])["tier"] == "gold"
    grace_end = review_day + timedelta(days=30)
    assert review({"time": f"{grace_end}T06:00:00Z"}, job)["changed"] == 1
    assert view(members_api, member["member_id"])["tier"] == "bronze"
    assert review({"time": f"{grace_end}T06:00:00Z"}, job)["changed"] == 0


def test_paid_membership_holds_a_tier_until_it_lapses(
    program_api: GatewayClient, members_api: GatewayClient, tiers_api: GatewayClient
) -> None:
    from functions.tiers.app import review

    configure(program_api, **GOLD_PROGRAM)
    member = enroll(members_api)
    body = {"membership_id": "M-1", "tier": "gold", "months": 1, "payment_reference": "pay-123"}
    bought = tiers_api.post(
        "/v1/members/{member_id}/membership", path_params={"member_id": member["member_id"]}, body=body
    )
    assert bought.status == 201, bought.body
    assert bought.body["tier"] == "gold"
    again = tiers_api.post(
        "/v1/members/{member_id}/membership", path_params={"member_id": member["member_id"]}, body=body
    )
    assert again.body == bought.body
    paid_until = date.fromisoformat(bought.body["paid_until"])
    job = context("tiers", timeout=900)
    assert review({"time": f"{paid_until}T12:00:00Z"}, job)["changed"] == 0
    assert review({"time": f"{paid_until + timedelta(days=1)}T06:00:00Z"}, job)["changed"] == 1
    assert view(members_api, member["member_id"])["tier"] == "bronze"
    unknown = tiers_api.post(
        "/v1/members/{member_id}/membership",
        path_params={"member_id": member["member_id"]},
        body={**body, "membership_id": "M-2", "tier": "platinum"},
    )
    assert unknown.status == 400


def test_review_and_survey_bonuses_once_per_external_id(
    program_api: GatewayClient, members_api: GatewayClient, bonuses_api: GatewayClient
) -> None:
    configure(program_api, **GOLD_PROGRAM)
    member = enroll(members_api)
    params = {"member_id": member["member_id"]}
    first = bonuses_api.post(
        "/v1/members/{member_id}/bonus-actions",
        path_params=params,
        body={"type": "review", "external_id": "yandex-maps-991"},
    )
    again = bonuses_api.post(
        "/v1/members/{member_id}/bonus-actions",
        path_params=params,
        body={"type": "review", "external_id": "yandex-maps-991"},
    )
    assert first.status == again.status == 201
    assert again.body == first.body and first.body["points"] == 20
    survey = bonuses_api.post(
        "/v1/members/{member_id}/bonus-actions",
        path_params=params,
        body={"type": "survey", "external_id": "nps-2026-11"},
    )
    assert survey.body["points"] == 10
    assert view(members_api, member["member_id"])["balance"] == 80 == ledger_sum(member["member_id"])


def test_birthday_bonus_once_a_year_without_scanning(program_api: GatewayClient, members_api: GatewayClient) -> None:
    from functions.bonuses.app import birthdays

    configure(program_api, **GOLD_PROGRAM)
    today = utcnow().date()
    member = enroll(members_api, birthday=f"1990-{today:%m-%d}", timezone="Europe/Moscow")
    enroll(members_api, birthday=f"1990-{(today + timedelta(days=40)):%m-%d}")
    job = context("birthdays", timeout=900)
    first = birthdays({"time": f"{today}T06:00:00Z"}, job)
    assert first["celebrated"] == 1
    assert birthdays({"time": f"{today}T07:00:00Z"}, job)["celebrated"] == 0
    assert view(members_api, member["member_id"])["balance"] == 150


def test_referral_rewards_both_on_the_first_qualifying_purchase(
    program_api: GatewayClient, members_api: GatewayClient, accrue_api: GatewayClient
) -> None:
    from loyalty.data.ledger import entries_from_stream
    from loyalty.events import from_ledger_entry

    from functions.bonuses.app import handle_bonus_events
    from tests.support.notifications import as_stream

    configure(program_api, **GOLD_PROGRAM)
    referrer = enroll(members_api)
    invited = enroll(members_api, referral_code=referrer["referral_code"].lower())
    assert members_api.post("/v1/members", body={"phone": new_phone(), "referral_code": "ZZZZZZ"}).status == 422
    small = purchase(accrue_api, invited, "R-1", 40_000).body
    assert small["balance"] == 54  # 50 welcome + 4; below the referral minimum
    qualifying = purchase(accrue_api, invited, "R-2", 60_000).body
    assert qualifying["balance"] == 54 + 6 + 100
    purchase(accrue_api, invited, "R-3", 60_000)  # only the first qualifying purchase counts

    key = f"{invited['member_id']}"
    entries = entries_from_stream(as_stream(_raw_ledger(key)))
    events = [e for entry in entries for e in from_ledger_entry(entry) if e.type == "referral_qualified"]
    assert len(events) == 1
    envelope = json.dumps(
        {"source": "loyalty", "detail-type": "referral_qualified", "detail": events[0].model_dump(mode="json")}
    )
    for _ in range(2):  # delivered twice: rewarded once
        assert handle_bonus_events({"Records": [sqs_record(envelope)]}, context()) == {"batchItemFailures": []}
    assert view(members_api, referrer["member_id"])["balance"] == 50 + 200


def _raw_ledger(member_id: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb", region_name=REGION)
    table = boto3.resource("dynamodb", region_name=REGION).Table("ledger")
    pk = next(i["pk"] for i in table.scan()["Items"] if i["member_id"] == member_id)
    return list(
        client.query(
            TableName="ledger", KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": pk}}
        )["Items"]
    )


def test_stamp_card_fills_and_issues_a_coupon(
    program_api: GatewayClient, members_api: GatewayClient, accrue_api: GatewayClient, rewards_api: GatewayClient
) -> None:
    configure(program_api, **GOLD_PROGRAM)
    member = enroll(members_api)
    coffee = {"category": "coffee", "amount_kopecks": 20_000}
    one = purchase(accrue_api, member, "S-1", 20_000, lines=[{**coffee, "quantity": 1}]).body
    assert (one["stamps"], one["coupons"]) == ({"coffee": 1}, [])
    two = purchase(accrue_api, member, "S-2", 40_000, lines=[{**coffee, "amount_kopecks": 40_000, "quantity": 3}]).body
    assert two["stamps"] == {"coffee": 1}  # 1 + 3 = one full card of 3, one stamp carried over
    [code] = two["coupons"]
    coupon = rewards_api.get("/v1/coupons/{code}", path_params={"code": code}).body
    assert (coupon["reward_name"], coupon["points_spent"], coupon["status"]) == ("Кофе бесплатно", 0, "issued")
    assert rewards_api.post("/v1/coupons/{code}/redeem", path_params={"code": code}, body={}).status == 200


def test_tier_queue_is_an_index_not_a_scan(
    program_api: GatewayClient, members_api: GatewayClient, accrue_api: GatewayClient
) -> None:
    configure(program_api, **GOLD_PROGRAM)
    member = enroll(members_api)
    purchase(accrue_api, member, "Q-1", 3_000_000)
    table = boto3.resource("dynamodb", region_name=REGION).Table("operations")
    review_day = add_months(utcnow().date(), 12).isoformat()
    found = [
        item
        for shard in range(8)
        for item in table.query(KeyConditionExpression=Key("pk").eq(f"TIERQ#{review_day}#{shard:02d}"))["Items"]
    ]
    assert [item["sk"].split("#")[1] for item in found] == [member["member_id"]]
