"""Purchases and refunds of a member: everything a purchase changes, and everything a refund
must undo.

A purchase earns points and may also qualify a referral (both members' bonuses), fill stamp cards
(coupons) and lift the member to a higher tier. The purchase remembers these benefits
(``PurchaseRecord``); a refund takes back the points of the refunded part and undoes each benefit
the purchase no longer qualifies for: the referral bonuses when what is left of the purchase falls
below the program's minimum, the stamps of the refunded part (revoking an unused coupon of a card
they filled; stamps of a coupon already used are owed back by later purchases), and the tier it
lifted the member to when the qualifying total no longer reaches it. Nothing waits for the return
window: benefits are given at once and taken back at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from loyalty.domain.coupons import STAMP_REWARD_PREFIX, Coupon, CouponStatus, new_coupon
from loyalty.domain.earning import Earning, Line, Purchase, compute_earning, refund_clawback
from loyalty.domain.ledger import EntryKind
from loyalty.domain.member import Draft, Member, MemberChange
from loyalty.domain.membership import qualifying_total, set_tier, tier_benefit, upgrade_if_qualified, with_activity
from loyalty.domain.program import Program, StampCard
from loyalty.domain.stamps import add_stamps, stamps_in
from loyalty.domain.tiers import TierChange, TierState, entitled_tier
from loyalty.domain.wallet import LotKey, lot_for
from loyalty.errors import NotFound

# Coupons a single change issues; more full cards in one purchase are owed and issued right after
# (``issue_owed_coupons``), so that one write stays far below DynamoDB's 100 items.
MAX_COUPONS_PER_CHANGE = 10


# ---- what a purchase remembers ---------------------------------------------------------------
@dataclass(frozen=True)
class ReferralBenefit:
    points: int
    referrer_id: str
    min_purchase_kopecks: int
    reversed: bool = False


@dataclass(frozen=True)
class StampBenefit:
    stamps_required: int
    stamps: int  # added by the purchase
    coupons: tuple[str, ...] = ()  # codes issued for cards it filled
    owed: int = 0  # cards it filled that were not issued in its own change
    stamps_taken_back: int = 0
    coupons_revoked: tuple[str, ...] = ()
    owed_cancelled: int = 0


@dataclass(frozen=True)
class TierBenefitRecord:
    before: TierState
    to: str
    reversed: bool = False


@dataclass(frozen=True)
class PurchaseRecord:
    """What a refund needs to know about its purchase (kept with the purchase's operation)."""

    member_id: str
    transaction_id: str
    amount_kopecks: int
    points: int
    occurred_on: date
    earned_on: date
    lot_key: str | None = None
    refunded_kopecks: int = 0
    refunded_points: int = 0
    referral: ReferralBenefit | None = None
    stamps: Mapping[str, StampBenefit] = field(default_factory=dict)
    tier: TierBenefitRecord | None = None

    @property
    def coupon_codes(self) -> list[str]:
        return [code for benefit in self.stamps.values() for code in benefit.coupons]

    def to_state(self) -> dict[str, Any]:
        return _encode(self)

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> PurchaseRecord:
        return _decode(state)


# ---- a purchase --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Earned:
    change: MemberChange
    earning: Earning
    lot: LotKey | None
    record: PurchaseRecord
    coupons: tuple[str, ...]
    tier_change: TierChange | None


def earn(
    member: Member,
    program: Program,
    purchase: Purchase,
    *,
    transaction_id: str,
    program_version: int,
    now: datetime,
    store_id: str | None = None,
    channel: str | None = None,
) -> Earned:
    _ensure_active(member)
    draft = Draft(member, now)
    operation = f"purchase:{transaction_id}"
    earning = compute_earning(program, purchase, tier_benefit(member, program))
    lot = lot_for(draft.today, program.expiry_months, program.pending_days)
    last = member.totals.last_purchase_at
    occurred = purchase.occurred_at
    earned_entry = draft.credit(
        earning.points,
        lot,
        EntryKind.EARN,
        operation,
        details={
            "transaction_id": transaction_id,
            "amount_kopecks": purchase.amount_kopecks,
            "eligible_kopecks": earning.eligible_kopecks,
            "occurred_at": occurred.isoformat(),
            "breakdown": [{"rule": award.rule, "points": award.points} for award in earning.breakdown],
            "program_version": program_version,
            "first_in_month": last is None or (last.year, last.month) != (occurred.year, occurred.month),
            "store_id": store_id,
            "channel": channel,
        },
    )
    totals = member.totals
    draft.update(
        totals=replace(
            totals,
            earned=totals.earned + earning.points,
            purchases=totals.purchases + 1,
            spend_kopecks=totals.spend_kopecks + purchase.amount_kopecks,
            last_purchase_at=max(occurred, last or occurred),
        ),
        activity=with_activity(
            member.activity,
            spend_on=occurred.date(),
            spend=purchase.amount_kopecks,
            earned_on=draft.today,
            earned=earning.points,
        ),
    )
    referral = _qualify_referral(draft, program, purchase.amount_kopecks, transaction_id)
    stamps = _fill_stamp_cards(draft, program, purchase.effective_lines() if purchase.lines else (), operation)
    owed = sum(benefit.owed for benefit in stamps.values())
    if owed:  # the bonus worker issues them right after (through the ledger's stream)
        draft.annotate(earned_entry, stamp_rewards_owed=owed)
    tier_before = draft.member.tier
    tier_change = upgrade_if_qualified(draft, program, operation)
    record = PurchaseRecord(
        member_id=member.member_id,
        transaction_id=transaction_id,
        amount_kopecks=purchase.amount_kopecks,
        points=earning.points,
        occurred_on=occurred.date(),
        earned_on=draft.today,
        lot_key=lot.encode() if earning.points else None,
        referral=referral,
        stamps=stamps,
        tier=TierBenefitRecord(tier_before, tier_change.new) if tier_change else None,
    )
    codes = tuple(code for benefit in stamps.values() for code in benefit.coupons)
    return Earned(draft.finish(), earning, lot if earning.points else None, record, codes, tier_change)


def _ensure_active(member: Member) -> None:
    if not member.is_active:
        raise NotFound("member not found", code="member_not_found")


def _bonus_lot(program: Program, today: date) -> LotKey:
    """Bonuses expire like purchases but have no return window."""
    return lot_for(today, program.expiry_months, 0)


def _qualify_referral(
    draft: Draft, program: Program, amount_kopecks: int, transaction_id: str
) -> ReferralBenefit | None:
    referral, bonuses = draft.member.referral, program.bonuses
    if referral.referred_by is None or referral.done or amount_kopecks < bonuses.referral_min_purchase_kopecks:
        return None
    if not (bonuses.referred_points or bonuses.referrer_points):
        return None
    draft.update(referral=replace(referral, done=True))
    # The entry also tells the bonus worker (through the ledger stream) to reward the referrer.
    draft.credit(
        bonuses.referred_points,
        _bonus_lot(program, draft.today),
        EntryKind.BONUS,
        f"purchase:{transaction_id}",
        details={
            "bonus": "referral",
            "role": "referred",
            "referrer_id": referral.referred_by,
            "transaction_id": transaction_id,
        },
    )
    draft.update(totals=replace(draft.member.totals, earned=draft.member.totals.earned + bonuses.referred_points))
    return ReferralBenefit(bonuses.referred_points, referral.referred_by, bonuses.referral_min_purchase_kopecks)


def _fill_stamp_cards(
    draft: Draft, program: Program, lines: tuple[Line, ...], operation: str
) -> dict[str, StampBenefit]:
    if not program.stamp_cards or not lines:
        return {}
    updated, completed = add_stamps(program.stamp_cards, draft.member.stamps, lines)
    added = {card.id: stamps_in(card, lines) for card in program.stamp_cards}
    draft.update(stamps=updated)
    benefits: dict[str, StampBenefit] = {}
    room = MAX_COUPONS_PER_CHANGE
    owed = dict(draft.member.stamp_rewards_owed)
    for done in completed:
        now_count = min(done.coupons, room)
        room -= now_count
        codes = tuple(_issue_stamp_coupon(draft, done.card, operation) for _ in range(now_count))
        later = done.coupons - now_count
        if later:
            owed[done.card.id] = owed.get(done.card.id, 0) + later
        benefits[done.card.id] = StampBenefit(done.card.stamps_required, added[done.card.id], codes, later)
    for card in program.stamp_cards:
        if added[card.id] and card.id not in benefits:
            benefits[card.id] = StampBenefit(card.stamps_required, added[card.id])
    if owed != draft.member.stamp_rewards_owed:
        draft.update(stamp_rewards_owed=owed)
    return benefits


def _issue_stamp_coupon(draft: Draft, card: StampCard, operation: str) -> str:
    coupon = new_coupon(
        draft.member.merchant_id,
        draft.member.member_id,
        reward_id=f"{STAMP_REWARD_PREFIX}{card.id}",
        reward_name=card.reward_name,
        points=0,
        valid_days=card.coupon_valid_days,
        now=draft.now,
    )
    draft.issue(coupon)
    draft.entry(
        EntryKind.COUPON,
        0,
        operation,
        details={
            "coupon": coupon.code,
            "reward_id": coupon.reward_id,
            "reward_name": coupon.reward_name,
            "expires_on": coupon.expires_on.isoformat(),
        },
    )
    return coupon.code


@dataclass(frozen=True)
class OwedCouponsIssued:
    change: MemberChange | None  # None: nothing was owed
    codes: tuple[str, ...]
    still_owed: int


def issue_owed_coupons(member: Member, program: Program, now: datetime) -> OwedCouponsIssued:
    """Issue up to MAX_COUPONS_PER_CHANGE of the stamp-card coupons a large purchase earned but
    could not issue in its own change. Called until nothing is owed."""
    owed = {card: count for card, count in member.stamp_rewards_owed.items() if count > 0}
    cards = {card.id: card for card in program.stamp_cards}
    if not owed:
        return OwedCouponsIssued(None, (), 0)
    draft = Draft(member, now)
    room, codes = MAX_COUPONS_PER_CHANGE, []
    remaining = dict(owed)
    for card_id, count in owed.items():
        card = cards.get(card_id)
        if card is None:
            remaining.pop(card_id)  # the card was removed from the program: nothing left to issue
            continue
        issue = min(count, room)
        codes += [_issue_stamp_coupon(draft, card, "stamp-rewards") for _ in range(issue)]
        room -= issue
        remaining[card_id] = count - issue
    draft.update(stamp_rewards_owed={card: count for card, count in remaining.items() if count > 0})
    return OwedCouponsIssued(draft.finish(), tuple(codes), sum(remaining.values()))


# ---- a refund ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Refunded:
    change: MemberChange
    record: PurchaseRecord
    points: int
    debt_added: int
    undone: tuple[str, ...]  # which benefits the refund took back: referral, stamps:<card>, tier


def refund(
    member: Member,
    program: Program,
    record: PurchaseRecord,
    *,
    refund_id: str,
    amount_kopecks: int,
    coupons: Mapping[str, Coupon],
    now: datetime,
) -> Refunded:
    """Take back the refunded part's points and every benefit the purchase no longer qualifies
    for. ``coupons`` are the purchase's stamp-card coupons as they are now (used ones stay)."""
    draft = Draft(member, now)
    points = refund_clawback(record.points, record.amount_kopecks, record.refunded_kopecks, amount_kopecks)
    preferred = LotKey.decode(record.lot_key) if record.lot_key else None
    debt = draft.claw_back(
        points,
        EntryKind.REFUND,
        f"refund:{record.transaction_id}:{refund_id}",
        preferred=preferred,
        details={"transaction_id": record.transaction_id, "refund_id": refund_id, "amount_kopecks": amount_kopecks},
    )
    totals = draft.member.totals
    draft.update(
        totals=replace(totals, earned=totals.earned - points, spend_kopecks=totals.spend_kopecks - amount_kopecks),
        activity=with_activity(
            draft.member.activity,
            spend_on=record.occurred_on,
            spend=-amount_kopecks,
            earned_on=record.earned_on,
            earned=-points,
        ),
    )
    record = replace(
        record,
        refunded_kopecks=record.refunded_kopecks + amount_kopecks,
        refunded_points=record.refunded_points + points,
    )
    undone: list[str] = []
    record = _undo_referral(draft, record, undone)
    record = _undo_stamps(draft, record, coupons, undone)
    record = _undo_tier(draft, program, record, undone)
    return Refunded(draft.finish(), record, points, debt, tuple(undone))


def _undo_referral(draft: Draft, record: PurchaseRecord, undone: list[str]) -> PurchaseRecord:
    referral = record.referral
    if referral is None or referral.reversed:
        return record
    if record.amount_kopecks - record.refunded_kopecks >= referral.min_purchase_kopecks:
        return record
    draft.claw_back(
        referral.points,
        EntryKind.BONUS_REVERSAL,
        f"purchase:{record.transaction_id}",
        details={
            "bonus": "referral",
            "role": "referred",
            "referrer_id": referral.referrer_id,
            "transaction_id": record.transaction_id,
        },
    )
    member = draft.member
    draft.update(
        referral=replace(member.referral, done=False),
        totals=replace(member.totals, earned=member.totals.earned - referral.points),
    )
    undone.append("referral")
    return replace(record, referral=replace(referral, reversed=True))


def _undo_stamps(
    draft: Draft, record: PurchaseRecord, coupons: Mapping[str, Coupon], undone: list[str]
) -> PurchaseRecord:
    stamps = dict(draft.member.stamps)
    owed = dict(draft.member.stamp_rewards_owed)
    benefits = dict(record.stamps)
    for card_id, benefit in record.stamps.items():
        due = benefit.stamps * record.refunded_kopecks // record.amount_kopecks if record.amount_kopecks else 0
        take = due - benefit.stamps_taken_back
        if take <= 0:
            continue
        count = stamps.get(card_id, 0) - take
        revoked, cancelled = list(benefit.coupons_revoked), benefit.owed_cancelled
        while count < 0 and cancelled < benefit.owed and owed.get(card_id, 0) > 0:
            owed[card_id] -= 1
            cancelled += 1
            count += benefit.stamps_required
        for code in benefit.coupons:
            coupon = coupons.get(code)
            if count >= 0:
                break
            if code in revoked or coupon is None or coupon.status is not CouponStatus.ISSUED:
                continue
            draft.revoke(coupon)
            draft.entry(
                EntryKind.COUPON_REVOKED,
                0,
                f"purchase:{record.transaction_id}",
                details={"coupon": code, "reward_id": coupon.reward_id, "reward_name": coupon.reward_name},
            )
            revoked.append(code)
            count += benefit.stamps_required
        stamps[card_id] = count
        benefits[card_id] = replace(
            benefit, stamps_taken_back=due, coupons_revoked=tuple(revoked), owed_cancelled=cancelled
        )
        undone.append(f"stamps:{card_id}")
    draft.update(
        stamps={card: count for card, count in stamps.items() if count},
        stamp_rewards_owed={card: count for card, count in owed.items() if count > 0},
    )
    return replace(record, stamps=benefits)


def _undo_tier(draft: Draft, program: Program, record: PurchaseRecord, undone: list[str]) -> PurchaseRecord:
    benefit, tiers = record.tier, program.tiers
    current = draft.member.tier
    if benefit is None or benefit.reversed or tiers is None or current.tier != benefit.to:
        return record
    entitled = entitled_tier(tiers, current, qualifying_total(draft.member, tiers, draft.today), draft.today)
    if tiers.rank(entitled) >= tiers.rank(benefit.to):
        return record
    if tiers.rank(entitled) > tiers.rank(benefit.before.tier):
        restored = replace(current, tier=entitled)  # still above where the purchase found the member
    else:
        restored = replace(benefit.before, paid_tier=current.paid_tier, paid_until=current.paid_until)
    set_tier(
        draft,
        restored,
        TierChange(current.tier, str(restored.tier), "refund"),
        f"purchase:{record.transaction_id}",
        transaction_id=record.transaction_id,
    )
    undone.append("tier")
    return replace(record, tier=replace(benefit, reversed=True))


# ---- storage of the record (plain JSON) --------------------------------------------------------
def _encode(record: PurchaseRecord) -> dict[str, Any]:
    tier = record.tier
    return {
        "member_id": record.member_id,
        "transaction_id": record.transaction_id,
        "amount_kopecks": record.amount_kopecks,
        "points": record.points,
        "occurred_on": record.occurred_on.isoformat(),
        "earned_on": record.earned_on.isoformat(),
        "lot_key": record.lot_key,
        "refunded_kopecks": record.refunded_kopecks,
        "refunded_points": record.refunded_points,
        "referral": vars(record.referral).copy() if record.referral else None,
        "stamps": {
            card: {**vars(benefit), "coupons": list(benefit.coupons), "coupons_revoked": list(benefit.coupons_revoked)}
            for card, benefit in record.stamps.items()
        },
        "tier": {"before": _tier_state(tier.before), "to": tier.to, "reversed": tier.reversed} if tier else None,
    }


def _decode(state: Mapping[str, Any]) -> PurchaseRecord:
    tier = state.get("tier")
    referral = state.get("referral")
    return PurchaseRecord(
        member_id=str(state["member_id"]),
        transaction_id=str(state.get("transaction_id", "")),
        amount_kopecks=int(state["amount_kopecks"]),
        points=int(state["points"]),
        occurred_on=date.fromisoformat(str(state["occurred_on"])),
        earned_on=date.fromisoformat(str(state.get("earned_on") or state["occurred_on"])),
        lot_key=state.get("lot_key"),
        refunded_kopecks=int(state.get("refunded_kopecks", 0)),
        refunded_points=int(state.get("refunded_points", 0)),
        referral=ReferralBenefit(**referral) if referral else None,
        stamps={
            card: StampBenefit(
                **{
                    **benefit,
                    "coupons": tuple(benefit["coupons"]),
                    "coupons_revoked": tuple(benefit["coupons_revoked"]),
                }
            )
            for card, benefit in (state.get("stamps") or {}).items()
        },
        tier=TierBenefitRecord(_tier_from(tier["before"]), tier["to"], tier["reversed"]) if tier else None,
    )


def _tier_state(state: TierState) -> dict[str, str | None]:
    return {
        "tier": state.tier,
        "review_on": state.review_on.isoformat() if state.review_on else None,
        "grace_until": state.grace_until.isoformat() if state.grace_until else None,
        "paid_tier": state.paid_tier,
        "paid_until": state.paid_until.isoformat() if state.paid_until else None,
    }


def _tier_from(raw: Mapping[str, str | None]) -> TierState:
    def day(value: str | None) -> date | None:
        return date.fromisoformat(value) if value else None

    return TierState(
        raw["tier"], day(raw["review_on"]), day(raw["grace_until"]), raw["paid_tier"], day(raw["paid_until"])
    )
