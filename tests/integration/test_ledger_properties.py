"""Property tests of the ledger on moto: random sequences of purchases, refunds, redemptions, holds,
confirms, cancels, expiry runs and replays, with time moving forward. After every step:

- the member's balance equals the sum of their ledger entries;
- the ledger explains every bucket: per expiry date, what was earned minus what spends, refunds and
  expiry took, plus what cancels gave back, is exactly what the member item holds;
- no redemption drives the balance below zero, and a refused one changes nothing;
- spends take the soonest-expiring available points first;
- expiry removes exactly the unspent remainder of every expired lot, once;
- replaying any earlier operation returns the same answer and changes nothing.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from loyalty import runtime
from loyalty.api.members import EnrollRequest
from loyalty.api.purchases import PurchaseRequest, RefundRequest
from loyalty.api.redemptions import RedemptionRequest
from loyalty.config import CoreConfig
from loyalty.data import members
from loyalty.domain.program import Program
from loyalty.domain.wallet import LotKey
from loyalty.errors import Conflict, InsufficientPoints, RuleViolation
from loyalty.services import accrual, enrollment, expiry, merchants, redemption

from infra.local.provision import REGION

pytestmark = pytest.mark.usefixtures("stack")
runtime.bootstrap(CoreConfig.from_env())
_ids = itertools.count()
START = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


def _expiry_of(raw_key: str) -> date | None:
    return LotKey.decode(raw_key).expires_on


class LedgerMachine(RuleBasedStateMachine):
    @initialize(pending_days=st.sampled_from([0, 10]), cap=st.sampled_from([30, 100]))
    def setup(self, pending_days: int, cap: int) -> None:
        self.now = START
        self.cipher = runtime.current().cipher()
        program = Program(pending_days=pending_days, redemption_cap_percent=cap, expiry_months=2)
        self.merchant_id = merchants.create_merchant(f"prop-{next(_ids)}", self.now, program).merchant_id
        member = enrollment.enroll(
            self.merchant_id, EnrollRequest(phone=f"+7916{next(_ids) % 10**7:07d}"), self.now, self.cipher
        )
        self.member_id = member.member_id
        self.done: list[tuple[str, Any, Any]] = []  # (kind, request, result) for replays
        self.purchases: list[tuple[str, int]] = []
        self.holds: list[str] = []

    # ---- helpers -------------------------------------------------------------------------
    def member(self) -> Any:
        return members.get(self.merchant_id, self.member_id)

    def entries(self) -> list[dict[str, Any]]:
        table = boto3.resource("dynamodb", region_name=REGION).Table("ledger")
        key = f"{self.merchant_id}#{self.member_id}"
        items = table.query(KeyConditionExpression=Key("pk").eq(key), ConsistentRead=True)["Items"]
        for item in items:  # JSON attributes are stored as strings
            item["allocation"] = json.loads(item["allocation"]) if item.get("allocation") else {}
        return list(items)

    # ---- operations ----------------------------------------------------------------------
    @rule(amount=st.integers(min_value=1, max_value=500_000))
    def purchase(self, amount: int) -> None:
        request = PurchaseRequest(transaction_id=f"p-{next(_ids)}", member_id=self.member_id, amount_kopecks=amount)
        result, replayed = accrual.accrue(self.merchant_id, request, self.now, self.cipher)
        assert not replayed
        self.purchases.append((request.transaction_id, amount))
        self.done.append(("purchase", request, result))

    @precondition(lambda self: self.purchases)
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        transaction_id, amount = data.draw(st.sampled_from(self.purchases))
        part = data.draw(st.integers(min_value=1, max_value=amount))
        request = RefundRequest(refund_id=f"r-{next(_ids)}", amount_kopecks=part)
        try:
            result, _ = accrual.refund(self.merchant_id, transaction_id, request, self.now)
        except RuleViolation:
            return  # refunding more than was bought is refused
        self.done.append((f"refund:{transaction_id}", request, result))

    @rule(points=st.integers(min_value=1, max_value=60), hold=st.booleans())
    def redeem(self, points: int, hold: bool) -> None:
        before = self.member()
        before_wallet = before.wallet.matured(self.now.date())
        entries_before = len(self.entries())
        request = RedemptionRequest(
            redemption_id=f"d-{next(_ids)}",
            member_id=self.member_id,
            points=points,
            amount_kopecks=10_000_000,
            mode="hold" if hold else "immediate",
        )
        try:
            result, _ = redemption.redeem(self.merchant_id, request, self.now, self.cipher)
        except (InsufficientPoints, RuleViolation):
            assert self.member().wallet.balance == before.wallet.balance
            assert len(self.entries()) == entries_before
            return
        after = self.member()
        assert after.wallet.balance == before.wallet.balance - points
        assert after.wallet.balance >= 0, "a redemption drove the balance below zero"
        self._assert_fifo(before_wallet, result.redemption_id)
        self.done.append(("redeem", request, result))
        if hold:
            self.holds.append(request.redemption_id)

    def _assert_fifo(self, before_wallet: Any, redemption_id: str) -> None:
        entry = next(e for e in self.entries() if e.get("operation") == f"redemption:{redemption_id}")
        taken = {k: int(v) for k, v in entry["allocation"].items()}
        latest = max(_expiry_of(k) or date.max for k in taken)
        today = self.now.date()
        for key, points in before_wallet.lots.items():
            lot = LotKey.decode(key)
            if lot.is_available(today) and not lot.is_expired(today) and (lot.expires_on or date.max) < latest:
                assert taken.get(key, 0) == points, f"spent from {latest} while {key} still had points"

    @precondition(lambda self: self.holds)
    @rule(data=st.data(), confirm=st.booleans())
    def settle_hold(self, data: st.DataObject, confirm: bool) -> None:
        redemption_id = data.draw(st.sampled_from(self.holds))
        try:
            if confirm:
                redemption.confirm(self.merchant_id, redemption_id, self.now)
            else:
                redemption.cancel(self.merchant_id, redemption_id, self.now)
        except Conflict:
            pass  # confirming a cancelled or lapsed hold is refused; that is the point

    @rule(days=st.integers(min_value=1, max_value=45))
    def time_passes(self, days: int) -> None:
        month_before = (self.now.year, self.now.month)
        self.now += timedelta(days=days)
        if (self.now.year, self.now.month) != month_before:
            self.scheduled_jobs()  # in production the schedules run daily; never skip a month end

    @rule()
    def scheduled_jobs(self) -> None:
        today = self.now.date()
        remainder = {
            day: points for day, points in self._remainder_by_expiry().items() if day is not None and day < today
        }
        redemption.release_expired_holds(self.now)
        expired_before = self._expired_total()
        expiry.run_expiry(self.now)
        expired_now = self._expired_total() - expired_before
        # releasing lapsed holds never refills an expired bucket, so expiry takes exactly the remainder
        assert expired_now == sum(remainder.values())
        left = {d: p for d, p in self._remainder_by_expiry().items() if d is not None and d < today and p}
        assert left == {}, f"expired buckets still hold points: {left}"
        expiry.run_expiry(self.now)
        assert self._expired_total() - expired_before == expired_now, "expiry ran twice"

    @precondition(lambda self: self.done)
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        kind, request, result = data.draw(st.sampled_from(self.done))
        entries_before = len(self.entries())
        if kind == "purchase":
            again, replayed = accrual.accrue(self.merchant_id, request, self.now, self.cipher)
        elif kind == "redeem":
            again, replayed = redemption.redeem(self.merchant_id, request, self.now, self.cipher)
        else:
            again, replayed = accrual.refund(self.merchant_id, kind.split(":", 1)[1], request, self.now)
        assert replayed
        assert again == result
        assert len(self.entries()) == entries_before

    # ---- invariants ----------------------------------------------------------------------
    def _expired_total(self) -> int:
        return -sum(int(e["points"]) for e in self.entries() if e["kind"] == "expire")

    def _remainder_by_expiry(self) -> dict[date | None, int]:
        wallet = self.member().wallet
        totals: dict[date | None, int] = defaultdict(int)
        for key, points in wallet.lots.items():
            totals[_expiry_of(key)] += points
        return dict(totals)

    @invariant()
    def balance_is_the_sum_of_the_ledger(self) -> None:
        if not hasattr(self, "member_id"):
            return
        member = self.member()
        assert member.wallet.balance == sum(int(e["points"]) for e in self.entries())
        table = boto3.resource("dynamodb", region_name=REGION).Table("members")
        stored = table.get_item(Key={"pk": f"{self.merchant_id}#{self.member_id}", "sk": "MEMBER"}, ConsistentRead=True)
        assert int(stored["Item"]["balance"]) == member.wallet.balance  # the figure lists and reports read

    @invariant()
    def the_ledger_explains_every_bucket(self) -> None:
        if not hasattr(self, "member_id"):
            return
        explained: dict[date | None, int] = defaultdict(int)
        for entry in self.entries():
            if entry.get("lot_key") and entry.get("lot_points") is not None:
                explained[_expiry_of(entry["lot_key"])] += int(entry["lot_points"])
            sign = 1 if entry["kind"] == "redeem_reversal" else -1
            for key, points in (entry.get("allocation") or {}).items():
                explained[_expiry_of(key)] += sign * int(points)
        held = {day: points for day, points in self._remainder_by_expiry().items() if points}
        assert {day: points for day, points in explained.items() if points} == held


LedgerMachine.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_ledger_properties = LedgerMachine.TestCase
