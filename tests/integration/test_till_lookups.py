"""A member named by card or phone at the till: one read and one write on a warm function
(``services.member_lookup``), and a card or phone that changed meanwhile never reaches the member
who had it."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bench.dynamo_meter import metering
from tests.integration.conftest import new_phone
from tests.support.api import GatewayClient, Reply

PLASTIC = "7700000000000016"
TILL_FLOOR = {"Query": 1, "TransactWriteItems": 1}  # one read: the member with its history item


def enroll(api: GatewayClient, phone: str | None = None) -> dict[str, Any]:
    phone = phone or new_phone()
    reply = api.post("/v1/members", body={"phone": phone})
    assert reply.status == 201, reply.body
    return {**reply.body, "phone": phone}


def buy(api: GatewayClient, transaction_id: str, **who: str) -> Reply:
    return api.post("/v1/purchases", body={"transaction_id": transaction_id, "amount_kopecks": 10_000, **who})


def calls_of(action: Callable[[], Any]) -> dict[str, int]:
    with metering() as meter:
        action()
    return dict(meter.calls)


@pytest.fixture
def till(merchant: dict[str, Any]) -> Any:
    """The use cases as a warm till function calls them (the program already cached)."""
    from loyalty import runtime
    from loyalty.services.merchants import programs

    programs.get(merchant["merchant_id"])
    return runtime.current().cipher()


@pytest.mark.parametrize("named_by", ["card_number", "phone"])
def test_a_warm_till_reads_once_and_writes_once_by_card_or_phone(
    named_by: str, merchant: dict[str, Any], members_api: GatewayClient, till: Any
) -> None:
    from loyalty.api.purchases import PurchaseRequest
    from loyalty.api.redemptions import QuoteRequest, RedemptionRequest
    from loyalty.clock import utcnow
    from loyalty.services import accrual, redemption

    anna = enroll(members_api)
    merchant_id, who, now = merchant["merchant_id"], {named_by: anna[named_by]}, utcnow()

    def accrue(n: int) -> Any:
        request = PurchaseRequest(transaction_id=f"t-{n}", amount_kopecks=100_000, **who)
        return accrual.accrue(merchant_id, request, now, till)

    first = calls_of(lambda: accrue(1))  # the container's first sight of this card or phone
    assert first == {"GetItem": 1, "Query": 1, "TransactWriteItems": 1}
    assert calls_of(lambda: accrue(2)) == TILL_FLOOR
    quote = QuoteRequest(amount_kopecks=10_000, **who)
    assert calls_of(lambda: redemption.quote(merchant_id, quote, now, till)) == {"Query": 1}
    for mode in ("immediate", "hold"):
        spend = RedemptionRequest(redemption_id=f"r-{mode}", points=1, amount_kopecks=10_000, mode=mode, **who)
        assert calls_of(lambda spend=spend: redemption.redeem(merchant_id, spend, now, till)) == TILL_FLOOR


def test_a_replaced_card_never_reaches_its_old_member_on_a_warm_function(
    accrue_api: GatewayClient, members_api: GatewayClient
) -> None:
    anna = enroll(members_api)
    lost = anna["card_number"]
    assert buy(accrue_api, "t-1", card_number=lost).body["member_id"] == anna["member_id"]  # now cached
    replaced = members_api.call(
        "POST",
        "/v1/members/{member_id}/cards/{card_number}/replace",
        path_params={"member_id": anna["member_id"], "card_number": lost},
        body={"new_card_number": PLASTIC, "reason": "утеряна"},
    )
    assert replaced.status == 200, replaced.body
    refused = buy(accrue_api, "t-2", card_number=lost)
    assert (refused.status, refused.body["error"]["code"]) == (404, "member_not_found")
    assert buy(accrue_api, "t-3", card_number=PLASTIC).body["member_id"] == anna["member_id"]
    balance = members_api.get("/v1/members/{member_id}", path_params={"member_id": anna["member_id"]})
    assert balance.body["balance"] == 2  # t-1 and t-3, nothing for the refused t-2


def test_a_phone_that_moved_to_another_member_reaches_the_new_one(
    accrue_api: GatewayClient, members_api: GatewayClient, redeem_api: GatewayClient
) -> None:
    phone = new_phone()
    anna = enroll(members_api, phone)
    assert buy(accrue_api, "t-1", phone=phone).body["member_id"] == anna["member_id"]  # now cached
    quoted = redeem_api.post("/v1/redemptions/quote", body={"phone": phone, "amount_kopecks": 10_000})
    assert quoted.body["member_id"] == anna["member_id"], quoted.body
    moved = members_api.call(
        "PATCH", "/v1/members/{member_id}", path_params={"member_id": anna["member_id"]}, body={"phone": new_phone()}
    )
    assert moved.status == 200, moved.body
    gone = buy(accrue_api, "t-2", phone=phone)
    assert (gone.status, gone.body["error"]["code"]) == (404, "member_not_found")
    boris = enroll(members_api, phone)  # the freed number, now someone else's
    assert buy(accrue_api, "t-3", phone=phone).body["member_id"] == boris["member_id"]
    quoted = redeem_api.post("/v1/redemptions/quote", body={"phone": phone, "amount_kopecks": 10_000})
    assert quoted.body["member_id"] == boris["member_id"]
    balances = [
        members_api.get("/v1/members/{member_id}", path_params={"member_id": m["member_id"]}).body["balance"]
        for m in (anna, boris)
    ]
    assert balances == [1, 1]


def test_purchases_by_phone_racing_a_phone_change_never_reach_the_old_member(
    accrue_api: GatewayClient, members_api: GatewayClient
) -> None:
    phone = new_phone()
    anna = enroll(members_api, phone)
    assert buy(accrue_api, "warm", phone=phone).status == 201  # cached for anna

    def purchase(n: int) -> Reply:
        return buy(accrue_api, f"race-{n}", phone=phone)

    with ThreadPoolExecutor(max_workers=6) as pool:
        racing = [pool.submit(purchase, n) for n in range(12)]
        anna_id = {"member_id": anna["member_id"]}
        moved = members_api.call("PATCH", "/v1/members/{member_id}", path_params=anna_id, body={"phone": new_phone()})
        replies = [future.result() for future in racing]
    assert moved.status == 200, moved.body
    boris = enroll(members_api, phone)
    after = [buy(accrue_api, f"after-{n}", phone=phone) for n in range(3)]
    assert {reply.body["member_id"] for reply in after} == {boris["member_id"]}
    accepted = [reply for reply in replies if reply.status == 201]
    assert {reply.status for reply in replies} <= {201, 404, 503}  # 503: changed twice while in use, retry
    assert {reply.body["member_id"] for reply in accepted} <= {anna["member_id"]}
    anna_now = members_api.get("/v1/members/{member_id}", path_params={"member_id": anna["member_id"]}).body
    assert anna_now["balance"] == 1 + len(accepted)  # each accepted purchase once, the rest nowhere


def test_a_hold_is_confirmed_in_one_write_and_one_read_and_its_queue_place_is_forgotten_later(
    merchant: dict[str, Any], members_api: GatewayClient, accrue_api: GatewayClient, till: Any
) -> None:
    from datetime import timedelta

    from loyalty.api.redemptions import RedemptionRequest
    from loyalty.clock import utcnow
    from loyalty.services import redemption

    anna = enroll(members_api)
    merchant_id, now = merchant["merchant_id"], utcnow()
    assert buy(accrue_api, "t-1", card_number=anna["card_number"]).status == 201
    hold = RedemptionRequest(redemption_id="r-1", card_number=anna["card_number"], points=1, amount_kopecks=10_000)
    held, _ = redemption.redeem(merchant_id, hold.model_copy(update={"mode": "hold"}), now, till)
    assert held.status == "held"
    with metering() as meter:
        confirmed = redemption.confirm(merchant_id, "r-1", now)
    assert dict(meter.calls) == {"UpdateItem": 1, "Query": 1}
    assert (confirmed.status, confirmed.points, confirmed.balance) == ("completed", 1, 0)
    assert redemption.confirm(merchant_id, "r-1", now).status == "completed"  # again: the same answer
    cancelled = redemption.cancel(merchant_id, "r-1", now)  # a confirmed redemption may still be cancelled
    assert (cancelled.status, cancelled.balance) == ("cancelled", 1)
    later = now + timedelta(hours=2)
    assert redemption.release_expired_holds(later) == {"released": 0, "skipped": 1, "complete": 1}
    assert redemption.release_expired_holds(later) == {"released": 0, "skipped": 0, "complete": 1}
