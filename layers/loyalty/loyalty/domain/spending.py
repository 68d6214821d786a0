"""Spending a member's points: part of a check (at once, or held until the POS confirms), a
reward's coupon, a gift-card order; and giving points back when a hold is cancelled or lapses or
an order fails."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from loyalty.domain.coupons import Coupon, new_coupon
from loyalty.domain.ledger import EntryKind
from loyalty.domain.member import Draft, Member, MemberChange, ensure_can_transact
from loyalty.domain.program import Mode, Program
from loyalty.domain.wallet import Allocation, lot_for
from loyalty.errors import RuleViolation


def max_points_for_check(program: Program, amount_kopecks: int) -> int:
    """The redemption cap: points may pay at most ``redemption_cap_percent`` of the check."""
    if program.mode is Mode.DISCOUNT:
        return 0
    return amount_kopecks * program.redemption_cap_percent // 100 // program.unit_value_kopecks


def check_redemption(program: Program, points: int, amount_kopecks: int) -> None:
    """The program's rules for spending points on a check (before the member is even read)."""
    if program.mode is Mode.DISCOUNT:
        raise RuleViolation("this program gives a discount, not points to spend", code="redemption_not_available")
    if points < program.min_redemption_points:
        raise RuleViolation(
            f"at least {program.min_redemption_points} points per redemption", code="below_min_redemption"
        )
    cap = max_points_for_check(program, amount_kopecks)
    if points > cap:
        raise RuleViolation(
            f"this check can take at most {cap} points ({program.redemption_cap_percent} %)",
            code="over_redemption_cap",
            details={"max_points": cap},
        )


@dataclass(frozen=True)
class Redeemed:
    change: MemberChange
    allocation: Allocation
    hold_expires_at: datetime | None


def redeem(
    member: Member,
    program: Program,
    *,
    points: int,
    amount_kopecks: int,
    redemption_id: str,
    hold: bool,
    transaction_id: str | None,
    now: datetime,
) -> Redeemed:
    ensure_can_transact(member)
    check_redemption(program, points, amount_kopecks)
    draft = Draft(member, now)
    allocation = draft.debit(
        points,
        EntryKind.REDEEM,
        f"redemption:{redemption_id}",
        details={
            "redemption_id": redemption_id,
            "mode": "hold" if hold else "immediate",
            "amount_kopecks": amount_kopecks,
            "transaction_id": transaction_id,
        },
    )
    draft.update(totals=replace(member.totals, spent=member.totals.spent + points))
    expires_at = now + timedelta(minutes=program.hold_minutes) if hold else None
    return Redeemed(draft.finish(), allocation, expires_at)


def release(
    member: Member, *, redemption_id: str, points: int, allocation: Mapping[str, int], reason: str, now: datetime
) -> MemberChange:
    """Give a redemption's points back to the lots they came from; points of lots that expired
    meanwhile expire now, with their own entry."""
    draft = Draft(member, now)
    operation = f"redemption:{redemption_id}"
    draft.wallet, _returned, expired = draft.wallet.give_back(allocation, draft.today)
    draft.entry(
        EntryKind.REDEEM_REVERSAL,
        points,
        operation,
        allocation=dict(allocation),
        details={"redemption_id": redemption_id, "reason": reason},
    )
    expired_points = sum(expired.values())
    if expired_points:
        draft.entry(
            EntryKind.EXPIRE,
            -expired_points,
            operation,
            allocation=expired,
            details={"reason": "returned_after_expiry"},
        )
    draft.update(totals=replace(member.totals, spent=member.totals.spent - points))
    return draft.finish()


@dataclass(frozen=True)
class RewardOffer:
    reward_id: str
    name: str
    cost_points: int
    coupon_valid_days: int


@dataclass(frozen=True)
class Claimed:
    change: MemberChange
    coupon: Coupon


def claim_reward(member: Member, reward: RewardOffer, *, claim_id: str, now: datetime) -> Claimed:
    """Spend the reward's points for a single-use coupon."""
    ensure_can_transact(member)
    draft = Draft(member, now)
    coupon = new_coupon(
        member.merchant_id,
        member.member_id,
        reward_id=reward.reward_id,
        reward_name=reward.name,
        points=reward.cost_points,
        valid_days=reward.coupon_valid_days,
        now=now,
    )
    draft.issue(coupon)
    draft.debit(
        reward.cost_points,
        EntryKind.REWARD,
        f"claim:{claim_id}",
        details={
            "coupon": coupon.code,
            "reward_id": reward.reward_id,
            "reward_name": reward.name,
            "expires_on": coupon.expires_on.isoformat(),
        },
    )
    draft.update(totals=replace(member.totals, spent=member.totals.spent + reward.cost_points))
    return Claimed(draft.finish(), coupon)


def pay_for_gift_cards(
    member: Member, *, points: int, order_id: str, quantity: int, nominal_kopecks: int | None, now: datetime
) -> MemberChange:
    ensure_can_transact(member)
    draft = Draft(member, now)
    draft.debit(
        points,
        EntryKind.GIFT_CARD,
        f"gift-card-order:{order_id}",
        details={"order_id": order_id, "quantity": quantity, "nominal_kopecks": nominal_kopecks},
    )
    draft.update(totals=replace(member.totals, spent=member.totals.spent + points))
    return draft.finish()


def refund_gift_card_points(
    member: Member, program: Program, *, points: int, order_id: str, now: datetime
) -> MemberChange:
    """A failed or cancelled order's points come back as a new lot (the old ones may be gone)."""
    draft = Draft(member, now)
    draft.credit(
        points,
        lot_for(draft.today, program.expiry_months, 0),
        EntryKind.GIFT_CARD_REFUND,
        f"gift-card-order:{order_id}",
        details={"order_id": order_id},
    )
    draft.update(totals=replace(member.totals, spent=member.totals.spent - points))
    return draft.finish()
