"""Lots, FIFO spending, expiry, pending points, refunds into debt (pure, no AWS)."""

from __future__ import annotations

from datetime import date

import pytest
from loyalty.domain.wallet import LotKey, Wallet, lot_for
from loyalty.errors import InsufficientPoints

TODAY = date(2026, 11, 25)


def test_lots_expire_at_the_end_of_the_month_n_months_later() -> None:
    assert lot_for(date(2026, 1, 31), 1, 0) == LotKey(date(2026, 2, 28))
    assert lot_for(TODAY, 12, 14) == LotKey(date(2027, 11, 30), date(2026, 12, 9))
    assert lot_for(TODAY, None, 0) == LotKey(None)
    assert LotKey.decode(LotKey(date(2027, 11, 30), date(2026, 12, 9)).encode()) == LotKey(
        date(2027, 11, 30), date(2026, 12, 9)
    )


def test_spending_takes_the_soonest_expiring_points_first() -> None:
    wallet = Wallet()
    wallet, _ = wallet.earn(LotKey(date(2027, 3, 31)), 50)
    wallet, _ = wallet.earn(LotKey(date(2027, 1, 31)), 30)
    wallet, _ = wallet.earn(LotKey(None), 10)
    after, allocation = wallet.spend(60, TODAY)
    assert allocation == {"2027-01-31|": 30, "2027-03-31|": 30}
    assert after.balance == 30


def test_pending_points_cannot_be_spent_until_the_return_window_ends() -> None:
    wallet, _ = Wallet().earn(LotKey(date(2027, 11, 30), date(2026, 12, 9)), 40)
    assert (wallet.spendable(TODAY), wallet.pending(TODAY), wallet.balance) == (0, 40, 40)
    with pytest.raises(InsufficientPoints):
        wallet.spend(1, TODAY)
    later = date(2026, 12, 9)
    assert wallet.spendable(later) == 40
    assert wallet.matured(later).lots == {"2027-11-30|": 40}


def test_expiry_removes_exactly_the_unspent_remainder() -> None:
    wallet, _ = Wallet().earn(LotKey(date(2026, 12, 31)), 100)
    wallet, _ = wallet.earn(LotKey(date(2027, 1, 31)), 20)
    wallet, _ = wallet.spend(70, TODAY)
    assert wallet.expire(date(2026, 12, 31)) == (wallet, {})  # not yet: the lot is valid through its last day
    after, expired = wallet.expire(date(2027, 1, 1))
    assert expired == {"2026-12-31|": 30}
    assert after.balance == 20
    assert after.expire(date(2027, 1, 1))[1] == {}  # once


def test_clawback_prefers_the_purchase_lot_then_goes_into_debt_and_new_points_repay_it() -> None:
    own, other = LotKey(date(2027, 11, 30)), LotKey(date(2027, 10, 31))
    wallet, _ = Wallet().earn(own, 10)
    wallet, _ = wallet.earn(other, 5)
    wallet, allocation, debt = wallet.claw_back(8, own, TODAY)
    assert (allocation, debt, wallet.balance) == ({own.encode(): 8}, 0, 7)
    wallet, _ = wallet.spend(7, TODAY)
    wallet, allocation, debt = wallet.claw_back(2, own, TODAY)
    assert (allocation, debt, wallet.balance) == ({}, 2, -2)
    wallet, kept = wallet.earn(own, 5)
    assert (kept, wallet.debt, wallet.balance) == (3, 0, 3)


def test_give_back_returns_points_to_their_lots_but_expired_ones_expire() -> None:
    wallet, _ = Wallet().earn(LotKey(date(2026, 11, 30)), 10)
    wallet, _ = wallet.earn(LotKey(date(2027, 5, 31)), 10)
    wallet, allocation = wallet.spend(15, TODAY)
    returned_wallet, returned, expired = wallet.give_back(allocation, date(2026, 12, 2))
    assert (returned, expired) == (5, {"2026-11-30|": 10})
    assert returned_wallet.balance == 10


def test_spending_more_than_available_changes_nothing() -> None:
    wallet, _ = Wallet().earn(LotKey(None), 5)
    with pytest.raises(InsufficientPoints) as raised:
        wallet.spend(6, TODAY)
    assert raised.value.details == {"requested": 6, "available": 5}
    assert wallet.balance == 5
