"""The KPI report, field by field, against an independent model of a generated shop: eight months
of enrolments, purchases with and without a member (some backdated across a month's end, some at
night where the UTC month and the shop's month differ), partial and full refunds (some a month
later), redemptions and an erasure. The counters are fed the real batches of moto's DynamoDB
stream, then those batches again: redelivered, bisected, reordered, concurrently. Not one figure
may move."""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.local.provision import Stack
from tests.integration.conftest import configure, new_phone
from tests.support.api import GatewayClient
from tests.support.events import context
from tests.support.kpi_model import Buy, Enroll, Erase, Expected, ModelProgram, Redeem, Refund, Shop
from tests.support.partners import PartnerSender
from tests.support.reporting import Clock, Counting, local, local_clock
from tests.support.streams import batches

MONTHS = [f"2025-{number:02d}" for number in range(1, 9)]  # January (no program yet) to August
PROGRAM = ModelProgram(welcome_points=50, point_value_kopecks=100, monthly_fee_kopecks=99_000)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    with local_clock(monkeypatch) as move:
        yield move


@pytest.fixture
def reports_api(merchant: dict[str, Any]) -> GatewayClient:
    from functions.reports.app import app

    return GatewayClient(app, {"X-Api-Key": merchant["api_key"]})


@dataclass
class Driver:
    """Runs the shop through the handlers at the model's times, and records what succeeded."""

    apis: dict[str, GatewayClient]
    merchant_id: str
    clock: Clock
    shop: Shop = field(default_factory=lambda: Shop(PROGRAM))
    ids: Iterator[int] = field(default_factory=itertools.count)

    def enroll(self, at: datetime) -> str:
        self.clock(at)
        reply = self.apis["members"].post("/v1/members", body={"phone": new_phone()})
        assert reply.status == 201, reply.body
        self.shop.happenings.append(Enroll(reply.body["member_id"], at))
        return str(reply.body["member_id"])

    def buy(self, member: str | None, amount: int, at: datetime, occurred: datetime | None = None) -> str:
        self.clock(at)
        transaction_id = f"till-{next(self.ids)}"
        body: dict[str, Any] = {"transaction_id": transaction_id, "amount_kopecks": amount}
        if member:
            body["member_id"] = member
        if occurred:
            body["occurred_at"] = occurred.isoformat()
        reply = self.apis["accrue"].post("/v1/purchases", body=body)
        assert reply.status == 201, reply.body
        assert reply.body["member_id"] == member
        self.shop.happenings.append(Buy(transaction_id, member, amount, occurred or at, at))
        return transaction_id

    def refund(self, transaction_id: str, amount: int, at: datetime) -> None:
        self.clock(at)
        refund_id = f"r-{next(self.ids)}"
        reply = self.apis["accrue"].post(
            "/v1/purchases/{transaction_id}/refunds",
            path_params={"transaction_id": transaction_id},
            body={"refund_id": refund_id, "amount_kopecks": amount},
        )
        assert reply.status == 201, reply.body
        self.shop.happenings.append(Refund(transaction_id, refund_id, amount, at))

    def redeem(self, member: str, points: int, at: datetime) -> None:
        self.clock(at)
        reply = self.apis["redeem"].post(
            "/v1/redemptions",
            body={
                "redemption_id": f"red-{next(self.ids)}",
                "member_id": member,
                "points": points,
                "amount_kopecks": points * 400,
            },
        )
        assert reply.status == 201, reply.body
        self.shop.happenings.append(Redeem(member, points, at))

    def erase(self, member: str, at: datetime) -> None:
        from loyalty.services import me

        self.clock(at)
        me.erase(self.merchant_id, member, at)
        self.shop.happenings.append(Erase(member, at))


@dataclass(order=True)
class Planned:
    at: datetime
    order: int
    action: Callable[[], None] = field(compare=False)


class Generator:
    """A coffee shop: a month of anonymous sales, then members join, buy, refund, redeem, leave.
    Happenings are planned with their times and run in time order, the clock following."""

    def __init__(self, driver: Driver, rng: random.Random, end: datetime) -> None:
        self.driver, self.rng, self.end = driver, rng, end
        self.plan: list[Planned] = []
        self.sequence = itertools.count()
        self.members: dict[str, int] = {}  # member -> the last month (index) they buy in
        self.erased: set[str] = set()
        self.now = datetime.min.replace(tzinfo=UTC)

    def at(self, moment: datetime, action: Callable[[], None]) -> None:
        if moment < self.end:
            heapq.heappush(self.plan, Planned(moment, next(self.sequence), action))

    def run_until(self, moment: datetime) -> None:
        while self.plan and self.plan[0].at < moment:
            planned = heapq.heappop(self.plan)
            self.now = planned.at
            planned.action()

    def random_time(self, month: str) -> datetime:
        return local(month, self.rng.randint(1, 28), self.rng.randint(0, 23), self.rng.randint(0, 59))

    def month(self, index: int, month: str) -> None:
        for _ in range(25 if index == 0 else 12):
            self.at(self.random_time(month), lambda: self.purchase(None))
        if index == 0:
            return
        for _ in range(5):
            self.at(self.random_time(month), lambda: self.join(index))
        for member, last in list(self.members.items()):
            for _ in range(self.rng.choice([0, 1, 1, 2, 3]) if index <= last else 0):
                self.at(self.random_time(month), lambda m=member: self.purchase(m))  # type: ignore[misc]
        # 00:20 in Moscow on the 1st is still the previous month in UTC; and a purchase sent then
        # but made 40 minutes before belongs to the previous month.
        self.at(local(month, 1, 0, 20), lambda: self.purchase(self.some_member()))
        self.at(local(month, 1, 0, 25), lambda: self.purchase(self.some_member(), backdated=True))
        if index == 5:
            self.at(self.random_time(month), self.erase_someone)

    def join(self, index: int) -> None:
        member = self.driver.enroll(self.now)
        self.members[member] = index + self.rng.randint(0, 5)
        self.at(self.now + timedelta(hours=2), lambda: self.purchase(member))

    def some_member(self) -> str | None:
        live = sorted(set(self.members) - self.erased)
        return self.rng.choice(live) if live else None

    def purchase(self, member: str | None, backdated: bool = False) -> None:
        if member in self.erased:
            return
        amount = self.rng.choice([0, 18_000, 25_000, 32_000, 45_000, 60_000, 99_900, 150_000])
        occurred = self.now - timedelta(minutes=40) if backdated else None
        transaction_id = self.driver.buy(member, amount, self.now, occurred)
        if amount and self.rng.random() < 0.15:
            later = self.now + timedelta(days=self.rng.randint(0, 20), hours=1)
            part = amount if self.rng.random() < 0.5 else self.rng.randint(1, amount - 1)
            self.at(later, lambda: self.driver.refund(transaction_id, part, self.now))
            if part < amount and self.rng.random() < 0.5:
                self.at(later + timedelta(days=3), lambda: self.driver.refund(transaction_id, amount - part, self.now))
        if member and self.rng.random() < 0.3:
            self.at(self.now + timedelta(days=self.rng.randint(1, 10)), lambda: self.spend(member))

    def spend(self, member: str) -> None:
        balance = self.driver.shop.balance(member)
        if member not in self.erased and balance >= 30:
            self.driver.redeem(member, self.rng.randint(10, min(balance, 40)), self.now)

    def erase_someone(self) -> None:
        member = self.some_member()
        if member:
            self.erased.add(member)
            self.driver.erase(member, self.now)


def report(reports_api: GatewayClient, clock: Clock, first: str, last: str) -> dict[str, Any]:
    clock(local("2025-09", 2, 12))
    reply = reports_api.get("/v1/reports/kpis", query={"from": first, "to": last})
    assert reply.status == 200, reply.body
    return dict(reply.body)


def assert_report(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    for got, want in zip(actual["months"], expected["months"], strict=True):
        differing = {name: (got[name], want[name]) for name in want if got[name] != want[name]}
        assert not differing, f"{want['month']}: (report, model) {differing}"
    assert actual == expected


@pytest.fixture
def shop_apis(
    merchant: dict[str, Any],
    members_api: GatewayClient,
    accrue_api: GatewayClient,
    redeem_api: GatewayClient,
    program_api: GatewayClient,
    clock: Clock,
) -> dict[str, GatewayClient]:
    clock(local("2025-01", 1, 0))  # the program's costs apply from the month they are set
    configure(
        program_api,
        bonuses={"welcome_points": PROGRAM.welcome_points},
        expiry_months=None,
        costs={"monthly_fee_kopecks": PROGRAM.monthly_fee_kopecks},
    )
    return {"members": members_api, "accrue": accrue_api, "redeem": redeem_api}


def test_every_kpi_of_eight_generated_months_matches_the_model_and_redelivery_moves_nothing(
    stack: Stack,
    merchant: dict[str, Any],
    shop_apis: dict[str, GatewayClient],
    reports_api: GatewayClient,
    clock: Clock,
) -> None:
    rng = random.Random(12)
    driver = Driver(shop_apis, merchant["merchant_id"], clock)
    generator = Generator(driver, rng, end=local("2025-09", 1, 0))
    counting = Counting(stack)
    for index, month in enumerate(MONTHS):
        generator.month(index, month)
        generator.run_until(local(MONTHS[index + 1], 1, 0) if index + 1 < len(MONTHS) else generator.end)
        counting.count_new(rng)
        if index == 4:  # a retried batch between new ones
            assert counting.deliver(rng.choice(counting.delivered))["counted"] == 0
    assert not generator.plan
    shop = driver.shop
    kinds = {type(h).__name__ for h in shop.happenings}
    assert kinds == {"Enroll", "Buy", "Refund", "Redeem", "Erase"}, kinds
    assert any(isinstance(h, Buy) and h.occurred != h.at for h in shop.happenings)
    expected = Expected(shop).report(MONTHS[0], MONTHS[-1])
    first = report(reports_api, clock, MONTHS[0], MONTHS[-1])
    assert_report(first, expected)
    before_the_program = first["months"][0]
    assert before_the_program["members_total"] == 0 and before_the_program["purchases_anonymous"] > 20

    # Everything again: every batch redelivered in reverse order, then bisected, then all at once.
    delivered = list(counting.delivered)
    assert sum(counting.deliver(batch)["counted"] for batch in reversed(delivered)) == 0
    for batch in delivered:
        half = len(batch) // 2
        assert counting.deliver(batch[half:])["counted"] == 0
        assert counting.deliver(batch[:half] or batch)["counted"] == 0
    everything = [record for batch in delivered for record in batch]
    rng.shuffle(everything)
    with ThreadPoolExecutor(4) as pool:  # concurrent consumers of overlapping batches
        counted = list(pool.map(counting.deliver, batches(everything, [100] * len(everything))))
    assert sum(c["counted"] for c in counted) == 0
    assert report(reports_api, clock, MONTHS[0], MONTHS[-1]) == first


def test_a_fact_delivered_first_in_a_redelivery_is_counted_once_and_the_rest_not_again(
    stack: Stack,
    shop_apis: dict[str, GatewayClient],
    merchant: dict[str, Any],
    clock: Clock,
    reports_api: GatewayClient,
) -> None:
    driver = Driver(shop_apis, merchant["merchant_id"], clock)
    member = driver.enroll(local("2025-03", 3, 10))
    for day in (4, 5, 6):
        driver.buy(member, 50_000, local("2025-03", day, 10))
    counting = Counting(stack)
    records = counting.tap.take()
    assert counting.deliver(records[:2])["counted"] == 2
    assert counting.deliver(records) == {"facts": len(records), "counted": len(records) - 2}  # a bisected retry
    assert counting.deliver(records)["counted"] == 0
    got = report(reports_api, clock, "2025-03", "2025-03")["months"][0]
    assert (got["purchases_members"], got["revenue_members_kopecks"], got["members_active"]) == (3, 150_000, 1)


def test_concurrent_bursts_of_purchases_and_refunds_count_each_member_once(
    stack: Stack,
    shop_apis: dict[str, GatewayClient],
    merchant: dict[str, Any],
    clock: Clock,
    reports_api: GatewayClient,
) -> None:
    driver = Driver(shop_apis, merchant["merchant_id"], clock)
    clock(local("2025-04", 10, 12))
    members = [driver.enroll(local("2025-04", 10, 12)) for _ in range(3)]
    plan = [(members[n % 3] if n % 4 else None, 10_000 * (n + 1)) for n in range(24)]
    with ThreadPoolExecutor(8) as pool:
        transactions = list(pool.map(lambda p: driver.buy(p[0], p[1], local("2025-04", 11, 12)), plan))
    # every purchase of the first member refunded fully, at once, twice each (a replayed refund)
    first = [t for t, (who, _amount) in zip(transactions, plan, strict=True) if who == members[0]]
    amounts = dict(zip(transactions, (amount for _who, amount in plan), strict=True))

    def refund_twice(transaction_id: str) -> None:
        body = {"refund_id": f"full-{transaction_id}", "amount_kopecks": amounts[transaction_id]}
        for _ in range(2):
            reply = shop_apis["accrue"].post(
                "/v1/purchases/{transaction_id}/refunds", path_params={"transaction_id": transaction_id}, body=body
            )
            assert reply.status == 201, reply.body
        refund = Refund(transaction_id, f"full-{transaction_id}", amounts[transaction_id], local("2025-04", 11, 12))
        driver.shop.happenings.append(refund)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(refund_twice, first))
    counting = Counting(stack)
    counting.count_new(random.Random(3))
    got = report(reports_api, clock, "2025-04", "2025-04")["months"][0]
    want = Expected(driver.shop).month("2025-04")
    assert got["members_active"] == 2  # the first member's purchases are all refunded
    assert got["purchases_anonymous"] == 6 and got["purchases_members"] == 12
    assert {k: got[k] for k in want} == want


def test_the_range_defaults_to_the_last_six_months_and_bad_ranges_are_clear_400s(
    reports_api: GatewayClient, clock: Clock
) -> None:
    clock(local("2026-03", 15, 12))
    default = reports_api.get("/v1/reports/kpis")
    assert default.status == 200, default.body
    assert (default.body["from"], default.body["to"]) == ("2025-10", "2026-03")
    assert [m["month"] for m in default.body["months"]] == [
        "2025-10",
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
        "2026-03",
    ]
    assert default.body["months"][0]["aov_members_kopecks"] is None and default.body["months"][0]["roi"] is None
    only_from = reports_api.get("/v1/reports/kpis", query={"from": "2025-01"}).body
    assert (only_from["from"], only_from["to"]) == ("2025-01", "2025-06")
    only_to = reports_api.get("/v1/reports/kpis", query={"to": "2025-12"}).body
    assert (only_to["from"], only_to["to"]) == ("2025-07", "2025-12")
    longest = reports_api.get("/v1/reports/kpis", query={"from": "2024-04", "to": "2026-03"})
    assert longest.status == 200 and len(longest.body["months"]) == 24
    for query, says in (
        ({"from": "2026-02", "to": "2026-01"}, "after"),
        ({"from": "2024-03", "to": "2026-03"}, "24"),
        ({"to": "2026-04"}, "current month"),
        ({"from": "2026-13"}, "from"),
        ({"from": "2026-1"}, "from"),
        ({"to": "march"}, "to"),
    ):
        reply = reports_api.get("/v1/reports/kpis", query=query)
        assert reply.status == 400, (query, reply.body)
        assert says in str(reply.body["error"]), (query, reply.body)


def test_anonymous_purchases_are_idempotent_refundable_and_earn_nothing(
    accrue_api: GatewayClient, member: dict[str, Any]
) -> None:
    body = {"transaction_id": "anon-1", "amount_kopecks": 35_000, "channel": "web"}
    first = accrue_api.post("/v1/purchases", body=body)
    assert first.status == 201, first.body
    assert (first.body["member_id"], first.body["points_earned"], first.body["balance"]) == (None, 0, 0)
    again = accrue_api.post("/v1/purchases", body=body)
    assert again.body == first.body and again.headers.get("Idempotent-Replayed") == "true"
    assert accrue_api.post("/v1/purchases", body={**body, "amount_kopecks": 1}).status == 409
    as_member = {**body, "member_id": member["member_id"]}
    assert accrue_api.post("/v1/purchases", body=as_member).status == 409  # the id is the anonymous sale's
    two = accrue_api.post(
        "/v1/purchases", body={**body, "transaction_id": "x", "member_id": "m", "card_number": "77880000000000"}
    )
    assert two.status == 400 and "at most one" in str(two.body)

    def refund(refund_id: str, amount: int) -> Any:
        return accrue_api.post(
            "/v1/purchases/{transaction_id}/refunds",
            path_params={"transaction_id": "anon-1"},
            body={"refund_id": refund_id, "amount_kopecks": amount},
        )

    part = refund("a", 10_000)
    assert part.status == 201, part.body
    assert (part.body["member_id"], part.body["refunded_kopecks_total"], part.body["points_clawed_back"]) == (
        None,
        10_000,
        0,
    )
    assert refund("a", 10_000).body == part.body  # replayed
    assert refund("a", 5_000).status == 409
    too_much = refund("b", 25_001)
    assert too_much.status == 422 and too_much.body["error"]["code"] == "refund_exceeds_purchase"
    assert refund("b", 25_000).body["refunded_kopecks_total"] == 35_000


def test_quotes_redemptions_and_claims_still_need_exactly_one_member_reference(
    redeem_api: GatewayClient, rewards_api: GatewayClient
) -> None:
    quote = redeem_api.post("/v1/redemptions/quote", body={"amount_kopecks": 20_000})
    redemption = redeem_api.post("/v1/redemptions", body={"redemption_id": "r", "points": 1, "amount_kopecks": 10_000})
    claim = rewards_api.post("/v1/coupons", body={"claim_id": "c", "reward_id": "latte"})
    for reply in (quote, redemption, claim):
        assert reply.status == 400 and "exactly one" in str(reply.body), reply.body


def test_anonymous_partner_purchases_from_the_queue_count_once(
    stack: Stack, merchant: dict[str, Any], reports_api: GatewayClient, clock: Clock, partner: PartnerSender
) -> None:
    import json

    from functions.accrue.app import handle_purchase_events

    clock(local("2025-05", 20, 12))
    message = json.dumps(
        {"merchant_id": merchant["merchant_id"], "transaction_id": "web-7", "amount_kopecks": 77_700, "channel": "web"}
    )
    for _ in range(2):  # delivered twice
        result = handle_purchase_events({"Records": [partner.record(message)]}, context("accrue", 30))
        assert result == {"batchItemFailures": []}
    Counting(stack).count_new(random.Random(1))
    got = report(reports_api, clock, "2025-05", "2025-05")["months"][0]
    assert (got["purchases_anonymous"], got["revenue_anonymous_kopecks"], got["engagement_rate"]) == (1, 77_700, 0.0)
