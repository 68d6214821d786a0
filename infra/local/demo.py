"""`make demo`: half a year of a coffee shop, replayed through the public API on the local clock, so
that the first KPI report a newcomer opens looks like a real shop's.

The shop ("Кофейня «Зерно»", the demo merchant with its documented key) sells for a month without
a program (anonymous sales only: the baseline), then starts one: guests join at the till, come
back at their own pace, buy a little more than non-members, spend points at the till, return a
drink now and then, and some stop coming. Every sale, enrolment, refund and redemption is an HTTP
call at its simulated moment: the clock (``PUT /_local/clock``) is moved hour by hour and each
sale says when it happened (``occurred_at``), so the product's own streams, counters,
notifications and jobs produce the report. Nothing is written behind the API's back except the
merchant itself (its key must be the documented one, which the admin API does not choose).

Everything random is drawn while planning, so a run is the same shop every time; the calls of
one hour go out on a few connections at once (refunds after the hour's sales).
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import requests
from loyalty.clock import utcnow

ZONE = ZoneInfo("Europe/Moscow")
NAMES = ("Анна", "Мария", "Ольга", "Екатерина", "Ирина", "Дмитрий", "Алексей", "Сергей", "Павел", "Никита", "Софья")
DEMO_PHONE = "+79990001122"  # the regular who never stops coming (also the plain `make run` demo member)
PROGRAM_CHANGES: dict[str, Any] = {
    "earn_rate": {"points": 5, "per_roubles": 100},  # 5 % back in points worth a rouble each
    "expiry_months": 3,
    "redemption_cap_percent": 30,
    "bonuses": {"welcome_points": 50},
    "costs": {"monthly_fee_kopecks": 150_000, "sms_kopecks": 350, "push_kopecks": 0, "email_kopecks": 0},
}
# A welcome SMS is worth paying for; an SMS after every coffee is not.
QUIET_KINDS = ("points_earned", "points_redeemed", "refund_applied")
CONNECTIONS = 3


@dataclass(frozen=True)
class DemoSettings:
    seed: int = 2026
    scale: float = 1.0  # fewer (or more) guests, sales and members; the months stay the same
    anonymous_per_day: tuple[float, float] = (6.0, 2.5)  # before the program, and by its end
    members_first_month: int = 18
    members_per_month: int = 8
    churn: tuple[float, float] = (0.15, 0.07)  # a member's chance to stop coming, per month
    anonymous_check: int = 32_000  # kopecks
    member_check: int = 38_500


@dataclass
class Guest:
    name: str
    visits_per_month: float
    member_id: str = ""
    card_number: str = ""
    stopped: bool = False
    spendable: int = 0


@dataclass
class Tally:
    sales: int = 0
    member_sales: int = 0
    joined: int = 0
    refunds: int = 0
    redemptions: int = 0
    stopped: int = 0
    live_purchases: int = 0  # not fully refunded: what the report must come to count


class DemoError(RuntimeError):
    pass


class Api:
    """The public API over HTTP; a throttled or busy answer is retried after what it asks."""

    def __init__(self, base_url: str, key: str) -> None:
        self.base_url = base_url
        self.headers = {"X-Api-Key": key}

    def call(
        self, method: str, path: str, body: Any = None, *, query: dict[str, str] | None = None, refusal_ok: bool = False
    ) -> Any:
        # A connection per call: kept-alive connections to the local server pay ~40 ms of delayed
        # ACKs per request, a new local connection a fraction of a millisecond.
        for _attempt in range(20):
            reply = requests.request(
                method, f"{self.base_url}{path}", json=body, params=query, headers=self.headers, timeout=30
            )
            if reply.status_code not in (429, 503):
                break
            time.sleep(float(reply.headers.get("Retry-After", "0.2")))
        if refusal_ok and reply.status_code in (409, 422):
            return None
        if reply.status_code >= 400:
            raise DemoError(f"{method} {path}: {reply.status_code} {reply.text}")
        return reply.json()

    def at(self, moment: datetime) -> None:
        self.call("PUT", "/_local/clock", {"now": moment.isoformat()})


@dataclass(order=True)
class _Planned:
    at: datetime
    order: int
    action: Callable[[datetime], None] = field(compare=False)
    after_sales: bool = field(default=False, compare=False)  # a refund: after the hour's sales


@dataclass(frozen=True)
class _Sale:
    """A sale as planned: who, the check, whether points pay part of it, whether it comes back."""

    guest: Guest | None
    check: int
    use_points: bool
    refund_after: timedelta | None
    full_refund: bool


class CoffeeShop:
    def __init__(self, api: Api, settings: DemoSettings, start: date, end: datetime) -> None:
        self.api, self.settings = api, settings
        self.rng = random.Random(settings.seed)
        self.start, self.end = start, end
        self.program_starts = _month_after(start)
        self.guests: list[Guest] = []
        self.plan: list[_Planned] = []
        self.sequence = itertools.count()
        self.tally = Tally()
        self.lock = threading.Lock()

    # ---- the timeline ------------------------------------------------------------------------
    def run(self, progress: Callable[[str], None]) -> Tally:
        with ThreadPoolExecutor(CONNECTIONS) as self.pool:
            day = self.start
            while _opening(day) < self.end:
                if day.day == 1 and day > self.start:
                    self.new_month(day, progress)
                self.plan_day(day)
                day += timedelta(days=1)
            self.run_until(self.end)
        progress(self.month_line(self.end.astimezone(ZONE).date()))
        return self.tally

    def new_month(self, day: date, progress: Callable[[str], None]) -> None:
        self.run_until(_opening(day))
        progress(self.month_line(day))
        if day == self.program_starts:
            self.start_program(day)
        else:
            self.api.call("POST", "/_local/jobs/expire", query={"now": _local(day, 3, 0).isoformat()})
            churn = self._share(day, *self.settings.churn)
            for guest in self.guests[1:]:  # the first regular stays, for whoever explores the demo
                if not guest.stopped and self.rng.random() < churn:
                    guest.stopped = True
                    self.tally.stopped += 1
        joining = self.settings.members_first_month if day == self.program_starts else self.settings.members_per_month
        for _ in range(self._scaled(joining)):
            guest = Guest(self.rng.choice(NAMES), self.rng.choice([1.5, 2, 3, 4, 6, 8, 12]))
            sale = self._plan_sale(guest)
            self.later(self._moment(day + timedelta(days=self.rng.randrange(28))), partial(self.join, guest, sale))

    def start_program(self, day: date) -> None:
        self.api.at(_local(day, 8, 0))
        current = self.api.call("GET", "/v1/program")["program"]
        self.api.call("PUT", "/v1/program", {"program": {**current, **PROGRAM_CHANGES}})
        self.api.call(
            "PUT", "/v1/notification-settings", {"settings": {"channels": {kind: [] for kind in QUIET_KINDS}}}
        )

    def plan_day(self, day: date) -> None:
        weight = 0.8 if day.weekday() < 5 else 1.3  # busier at weekends
        mean = self._share(day, *self.settings.anonymous_per_day) * weight * self.settings.scale
        for _ in range(_poisson(self.rng, mean)):
            self.later(self._moment(day), partial(self.sell, self._plan_sale(None)))
        for guest in self.guests:
            if not guest.stopped and self.rng.random() < guest.visits_per_month / 30 * weight:
                self.later(self._moment(day), partial(self.sell, self._plan_sale(guest)))

    def later(self, moment: datetime, action: Callable[[datetime], None], *, after_sales: bool = False) -> None:
        if moment < self.end:
            with self.lock:
                heapq.heappush(self.plan, _Planned(moment, next(self.sequence), action, after_sales))

    def run_until(self, moment: datetime) -> None:
        """Hour by hour: the clock moves to the hour's last moment, its sales go out together
        (each says when it happened), then its refunds."""
        while self.plan and self.plan[0].at < moment:
            hour_ends = min(self.plan[0].at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1), moment)
            due: list[_Planned] = []
            while self.plan and self.plan[0].at < hour_ends:
                due.append(heapq.heappop(self.plan))
            self.api.at(max(planned.at for planned in due))
            for group in ([p for p in due if not p.after_sales], [p for p in due if p.after_sales]):
                list(self.pool.map(lambda planned: planned.action(planned.at), group))

    # ---- what happens at the till ----------------------------------------------------------------
    def join(self, guest: Guest, sale: _Sale, at: datetime) -> None:
        with self.lock:
            number = len(self.guests)
            self.guests.append(guest)
        phone = DEMO_PHONE if number == 0 else f"+7999{number + 2_000_000:07d}"
        member = self.api.call("POST", "/v1/members", {"phone": phone, "name": guest.name})
        guest.member_id, guest.card_number = member["member_id"], member["card_number"]
        with self.lock:
            self.tally.joined += 1
        self.sell(sale, at)  # joining happens at the till, with a purchase

    def sell(self, sale: _Sale, at: datetime) -> None:
        guest = sale.guest
        if guest is not None and not guest.member_id:
            return  # planned before the guest's enrolment went through
        paid = sale.check - (self.redeem(guest, sale.check) if guest and sale.use_points else 0)
        transaction_id = f"till-{next(self.sequence)}"
        body: dict[str, Any] = {
            "transaction_id": transaction_id,
            "amount_kopecks": paid,
            "occurred_at": at.isoformat(),
            "store_id": "zerno-1",
        }
        if guest:
            body["member_id"] = guest.member_id
        result = self.api.call("POST", "/v1/purchases", body)
        with self.lock:
            self.tally.sales += 1
            self.tally.live_purchases += 1
            self.tally.member_sales += guest is not None
        if guest:
            guest.spendable = int(result["spendable"])
        if sale.refund_after is not None:
            amount = paid if sale.full_refund else paid // 3
            refund = partial(self.refund, transaction_id, amount, sale.full_refund)
            self.later(at + sale.refund_after, refund, after_sales=True)

    def redeem(self, guest: Guest, check: int) -> int:
        """Points pay at most 30 % of the check (a member's balance may have expired meanwhile:
        then the till just takes the money)."""
        points = min(guest.spendable, check * 30 // 100 // 100)
        if points < 50:
            return 0
        spent = self.api.call(
            "POST",
            "/v1/redemptions",
            {
                "redemption_id": f"pay-{next(self.sequence)}",
                "member_id": guest.member_id,
                "points": points,
                "amount_kopecks": check,
            },
            refusal_ok=True,
        )
        if spent is None:
            return 0
        with self.lock:
            self.tally.redemptions += 1
        guest.spendable = int(spent["spendable"])
        return int(spent["discount_kopecks"])

    def refund(self, transaction_id: str, amount: int, full: bool, _at: datetime) -> None:
        self.api.call(
            "POST",
            f"/v1/purchases/{transaction_id}/refunds",
            {"refund_id": f"ret-{next(self.sequence)}", "amount_kopecks": amount},
        )
        with self.lock:
            self.tally.refunds += 1
            self.tally.live_purchases -= int(full)

    # ---- planning ----------------------------------------------------------------------------------
    def _plan_sale(self, guest: Guest | None) -> _Sale:
        mean = self.settings.member_check if guest else self.settings.anonymous_check
        check = max(9_000, round(self.rng.gauss(mean, mean * 0.35) / 1_000) * 1_000)
        returned = self.rng.random() < 0.03
        full = self.rng.random() < 0.6
        later = timedelta(minutes=self.rng.randint(5, 90)) if full else timedelta(days=1, hours=2)
        return _Sale(guest, check, self.rng.random() < 0.4, later if returned else None, full)

    def _share(self, day: date, before: float, after: float) -> float:
        """From ``before`` at the program's start to ``after`` by the end, linearly."""
        if day < self.program_starts:
            return before
        span = max((self.end.date() - self.program_starts).days, 1)
        return before + (after - before) * min((day - self.program_starts).days / span, 1.0)

    def _scaled(self, count: int) -> int:
        return max(1, round(count * self.settings.scale))

    def _moment(self, day: date) -> datetime:
        minutes = self.rng.randint(9 * 60 + 5, 21 * 60 + 30)  # open 9:00 to 21:30
        return _local(day, minutes // 60, minutes % 60)

    def month_line(self, day: date) -> str:
        tally = self.tally
        share = tally.member_sales / tally.sales if tally.sales else 0.0
        return (
            f"  up to {day:%Y-%m-%d}: {tally.sales} sales ({share:.0%} by members), {tally.joined} members joined, "
            f"{tally.stopped} stopped coming, {tally.redemptions} paid with points, {tally.refunds} refunds"
        )


def _local(day: date, hour: int, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def _opening(day: date) -> datetime:
    return _local(day, 9, 0)


def _month_after(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _months_back(first_of_month: date, months: int) -> date:
    day = first_of_month
    for _ in range(months):
        day = (day - timedelta(days=1)).replace(day=1)
    return day


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the few dozen sales of a day."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


@dataclass(frozen=True)
class DemoResult:
    first_month: str
    last_month: str
    tally: Tally
    seconds: float
    member_id: str  # the regular who never stops coming (DEMO_PHONE)
    card_number: str


def simulate(
    api_url: str, api_key: str, settings: DemoSettings, seed_merchant: Callable[[], None], log: Callable[[str], None]
) -> DemoResult:
    """Replay the month before the program and the six months since, up to now; ``seed_merchant``
    creates the shop at the first simulated moment."""
    started = time.monotonic()
    api = Api(api_url, api_key)
    now = utcnow().astimezone(ZONE)
    first = _months_back(now.date().replace(day=1), 6)
    api.at(_local(first, 7, 0))
    seed_merchant()
    shop = CoffeeShop(api, settings, first, now.astimezone(UTC) - timedelta(minutes=5))
    log(f"simulating {first:%Y-%m} (before the program) to {now:%Y-%m-%d} through the API ...")
    try:
        tally = shop.run(log)
    finally:
        api.call("DELETE", "/_local/clock")
    log("waiting for the report counters to catch up ...")
    last = f"{now:%Y-%m}"
    _wait_for_counters(api, f"{first:%Y-%m}", last, tally.live_purchases)
    regular = shop.guests[0] if shop.guests else Guest("", 0)
    return DemoResult(f"{first:%Y-%m}", last, tally, time.monotonic() - started, regular.member_id, regular.card_number)


def _wait_for_counters(api: Api, first: str, last: str, purchases: int, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    counted = -1
    while time.monotonic() < deadline:
        report = api.call("GET", "/v1/reports/kpis", query={"from": first, "to": last})
        counted = sum(m["purchases_members"] + m["purchases_anonymous"] for m in report["months"])
        if counted == purchases:
            return
        time.sleep(0.5)
    raise DemoError(f"the report counts {counted} purchases, the demo made {purchases}")


def report_table(api: Api, first: str, last: str) -> str:
    """The report as a newcomer would first read it."""
    months = api.call("GET", "/v1/reports/kpis", query={"from": first, "to": last})["months"]

    def money(kopecks: int | None) -> str:
        return f"{kopecks / 100:,.0f} ₽".replace(",", " ") if kopecks is not None else "-"

    def share(ratio: float | None) -> str:
        return f"{ratio:.0%}" if ratio is not None else "-"

    lines = ["  month    members  active  check: members  others   engaged  retained  ROI"]
    for m in months:
        lines.append(
            f"  {m['month']}  {m['members_total']:>7}  {m['members_active']:>6}  "
            f"{money(m['aov_members_kopecks']):>14}  {money(m['aov_anonymous_kopecks']):>7}  "
            f"{share(m['engagement_rate']):>7}  {share(m['retention_rate']):>8}  {share(m['roi']):>5}"
        )
    return "\n".join(lines)
