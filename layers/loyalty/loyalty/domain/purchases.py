"""Purchases and refunds of a member: everything a purchase changes, and everything a refund
must undo.

A purchase earns points and may also qualify a referral (both members' bonuses), fill stamp cards
(coupons) and lift the member to a higher tier. The purchase remembers these benefits
(``PurchaseRecord``); a refund takes back the points of the refunded part and undoes each benefit
the purchase no longer qualifies for: the referral bonuses when what is left of the purchase falls
below the program's minimum, the stamps of the refunded part (taking back unused items of the
coupon the cards they filled earned; stamps of items already used are owed back by later
purchases), and the tier it
lifted the member to when the qualifying total no longer reaches it. Nothing waits for the return
window: benefits are given at once and taken back at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from loyalty.domain.coupons import STAMP_REWARD_PREFIX, Coupon, CouponStatus, new_coupon
from loyalty.domain.earning import Earning, Line, Purchase, compute_earning, refund_clawback
from loyalty.domain.kpis import Visit, member_visit, month_of
from loyalty.domain.ledger import EntryKind
from loyalty.domain.member import Draft, Member, MemberChange, ensure_can_transact
from loyalty.domain.membership import qualifying_total, set_tier, tier_benefit, upgrade_if_qualified, with_activity
from loyalty.domain.program import Program, StampCard
from loyalty.domain.stamps import add_stamps, stamps_in
from loyalty.domain.tiers import TierChange, TierState, entitled_tier
from loyalty.domain.wallet import LotKey, lot_for
from loyalty.errors import RuleViolation


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
    coupon: str | None = None  # the coupon for the cards it filled (one item per full card)
    stamps_taken_back: int = 0
    items_revoked: int = 0


@dataclass(frozen=True)
class TierBenefitRecord:
    before: TierState  # the member's tier state before the purchase lifted it
    to: str  # the tier the purchase lifted the member to
    now_at: str  # where refunds of the purchase have left it since


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
    month: str | None = None  # the purchase's month in the program's time zone (KPI report)

    @property
    def coupon_codes(self) -> list[str]:
        return [benefit.coupon for benefit in self.stamps.values() if benefit.coupon]

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
    ensure_can_transact(member)
    check_purchase_date(member, program, purchase.occurred_at, now)
    draft = Draft(member, now)
    operation = f"purchase:{transaction_id}"
    earning = compute_earning(program, purchase, tier_benefit(member, program))
    lot = lot_for(draft.today, program.expiry_months, program.pending_days)
    last = member.totals.last_purchase_at
    occurred = purchase.occurred_at
    month = month_of(occurred, program.timezone)
    live, visit = member_visit(
        member.activity.purchases_by_month,
        month=month,
        cohort=month_of(member.created_at, program.timezone),
        purchases=1,
        kopecks=purchase.amount_kopecks,
    )
    draft.credit(
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
            "kpi": visit.to_details(),
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
        activity=replace(
            with_activity(
                member.activity,
                spend_on=occurred.date(),
                spend=purchase.amount_kopecks,
                earned_on=draft.today,
                earned=earning.points,
            ),
            purchases_by_month=live,
        ),
    )
    referral = _qualify_referral(draft, program, purchase.amount_kopecks, transaction_id)
    stamps = _fill_stamp_cards(draft, program, purchase.effective_lines() if purchase.lines else (), operation)
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
        tier=TierBenefitRecord(tier_before, tier_change.new, tier_change.new) if tier_change else None,
        month=month,
    )
    codes = tuple(benefit.coupon for benefit in stamps.values() if benefit.coupon)
    return Earned(draft.finish(), earning, lot if earning.points else None, record, codes, tier_change)


BEFORE_JOINING = timedelta(days=1)  # the purchase that made them join is usually recorded after it


def check_purchase_date(member: Member, program: Program, occurred_at: datetime, now: datetime) -> None:
    """A purchase earns only if it is recent (the program's ``backdate_days``) and was made as a
    member: not long before they joined."""
    check_recent(program, occurred_at, now)
    if occurred_at < member.created_at - BEFORE_JOINING:
        raise RuleViolation(
            "the purchase was made before the member joined",
            code="purchase_before_enrollment",
            details={"field": "occurred_at", "joined_at": member.created_at.isoformat()},
        )


def check_recent(program: Program, occurred_at: datetime, now: datetime) -> None:
    """Any live purchase, a member's or not, within the program's ``backdate_days`` (older ones
    come in as purchase history)."""
    oldest = now - timedelta(days=program.backdate_days)
    if occurred_at < oldest:
        raise RuleViolation(
            f"purchases older than {program.backdate_days} days are not accepted",
            code="purchase_too_old",
            details={"field": "occurred_at", "oldest": oldest.isoformat()},
        )


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
    """Stamps for the purchase's lines; each card they fill is one free item, and all the items
    of one card come as one coupon (however many: a write stays one item per card)."""
    if not program.stamp_cards or not lines:
        return {}
    updated, completed = add_stamps(program.stamp_cards, draft.member.stamps, lines)
    draft.update(stamps=updated)
    filled = {done.card.id: done.coupons for done in completed}
    benefits: dict[str, StampBenefit] = {}
    for card in program.stamp_cards:
        added = stamps_in(card, lines)
        if not added:
            continue
        code = _issue_stamp_coupon(draft, card, filled[card.id], operation) if card.id in filled else None
        benefits[card.id] = StampBenefit(card.stamps_required, added, code)
    return benefits


def _issue_stamp_coupon(draft: Draft, card: StampCard, items: int, operation: str) -> str:
    coupon = new_coupon(
        draft.member.merchant_id,
        draft.member.member_id,
        reward_id=f"{STAMP_REWARD_PREFIX}{card.id}",
        reward_name=card.reward_name,
        points=0,
        valid_days=card.coupon_valid_days,
        now=draft.now,
        quantity=items,
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
            "quantity": items,
            "expires_on": coupon.expires_on.isoformat(),
        },
    )
    return coupon.code


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
    live, visit = _refund_visit(member, program, record, amount_kopecks)
    debt = draft.claw_back(
        points,
        EntryKind.REFUND,
        f"refund:{record.transaction_id}:{refund_id}",
        preferred=preferred,
        details={
            "transaction_id": record.transaction_id,
            "refund_id": refund_id,
            "amount_kopecks": amount_kopecks,
            "kpi": visit.to_details(),
        },
    )
    totals = draft.member.totals
    draft.update(
        totals=replace(totals, earned=totals.earned - points, spend_kopecks=totals.spend_kopecks - amount_kopecks),
        activity=replace(
            with_activity(
                draft.member.activity,
                spend_on=record.occurred_on,
                spend=-amount_kopecks,
                earned_on=record.earned_on,
                earned=-points,
            ),
            purchases_by_month=live,
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


def _refund_visit(
    member: Member, program: Program, record: PurchaseRecord, amount_kopecks: int
) -> tuple[dict[str, int], Visit]:
    """The refund counts against the month of its purchase; the refund that refunds the purchase
    fully takes the purchase (and, if it was the member's last of that month, the visit) away."""
    fully = amount_kopecks > 0 and record.refunded_kopecks + amount_kopecks == record.amount_kopecks
    return member_visit(
        member.activity.purchases_by_month,
        month=record.month or record.occurred_on.strftime("%Y-%m"),
        cohort=month_of(member.created_at, program.timezone),
        purchases=-1 if fully else 0,
        kopecks=-amount_kopecks,
    )


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
    """Take back the refunded share of the purchase's stamps; where that leaves a card short,
    take back unused items of the coupon the purchase earned (one item per card's worth)."""
    stamps = dict(draft.member.stamps)
    benefits = dict(record.stamps)
    for card_id, benefit in record.stamps.items():
        due = benefit.stamps * record.refunded_kopecks // record.amount_kopecks if record.amount_kopecks else 0
        take = due - benefit.stamps_taken_back
        if take <= 0:
            continue
        count = stamps.get(card_id, 0) - take
        coupon = coupons.get(benefit.coupon) if benefit.coupon else None
        items = 0
        if count < 0 and coupon is not None and coupon.status_on(draft.today) is CouponStatus.ISSUED:
            items = min(coupon.uses_left, -(count // benefit.stamps_required))
            if items:
                draft.revoke(coupon, items)
                draft.entry(
                    EntryKind.COUPON_REVOKED,
                    0,
                    f"purchase:{record.transaction_id}",
                    details={"coupon": coupon.code, "reward_name": coupon.reward_name, "quantity": items},
                )
                count += items * benefit.stamps_required
        stamps[card_id] = count
        benefits[card_id] = replace(benefit, stamps_taken_back=due, items_revoked=benefit.items_revoked + items)
        undone.append(f"stamps:{card_id}")
    draft.update(stamps={card: count for card, count in stamps.items() if count})
    return replace(record, stamps=benefits)


def _undo_tier(draft: Draft, program: Program, record: PurchaseRecord, undone: list[str]) -> PurchaseRecord:
    """Lower the tier the purchase lifted the member to, as far as the refunds require: to what
    the remaining total still reaches, never below where the purchase found the member (and only
    if nothing else moved the tier since)."""
    benefit, tiers = record.tier, program.tiers
    current = draft.member.tier
    if benefit is None or tiers is None or current.tier != benefit.now_at:
        return record
    entitled = entitled_tier(tiers, current, qualifying_total(draft.member, tiers, draft.today), draft.today)
    target = entitled if tiers.rank(entitled) > tiers.rank(benefit.before.tier) else str(benefit.before.tier)
    if tiers.rank(target) >= tiers.rank(current.tier):
        return record
    if target == benefit.before.tier:
        restored = replace(benefit.before, paid_tier=current.paid_tier, paid_until=current.paid_until)
    else:
        restored = replace(current, tier=target)
    set_tier(
        draft,
        restored,
        TierChange(current.tier, target, "refund"),
        f"purchase:{record.transaction_id}",
        transaction_id=record.transaction_id,
    )
    undone.append("tier")
    return replace(record, tier=replace(benefit, now_at=target))


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
        "stamps": {card: vars(benefit).copy() for card, benefit in record.stamps.items()},
        "tier": {"before": _tier_state(tier.before), "to": tier.to, "now_at": tier.now_at} if tier else None,
        "month": record.month,
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
        stamps={card: StampBenefit(**benefit) for card, benefit in (state.get("stamps") or {}).items()},
        tier=TierBenefitRecord(_tier_from(tier["before"]), tier["to"], tier["now_at"]) if tier else None,
        month=state.get("month"),
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
