"""A purchase costs the same write units whatever the member's age (issue 15, goal 4): the member
item keeps its newest month of activity, the months before live in the member's history item, read
with it in one Query and written only when those months change; expired and spent lots leave the
item. Readers still see every month they need: the tier window at the till and at the review, the
member app's figures, the KPI visit of a refund of an old purchase."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from bench.dynamo_meter import item_size, metering

MEMBER_ITEM_BOUND = 1024  # bytes: one write unit (two in a transaction), for a member with a phone
PER_MONTH = 2
AMOUNT = 87_500  # kopecks


def _program() -> Any:
    from loyalty.domain.program import Program, TierLevel, Tiers

    return Program(
        expiry_months=12,
        tiers=Tiers(
            window_months=12,
            levels=[TierLevel(name="bronze", threshold=0), TierLevel(name="silver", threshold=1_000_000)],
        ),
    )


def _raw(merchant_id: str, member_id: str) -> dict[str, dict[str, Any]]:
    import boto3

    found = boto3.client("dynamodb").query(
        TableName="members",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :member)",
        ExpressionAttributeValues={":pk": {"S": f"{merchant_id}#{member_id}"}, ":member": {"S": "MEMBER"}},
        ConsistentRead=True,
    )
    return {item["sk"]["S"]: item for item in found["Items"]}


@pytest.fixture
def shop(admin: Any) -> dict[str, Any]:  # the admin function's app binds the tables at its import
    from loyalty import runtime
    from loyalty.clock import utcnow
    from loyalty.services import merchants

    now = utcnow().replace(day=20, hour=12, minute=0, second=0, microsecond=0)
    merchant = merchants.create_merchant("Coffee", now - timedelta(days=800), _program())
    return {"merchant_id": merchant.merchant_id, "now": now, "cipher": runtime.current().cipher()}


def _buy(shop: dict[str, Any], member_id: str, transaction_id: str, at: datetime) -> None:
    from loyalty.api.purchases import PurchaseRequest
    from loyalty.services import accrual

    request = PurchaseRequest(transaction_id=transaction_id, member_id=member_id, amount_kopecks=AMOUNT)
    accrual.accrue(shop["merchant_id"], request, at, shop["cipher"])


def _member_for(shop: dict[str, Any], phone: str, months: int) -> tuple[str, list[datetime]]:
    """A member who joined ``months`` ago and bought twice a month since, with the month-end
    expiry and tier-review jobs run as the schedule runs them."""
    from loyalty.api.members import EnrollRequest
    from loyalty.clock import add_months, end_of_month
    from loyalty.services import enrollment, expiry, tiers

    now = shop["now"]
    joined = datetime.combine(add_months(now.date(), -months).replace(day=1), now.timetz())
    member_id = enrollment.enroll(shop["merchant_id"], EnrollRequest(phone=phone), joined, shop["cipher"]).member_id
    bought: list[datetime] = []
    for month in range(months + 1):
        first = add_months(joined.date(), month)
        for n in range(PER_MONTH):
            at = datetime.combine(first + timedelta(days=3 + 7 * n), now.timetz())
            if at < now - timedelta(hours=1):
                _buy(shop, member_id, f"{phone[1:]}-{len(bought)}", at)
                bought.append(at)
        month_end = datetime.combine(end_of_month(first) + timedelta(days=1), now.timetz())
        if month_end < now:
            expiry.run_expiry(month_end)
            tiers.run_tier_review(month_end)
    return member_id, bought


def _write_units(shop: dict[str, Any], member_id: str, transaction_id: str, at: datetime) -> float:
    with metering() as meter:
        _buy(shop, member_id, transaction_id, at)
    assert dict(meter.calls) == {"Query": 1, "TransactWriteItems": 1}
    return float(meter.write_units)


def test_a_member_with_two_years_of_purchases_costs_what_a_new_member_costs(shop: dict[str, Any]) -> None:
    from loyalty.data import members
    from loyalty.domain.membership import qualifying_total
    from loyalty.domain.tiers import window_months
    from loyalty.services.members import next_tier

    now = shop["now"]
    newcomer, _ = _member_for(shop, "+79160000001", 0)  # joined this month: one purchase so far
    veteran, bought = _member_for(shop, "+79160000002", 24)

    new_units = _write_units(shop, newcomer, "new-measured", now)
    old_units = _write_units(shop, veteran, "old-measured", now)
    assert old_units == new_units == 6  # member, ledger entry, purchase record: 1 KB each, doubled

    raw = _raw(shop["merchant_id"], veteran)
    assert item_size(raw["MEMBER"]) <= MEMBER_ITEM_BOUND
    assert len(raw["MEMBER"]["lots"]["M"]) <= 13  # a bucket a month of validity: expired ones left
    assert set(raw["MEMBER"]["spend_by_month"]["M"]) == {now.strftime("%Y-%m")}

    # The readers: every month is there, the tier window counts history, the member app sees it.
    member = members.get(shop["merchant_id"], veteran)
    bought.append(now)
    months = {at.strftime("%Y-%m") for at in bought}
    assert set(member.activity.spend_by_month) == months
    assert set(member.activity.purchases_by_month) == months
    window = set(window_months(now.date(), 12))
    expected = sum(AMOUNT for at in bought if at.strftime("%Y-%m") in window)
    tiers = _program().tiers
    assert tiers is not None
    assert AMOUNT * (PER_MONTH + 1) < 1_000_000 < expected  # this month alone would not reach silver
    assert qualifying_total(member, tiers, now.date()) == expected
    assert member.tier.tier == "silver"  # reached at a purchase and kept by the reviews: history counted
    view = next_tier(members.get(shop["merchant_id"], newcomer), _program(), now)
    assert view is not None and view.remaining == 1_000_000 - (PER_MONTH + 1) * AMOUNT


def test_the_history_item_is_written_when_a_month_closes_and_by_a_refund_of_an_old_purchase(
    shop: dict[str, Any],
) -> None:
    from loyalty.api.purchases import RefundRequest
    from loyalty.clock import add_months
    from loyalty.data import members
    from loyalty.services import accrual

    now = shop["now"]
    member_id, bought = _member_for(shop, "+79160000003", 3)
    history = _raw(shop["merchant_id"], member_id)["MEMBER#HISTORY"]
    last_month = add_months(now.date(), -1).strftime("%Y-%m")
    assert last_month in history["purchases_by_month"]["M"]  # closed when this month's first purchase came

    with metering() as meter:
        _buy(shop, member_id, "same-month", now)
    assert meter.calls["TransactWriteItems"] == 1
    assert meter.write_units == 6  # this month again: the history is not rewritten

    # Both purchases of a month three months ago refunded: that month's visit is taken back.
    old_month = bought[0].strftime("%Y-%m")
    for n in range(PER_MONTH):
        refund = RefundRequest(refund_id=f"r-{n}", amount_kopecks=AMOUNT)
        accrual.refund(shop["merchant_id"], f"79160000003-{n}", refund, now)
    member = members.get(shop["merchant_id"], member_id)
    assert old_month not in member.activity.purchases_by_month
    assert old_month not in _raw(shop["merchant_id"], member_id)["MEMBER#HISTORY"]["purchases_by_month"]["M"]
    assert last_month in member.activity.purchases_by_month


def test_a_member_item_written_before_history_items_moves_its_old_months_out_at_its_next_change(
    shop: dict[str, Any],
) -> None:
    import boto3
    from loyalty.data import members

    now = shop["now"]
    member_id, bought = _member_for(shop, "+79160000004", 2)
    raw = _raw(shop["merchant_id"], member_id)
    legacy = dict(raw["MEMBER"])  # as the member item was kept before: every month on it
    for series in ("spend_by_month", "earned_by_month", "purchases_by_month"):
        legacy[series] = {"M": {**raw["MEMBER#HISTORY"][series]["M"], **raw["MEMBER"][series]["M"]}}
    dynamodb = boto3.client("dynamodb")
    dynamodb.put_item(TableName="members", Item=legacy)
    dynamodb.delete_item(TableName="members", Key={"pk": legacy["pk"], "sk": {"S": "MEMBER#HISTORY"}})
    months = {at.strftime("%Y-%m") for at in bought}
    assert set(members.get(shop["merchant_id"], member_id).activity.spend_by_month) == months

    _buy(shop, member_id, "after-upgrade", now + timedelta(hours=1))  # the same month: no month closes
    raw = _raw(shop["merchant_id"], member_id)
    this_month = now.strftime("%Y-%m")
    assert set(raw["MEMBER#HISTORY"]["spend_by_month"]["M"]) == months - {this_month}
    assert set(raw["MEMBER"]["spend_by_month"]["M"]) == {this_month}
    assert set(members.get(shop["merchant_id"], member_id).activity.spend_by_month) == months
