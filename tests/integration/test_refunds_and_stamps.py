"""No value invented, none lost: a refund takes back every benefit its purchase no longer
qualifies for; a stamp card pays any purchase size in one coupon; the welcome bonus is paid once
per phone; history is in commit order under concurrency; discount cards honour the tier."""

from __future__ import annotations

import itertools
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from loyalty.clock import utcnow

from tests.integration.conftest import GOLD_PROGRAM, configure, new_phone
from tests.integration.test_purchases import purchase
from tests.integration.test_tiers_and_bonuses import enroll, view
from tests.support.api import GatewayClient
from tests.support.events import context, sqs_record
from tests.support.notifications import ledger_events

COFFEE = {"category": "coffee", "amount_kopecks": 10_000}


def refund(accrue_api: GatewayClient, transaction_id: str, refund_id: str, amount: int) -> dict[str, Any]:
    reply = accrue_api.post(
        "/v1/purchases/{transaction_id}/refunds",
        path_params={"transaction_id": transaction_id},
        body={"refund_id": refund_id, "amount_kopecks": amount},
    )
    assert reply.status == 201, reply.body
    return dict(reply.body)


def deliver_bonus_events(member_id: str, kind: str) -> None:
    """What EventBridge and the bonus queue do with the member's ledger events of ``kind``."""
    from functions.bonuses.app import handle_bonus_events

    for event in ledger_events(member_id):
        if event.type != kind:
            continue
        envelope = json.dumps({"source": "loyalty", "detail-type": kind, "detail": event.model_dump(mode="json")})
        for _ in range(2):  # delivered twice: applied once
            answer = handle_bonus_events({"Records": [sqs_record(envelope)]}, context("bonuses"))
            assert answer == {"batchItemFailures": []}


def test_a_full_refund_takes_back_both_referral_bonuses_and_a_new_purchase_earns_them_again(
    program_api: GatewayClient, members_api: GatewayClient, accrue_api: GatewayClient
) -> None:
    configure(program_api, **GOLD_PROGRAM)  # referrer 200, referred 100, from 500 roubles
    referrer = enroll(members_api)
    invited = enroll(members_api, referral_code=referrer["referral_code"])
    bought = purchase(accrue_api, invited, "REF-1", 60_000).body
    assert bought["balance"] == 50 + 6 + 100
    deliver_bonus_events(invited["member_id"], "referral_qualified")
    assert view(members_api, referrer["member_id"])["balance"] == 50 + 200

    returned = refund(accrue_api, "REF-1", "REF-1-r", 60_000)
    assert returned["benefits_undone"] == ["referral"]
    assert returned["balance"] == 50
    deliver_bonus_events(invited["member_id"], "referral_reversed")
    assert view(members_api, referrer["member_id"])["balance"] == 50

    again = purchase(accrue_api, invited, "REF-2", 60_000).body  # the invitation is open again
    assert again["balance"] == 50 + 6 + 100
    deliver_bonus_events(invited["member_id"], "referral_qualified")
    assert view(members_api, referrer["member_id"])["balance"] == 50 + 200


def test_a_referral_reversed_before_it_was_granted_is_never_granted(
    program_api: GatewayClient, members_api: GatewayClient, accrue_api: GatewayClient
) -> None:
    configure(program_api, **GOLD_PROGRAM)
    referrer = enroll(members_api)
    invited = enroll(members_api, referral_code=referrer["referral_code"])
    purchase(accrue_api, invited, "REV-1", 60_000)
    refund(accrue_api, "REV-1", "REV-1-r", 60_000)
    deliver_bonus_events(invited["member_id"], "referral_reversed")  # the queue delivers out of order
    deliver_bonus_events(invited["member_id"], "referral_qualified")
    assert view(members_api, referrer["member_id"])["balance"] == 50


def test_a_partial_refund_keeps_the_referral_while_the_rest_still_qualifies(
    program_api: GatewayClient, members_api: GatewayClient, accrue_api: GatewayClient
) -> None:
    configure(program_api, **GOLD_PROGRAM)
    referrer = enroll(members_api)
    invited = enroll(members_api, referral_code=referrer["referral_code"])
    purchase(accrue_api, invited, "P-1", 100_000)
    kept = refund(accrue_api, "P-1", "P-1-a", 40_000)  # 600 roubles left: still over 500
    assert kept["benefits_undone"] == []
    gone = refund(accrue_api, "P-1", "P-1-b", 20_000)  # 400 left
    assert gone["benefits_undone"] == ["referral"]


def test_a_refund_takes_back_the_unused_stamp_coupon_it_earned(
    program_api: GatewayClient, members_api: GatewayClient, accrue_api: GatewayClient, rewards_api: GatewayClient
) -> None:
    configure(program_api, **GOLD_PROGRAM)  # coffee: 3 stamps for a free one
    member = enroll(members_api)
    bought = purchase(accrue_api, member, "ST-1", 30_000, lines=[{**COFFEE, "amount_kopecks": 30_000, "quantity": 3}])
    [code] = bought.body["coupons"]
    returned = refund(accrue_api, "ST-1", "ST-1-r", 30_000)
    assert returned["benefits_undone"] == ["stamps:coffee"]
    coupon = rewards_api.get("/v1/coupons/{code}", path_params={"code": code}).body
    assert (coupon["status"], coupon["uses_left"]) == ("revoked", 0)
    used = rewards_api.post("/v1/coupons/{code}/redeem", path_params={"code": code}, body={})
    assert (used.status, used.body["error"]["code"]) == (422, "coupon_revoked")


def test_stamps_of_a_coupon_already_used_are_owed_back_by_the_next_purchases(
    program_api: GatewayClient, members_api: GatewayClient, accrue_api: GatewayClient, rewards_api: GatewayClient
) -> None:
    configure(program_api, **GOLD_PROGRAM)
    member = enroll(members_api)
    bought = purchase(accrue_api, member, "SU-1", 30_000, lines=[{**COFFEE, "amount_kopecks": 30_000, "quantity": 3}])
    [code] = bought.body["coupons"]
    assert rewards_api.post("/v1/coupons/{code}/redeem", path_params={"code": code}, body={}).status == 200
    refund(accrue_api, "SU-1", "SU-1-r", 30_000)
    owed = purchase(accrue_api, member, "SU-2", 30_000, lines=[{**COFFEE, "amount_kopecks": 30_000, "quantity": 3}])
    assert (owed.body["coupons"], owed.body["stamps"]) == ([], {})  # three stamps repaid the free coffee
    paid = purchase(accrue_api, member, "SU-3", 30_000, lines=[{**COFFEE, "amount_kopecks": 30_000, "quantity": 3}])
    assert len(paid.body["coupons"]) == 1


def test_a_refund_below_the_tier_threshold_takes_the_tier_back(
    program_api: GatewayClient, members_api: GatewayClient, accrue_api: GatewayClient
) -> None:
    configure(program_api, **GOLD_PROGRAM)  # silver from 10 000 roubles, gold from 30 000
    member = enroll(members_api)
    assert purchase(accrue_api, member, "G-1", 3_100_000).body["tier"] == "gold"
    kept = refund(accrue_api, "G-1", "G-1-a", 50_000)  # 30 500 roubles left: still gold
    assert (kept["benefits_undone"], view(members_api, member["member_id"])["tier"]) == ([], "gold")
    dropped = refund(accrue_api, "G-1", "G-1-b", 100_000)  # 29 500: silver
    assert dropped["benefits_undone"] == ["tier"]
    assert view(members_api, member["member_id"])["tier"] == "silver"
    emptied = refund(accrue_api, "G-1", "G-1-c", 2_950_000)
    assert emptied["benefits_undone"] == ["tier"]
    assert emptied["balance"] == 50  # every point of the purchase is gone; the welcome stays
    assert view(members_api, member["member_id"])["tier"] == "bronze"  # where the purchase found the member


def test_a_stamp_card_pays_any_purchase_size_in_one_coupon(
    program_api: GatewayClient, members_api: GatewayClient, accrue_api: GatewayClient, rewards_api: GatewayClient
) -> None:
    configure(
        program_api, stamp_cards=[{"id": "coffee", "category": "coffee", "stamps_required": 2, "reward_name": "Кофе"}]
    )
    member = enroll(members_api)
    hundred = purchase(
        accrue_api, member, "BIG-1", 100_000, lines=[{**COFFEE, "amount_kopecks": 100_000, "quantity": 100}]
    )
    assert hundred.status == 201, hundred.body
    [code] = hundred.body["coupons"]
    coupon = rewards_api.get("/v1/coupons/{code}", path_params={"code": code}).body
    assert (coupon["quantity"], coupon["uses_left"]) == (50, 50)

    lines = [{**COFFEE, "amount_kopecks": 100, "quantity": 10_000} for _ in range(500)]
    huge = purchase(accrue_api, member, "BIG-2", 50_000, lines=lines)  # the largest purchase the API takes
    assert huge.status == 201, huge.body
    [huge_code] = huge.body["coupons"]
    assert rewards_api.get("/v1/coupons/{code}", path_params={"code": huge_code}).body["quantity"] == 2_500_000

    use = {"transaction_id": "till-9", "quantity": 3}
    first = rewards_api.post("/v1/coupons/{code}/redeem", path_params={"code": code}, body=use)
    again = rewards_api.post("/v1/coupons/{code}/redeem", path_params={"code": code}, body=use)
    assert (first.status, first.body["uses_left"]) == (200, 47)
    assert again.body == first.body and again.headers.get("Idempotent-Replayed") == "true"
    too_many = rewards_api.post("/v1/coupons/{code}/redeem", path_params={"code": code}, body={"quantity": 48})
    assert (too_many.status, too_many.body["error"]["code"]) == (409, "coupon_used")


def test_the_welcome_bonus_is_paid_once_per_phone_even_after_erasure(
    program_api: GatewayClient, members_api: GatewayClient, merchant: dict[str, Any]
) -> None:
    from loyalty.services import me

    configure(program_api, **GOLD_PROGRAM)
    phone = new_phone()
    first = members_api.post("/v1/members", body={"phone": phone}).body
    assert first["balance"] == 50
    me.erase(merchant["merchant_id"], first["member_id"], utcnow())
    again = members_api.post("/v1/members", body={"phone": phone})
    assert again.status == 201, again.body
    assert again.body["member_id"] != first["member_id"]
    assert again.body["balance"] == 0


def test_history_is_in_commit_order_under_concurrent_purchases(
    members_api: GatewayClient, accrue_api: GatewayClient, member: dict[str, Any]
) -> None:
    def buy(n: int) -> int:
        return purchase(accrue_api, member, f"C-{n}", 10_000 * (n + 1)).status

    with ThreadPoolExecutor(max_workers=10) as pool:
        assert set(pool.map(buy, range(20))) == {201}
    entries: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": "7", **({"cursor": cursor} if cursor else {})}
        page = members_api.get(
            "/v1/members/{member_id}/transactions", path_params={"member_id": member["member_id"]}, query=query
        ).body
        entries += page["entries"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(entries) == 21 and len({e["entry_id"] for e in entries}) == 21  # the enrollment and 20 purchases
    oldest_first = list(reversed(entries))
    for before, after in itertools.pairwise(oldest_first):
        assert after["balance_after"] == before["balance_after"] + after["points"]


def test_a_discount_card_gives_the_tier_discount_when_it_is_higher(
    program_api: GatewayClient, members_api: GatewayClient, accrue_api: GatewayClient, redeem_api: GatewayClient
) -> None:
    tiers = {
        "levels": [
            {"name": "base", "threshold": 0},
            {"name": "gold", "threshold": 100_000, "discount_percent": 12},
        ]
    }
    configure(program_api, mode="discount", discount_percent=7, tiers=tiers)
    member = enroll(members_api)

    def quote() -> dict[str, Any]:
        return dict(
            redeem_api.post(
                "/v1/redemptions/quote", body={"member_id": member["member_id"], "amount_kopecks": 100_000}
            ).body
        )

    assert (quote()["tier_discount_percent"], quote()["tier_discount_kopecks"]) == (7, 7_000)
    purchase(accrue_api, member, "D-1", 100_000)
    assert (quote()["tier_discount_percent"], quote()["tier_discount_kopecks"]) == (12, 12_000)
