"""Member care through the members function's handlers on moto: the list and its filters, finding by
email, editing details with the look-ups following, blocking, manual adjustments, and cards."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.conftest import GOLD_PROGRAM, configure, earn, new_phone
from tests.support.api import GatewayClient, Reply

PLASTIC = "7700000000000016"  # a valid Luhn number outside the virtual cards' 7788 prefix
OTHER_PLASTIC = "7700000000000024"


def path(member: dict[str, Any], suffix: str = "") -> dict[str, Any]:
    return {"path_params": {"member_id": member["member_id"]}}


def call(api: GatewayClient, method: str, resource: str, member: dict[str, Any], **kwargs: Any) -> Reply:
    params = {"member_id": member["member_id"], **kwargs.pop("path_params", {})}
    return api.call(method, resource, path_params=params, **kwargs)


def enroll(api: GatewayClient, **body: Any) -> dict[str, Any]:
    reply = api.post("/v1/members", body={"phone": new_phone(), **body})
    assert reply.status == 201, reply.body
    return dict(reply.body)


def found(api: GatewayClient, **query: str) -> list[str]:
    reply = api.get("/v1/members", query=query)
    assert reply.status == 200, reply.body
    return [m["member_id"] for m in reply.body["members"]]


# ---- the list ----------------------------------------------------------------------------------
def listed(api: GatewayClient, **query: str) -> list[str]:
    """Every member the list gives for ``query``, following cursors."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        reply = api.get("/v1/members/list", query={**query, **({"cursor": cursor} if cursor else {})})
        assert reply.status == 200, reply.body
        ids += [m["member_id"] for m in reply.body["members"]]
        cursor = reply.body["next_cursor"]
        if cursor is None:
            return ids


def test_the_list_pages_newest_first_and_filters_by_tier_status_and_last_purchase(
    members_api: GatewayClient, accrue_api: GatewayClient, program_api: GatewayClient
) -> None:
    configure(program_api, tiers=GOLD_PROGRAM["tiers"])
    people = [enroll(members_api, name=f"Гость {n}") for n in range(7)]
    ids = [p["member_id"] for p in people]
    earn(accrue_api, people[1], 400)  # 40 000 roubles: gold
    earn(accrue_api, people[2], 1)
    assert (
        call(members_api, "POST", "/v1/members/{member_id}/block", people[3], body={"reason": "карта утеряна"}).status
        == 200
    )

    assert listed(members_api, limit="3") == ids[::-1]
    page = members_api.get("/v1/members/list", query={"limit": "2"}).body
    assert len(page["members"]) == 2 and page["next_cursor"]
    assert {"balance", "pending", "tier", "cards", "phone", "name"} <= set(page["members"][0])
    assert listed(members_api, tier="gold") == [ids[1]]
    assert listed(members_api, status="blocked") == [ids[3]]
    assert set(listed(members_api, status="active", limit="2")) == set(ids) - {ids[3]}
    today = datetime.now(UTC).date()
    assert set(listed(members_api, last_purchase_from=today.isoformat())) == {ids[1], ids[2]}
    assert listed(members_api, last_purchase_from=today.isoformat(), tier="gold") == [ids[1]]
    assert listed(members_api, last_purchase_to=(today - timedelta(days=1)).isoformat()) == []
    assert set(listed(members_api, enrolled_from=today.isoformat(), enrolled_to=today.isoformat())) == set(ids)
    assert listed(members_api, enrolled_to=(today - timedelta(days=1)).isoformat()) == []
    assert members_api.get("/v1/members/list", query={"cursor": "garbage!"}).status == 400
    assert members_api.get("/v1/members/list", query={"limit": "1000"}).status == 400


def test_another_merchants_list_holds_none_of_these_members(members_api: GatewayClient, admin: GatewayClient) -> None:
    from functions.members.app import app
    from tests.integration.conftest import create_merchant

    enroll(members_api)
    other = GatewayClient(app, {"X-Api-Key": create_merchant(admin, "Другой")["api_key"]})
    assert listed(other) == []


# ---- finding and editing -----------------------------------------------------------------------
def test_a_member_is_found_by_email_and_edits_move_every_look_up(members_api: GatewayClient) -> None:
    anna = enroll(members_api, name="Анна", email="Anna@Example.ru", birthday="1990-05-17")
    assert found(members_api, email="anna@example.ru") == [anna["member_id"]]
    new = new_phone()
    edited = call(
        members_api,
        "PATCH",
        "/v1/members/{member_id}",
        anna,
        body={"name": "Анна Петрова", "phone": new, "email": "anna.p@example.ru", "birthday": "1990-06-17"},
    )
    assert edited.status == 200, edited.body
    assert (edited.body["name"], edited.body["birthday"], edited.body["email"]) == (
        "Анна Петрова",
        "1990-06-17",
        "a***@example.ru",
    )
    assert found(members_api, phone=new) == [anna["member_id"]]
    assert found(members_api, email="anna.p@example.ru") == [anna["member_id"]]
    assert found(members_api, email="anna@example.ru") == []
    cleared = call(members_api, "PATCH", "/v1/members/{member_id}", anna, body={"email": None, "name": None})
    assert (cleared.body["email"], cleared.body["name"]) == (None, None)
    assert found(members_api, email="anna.p@example.ru") == []
    history = call(members_api, "GET", "/v1/members/{member_id}/transactions", anna).body["entries"]
    assert [e["kind"] for e in history[:2]] == ["profile", "profile"]


def test_a_phone_or_email_of_another_member_is_a_409(members_api: GatewayClient) -> None:
    anna = enroll(members_api, email="anna@example.ru")
    boris = enroll(members_api, email="boris@example.ru")
    taken_phone = call(members_api, "PATCH", "/v1/members/{member_id}", boris, body={"phone": anna["phone"]})
    assert taken_phone.status == 400  # a masked phone is not a phone
    anna_phone = members_api.get("/v1/members/{member_id}", path_params={"member_id": anna["member_id"]})
    assert anna_phone.status == 200
    phone = new_phone()
    assert call(members_api, "PATCH", "/v1/members/{member_id}", anna, body={"phone": phone}).status == 200
    refused = call(members_api, "PATCH", "/v1/members/{member_id}", boris, body={"phone": phone})
    assert (refused.status, refused.body["error"]["code"]) == (409, "phone_in_use")
    refused = call(members_api, "PATCH", "/v1/members/{member_id}", boris, body={"email": "ANNA@example.ru"})
    assert (refused.status, refused.body["error"]["code"]) == (409, "email_in_use")
    assert enroll_refused(members_api, email="anna@example.ru") == "email_in_use"
    assert found(members_api, email="boris@example.ru") == [boris["member_id"]]
    assert call(members_api, "PATCH", "/v1/members/{member_id}", boris, body={"phone": None}).status == 400


def enroll_refused(api: GatewayClient, **body: Any) -> str:
    reply = api.post("/v1/members", body={"phone": new_phone(), **body})
    assert reply.status == 409, reply.body
    return str(reply.body["error"]["code"])


def test_two_members_racing_for_one_phone_one_wins(members_api: GatewayClient) -> None:
    racers = [enroll(members_api) for _ in range(6)]
    phone = new_phone()
    with ThreadPoolExecutor(6) as pool:
        replies = list(
            pool.map(lambda m: call(members_api, "PATCH", "/v1/members/{member_id}", m, body={"phone": phone}), racers)
        )
    assert sorted(r.status for r in replies) == [200] + [409] * 5
    [winner] = [r.body["member_id"] for r in replies if r.status == 200]
    assert found(members_api, phone=phone) == [winner]


def test_the_shop_corrects_a_birthday_the_member_can_no_longer_change(members_api: GatewayClient) -> None:
    anna = enroll(members_api, birthday="1990-05-17")
    same = call(members_api, "PATCH", "/v1/members/{member_id}", anna, body={"birthday": "1990-05-17"})
    assert same.status == 200
    history = call(members_api, "GET", "/v1/members/{member_id}/transactions", anna).body["entries"]
    assert [e["kind"] for e in history] == ["enrolled"]  # nothing changed, nothing written
    fixed = call(members_api, "PATCH", "/v1/members/{member_id}", anna, body={"birthday": "1991-05-17"})
    assert fixed.body["birthday"] == "1991-05-17"


def test_the_member_page_has_everything_the_back_office_shows(
    members_api: GatewayClient, accrue_api: GatewayClient, program_api: GatewayClient
) -> None:
    configure(program_api, tiers=GOLD_PROGRAM["tiers"])
    anna = enroll(members_api, name="Анна")
    earn(accrue_api, anna, 50)
    page = call(members_api, "GET", "/v1/members/{member_id}", anna).body
    assert page["balance"] == 50 and page["pending"] == 0
    assert page["tier"] == "bronze" and page["next_tier"]["name"] == "silver"
    assert page["totals"] == {"earned": 50, "spent": 0, "purchases": 1, "spend_kopecks": 500_000}
    assert page["consents"]["sms"] is True
    assert page["coupons"] == [] and page["cards"] == [anna["card_number"]]


# ---- blocking ----------------------------------------------------------------------------------
def test_a_blocked_member_neither_earns_nor_spends_and_the_till_is_told_why(
    members_api: GatewayClient, accrue_api: GatewayClient, redeem_api: GatewayClient
) -> None:
    anna = enroll(members_api)
    earn(accrue_api, anna, 100)
    blocked = call(
        members_api, "POST", "/v1/members/{member_id}/block", anna, body={"reason": "подозрение на мошенничество"}
    )
    assert (blocked.status, blocked.body["status"], blocked.body["block_reason"]) == (
        200,
        "blocked",
        "подозрение на мошенничество",
    )
    purchase = accrue_api.post(
        "/v1/purchases", body={"transaction_id": "b-1", "card_number": anna["card_number"], "amount_kopecks": 100_000}
    )
    assert (purchase.status, purchase.body["error"]["code"]) == (422, "member_blocked")
    assert "blocked" in purchase.body["error"]["message"]
    spend = redeem_api.post(
        "/v1/redemptions",
        body={"redemption_id": "r-1", "member_id": anna["member_id"], "points": 10, "amount_kopecks": 10_000},
    )
    assert (spend.status, spend.body["error"]["code"]) == (422, "member_blocked")
    assert found(members_api, card=anna["card_number"]) == [anna["member_id"]]  # the shop still finds them
    again = call(members_api, "POST", "/v1/members/{member_id}/block", anna, body={"reason": "x"})
    assert again.body["block_reason"] == "подозрение на мошенничество"  # blocked already: unchanged
    assert call(members_api, "POST", "/v1/members/{member_id}/unblock", anna).body["status"] == "active"
    earn(accrue_api, anna, 5)


# ---- manual adjustments ------------------------------------------------------------------------
def adjust(api: GatewayClient, member: dict[str, Any], **body: Any) -> Reply:
    return call(api, "POST", "/v1/members/{member_id}/adjustments", member, body=body)


def test_an_adjustment_is_a_ledger_entry_with_its_reason_applied_once(
    members_api: GatewayClient, accrue_api: GatewayClient
) -> None:
    anna = enroll(members_api)
    earn(accrue_api, anna, 30)
    added = adjust(members_api, anna, adjustment_id="adj-1", points=70, reason="компенсация")
    assert (added.status, added.body["balance"]) == (201, 100)
    replay = adjust(members_api, anna, adjustment_id="adj-1", points=70, reason="компенсация")
    assert (replay.status, replay.body, replay.headers.get("Idempotent-Replayed")) == (201, added.body, "true")
    other = adjust(members_api, anna, adjustment_id="adj-1", points=71, reason="компенсация")
    assert (other.status, other.body["error"]["code"]) == (409, "idempotency_conflict")
    taken = adjust(members_api, anna, adjustment_id="adj-2", points=-40, reason="ошибка кассира")
    assert taken.body["balance"] == 60
    too_much = adjust(members_api, anna, adjustment_id="adj-3", points=-61, reason="ошибка")
    assert (too_much.status, too_much.body["error"]["code"]) == (409, "insufficient_points")
    entries = call(members_api, "GET", "/v1/members/{member_id}/transactions", anna).body["entries"]
    assert [(e["kind"], e["points"]) for e in entries[:2]] == [("adjustment", -40), ("adjustment", 70)]
    assert (
        sum(e["points"] for e in entries) == call(members_api, "GET", "/v1/members/{member_id}", anna).body["balance"]
    )
    assert entries[0]["details"]["reason"] == "ошибка кассира"


def test_a_blocked_member_may_still_be_corrected_by_the_shop(members_api: GatewayClient) -> None:
    anna = enroll(members_api)
    call(members_api, "POST", "/v1/members/{member_id}/block", anna, body={"reason": "проверка"})
    assert adjust(members_api, anna, adjustment_id="a", points=5, reason="r").body["balance"] == 5


# ---- cards ---------------------------------------------------------------------------------------
def test_a_plastic_card_is_linked_beside_the_virtual_one(members_api: GatewayClient) -> None:
    anna, boris = enroll(members_api), enroll(members_api)
    linked = call(members_api, "POST", "/v1/members/{member_id}/cards", anna, body={"card_number": PLASTIC})
    assert linked.body["cards"] == [anna["card_number"], PLASTIC]
    assert found(members_api, card=PLASTIC) == found(members_api, card=anna["card_number"]) == [anna["member_id"]]
    again = call(members_api, "POST", "/v1/members/{member_id}/cards", anna, body={"card_number": PLASTIC})
    assert again.status == 200
    taken = call(members_api, "POST", "/v1/members/{member_id}/cards", boris, body={"card_number": PLASTIC})
    assert (taken.status, taken.body["error"]["code"]) == (409, "card_in_use")
    bad = call(members_api, "POST", "/v1/members/{member_id}/cards", boris, body={"card_number": "7700000000000012"})
    assert bad.status == 400


def test_a_card_reserved_by_a_card_order_can_be_linked_to_an_existing_member(
    members_api: GatewayClient, merchant: dict[str, Any]
) -> None:
    from loyalty.data import members
    from loyalty.data.transaction import Transaction

    tx = Transaction()
    members.stage_card_reservations(tx, merchant["merchant_id"], [PLASTIC], "order-1")
    tx.commit()
    assert found(members_api, card=PLASTIC) == []
    anna = enroll(members_api)
    assert call(members_api, "POST", "/v1/members/{member_id}/cards", anna, body={"card_number": PLASTIC}).status == 200
    assert found(members_api, card=PLASTIC) == [anna["member_id"]]


def test_a_lost_card_stops_working_at_once_and_its_replacement_takes_its_place(
    members_api: GatewayClient, accrue_api: GatewayClient
) -> None:
    anna, boris = enroll(members_api), enroll(members_api)
    lost = anna["card_number"]
    replaced = call(
        members_api,
        "POST",
        "/v1/members/{member_id}/cards/{card_number}/replace",
        anna,
        path_params={"card_number": lost},
        body={"new_card_number": PLASTIC, "reason": "утеряна"},
    )
    assert replaced.status == 200, replaced.body
    assert (replaced.body["card_number"], replaced.body["blocked_cards"]) == (PLASTIC, [lost])
    assert found(members_api, card=lost) == []
    refused = accrue_api.post(
        "/v1/purchases", body={"transaction_id": "t-lost", "card_number": lost, "amount_kopecks": 10_000}
    )
    assert refused.status == 404
    assert found(members_api, card=PLASTIC) == [anna["member_id"]]
    relink = call(members_api, "POST", "/v1/members/{member_id}/cards", boris, body={"card_number": lost})
    assert (relink.status, relink.body["error"]["code"]) == (409, "card_in_use")
    own = call(members_api, "POST", "/v1/members/{member_id}/cards", anna, body={"card_number": lost})
    assert (own.status, own.body["error"]["code"]) == (422, "card_blocked")
    virtual = call(
        members_api,
        "POST",
        "/v1/members/{member_id}/cards/{card_number}/replace",
        anna,
        path_params={"card_number": PLASTIC},
        body={},
    )
    assert virtual.body["card_number"].startswith("7788") and found(members_api, card=PLASTIC) == []


def test_blocking_a_card_stops_it_but_a_members_last_card_is_replaced_not_blocked(members_api: GatewayClient) -> None:
    anna = enroll(members_api)
    virtual = anna["card_number"]
    only = call(
        members_api,
        "POST",
        "/v1/members/{member_id}/cards/{card_number}/block",
        anna,
        path_params={"card_number": virtual},
        body={},
    )
    assert (only.status, only.body["error"]["code"]) == (422, "last_card")
    call(members_api, "POST", "/v1/members/{member_id}/cards", anna, body={"card_number": OTHER_PLASTIC})
    blocked = call(
        members_api,
        "POST",
        "/v1/members/{member_id}/cards/{card_number}/block",
        anna,
        path_params={"card_number": virtual},
        body={"reason": "украдена"},
    )
    assert (blocked.body["card_number"], blocked.body["cards"]) == (OTHER_PLASTIC, [OTHER_PLASTIC])
    assert found(members_api, card=virtual) == []
    unknown = call(
        members_api,
        "POST",
        "/v1/members/{member_id}/cards/{card_number}/block",
        anna,
        path_params={"card_number": PLASTIC},
        body={},
    )
    assert (unknown.status, unknown.body["error"]["code"]) == (404, "card_not_found")


@pytest.mark.parametrize("route", ["/v1/members/{member_id}/block", "/v1/members/{member_id}/adjustments"])
def test_care_routes_answer_404_for_an_unknown_member(members_api: GatewayClient, route: str) -> None:
    body = {"reason": "x"} if route.endswith("block") else {"adjustment_id": "a", "points": 1, "reason": "x"}
    reply = members_api.post(route, path_params={"member_id": "mbr_unknown"}, body=body)
    assert (reply.status, reply.body["error"]["code"]) == (404, "member_not_found")
