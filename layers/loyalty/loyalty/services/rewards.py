"""The rewards catalog, claiming a reward for points (a coupon with a promo code), and using the
coupon at the till, exactly once."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from loyalty.api.redemptions import (
    ClaimRequest,
    CouponRedeemRequest,
    CouponView,
    RewardEdit,
    RewardRequest,
    RewardView,
)
from loyalty.clock import isoformat
from loyalty.data import members, merchants, operations
from loyalty.data.merchants import Reward
from loyalty.data.transaction import AlreadyExists, Contended, Stale, Transaction
from loyalty.domain.coupons import Coupon, CouponStatus
from loyalty.domain.member import Member
from loyalty.domain.spending import RewardOffer, claim_reward
from loyalty.errors import Busy, Conflict, NotFound, RuleViolation
from loyalty.pii.cipher import PiiCipher
from loyalty.services.changes import Decision, apply_change
from loyalty.services.idempotency import ClientRequest, replay
from loyalty.services.member_lookup import Found, named, on_member


def _reward_view(reward: Reward) -> RewardView:
    return RewardView(
        reward_id=reward.reward_id,
        name=reward.name,
        description=reward.description,
        cost_points=reward.cost_points,
        coupon_valid_days=reward.coupon_valid_days,
        active=reward.active,
    )


def create_reward(merchant_id: str, request: RewardRequest, now: datetime) -> tuple[RewardView, bool]:
    """Add a reward to the catalog, once per reward_id (the same request again is a replay)."""
    client = ClientRequest.of(request, merchant_id, "reward", request.reward_id)
    reward = Reward(
        merchant_id,
        request.reward_id,
        request.name,
        request.cost_points,
        request.coupon_valid_days,
        now,
        request.description,
        request.active,
    )
    view = _reward_view(reward)
    tx = Transaction()
    operations.stage_create(tx, client.record(view, now))
    merchants.stage_reward(tx, reward)
    try:
        tx.commit()
    except AlreadyExists as exc:
        if exc.what == "operation":
            return replay(client, RewardView)
        raise Conflict("a reward with this id exists", code="reward_exists") from exc
    return view, False


def edit_reward(merchant_id: str, reward_id: str, edit: RewardEdit) -> RewardView:
    """Change a reward for future claims; coupons claimed before keep their name, points and
    expiry (they are copies), and stay valid when the reward is retired (``active`` false)."""
    reward = get_reward(merchant_id, reward_id)
    given = edit.model_dump(exclude_unset=True)
    if "description" in given and given["description"] == "":
        given["description"] = None
    edited = replace(
        reward, **{name: value for name, value in given.items() if value is not None or name == "description"}
    )
    try:
        merchants.save_reward(edited)
    except Stale as exc:
        raise NotFound("reward not found", code="reward_not_found") from exc
    return _reward_view(edited)


def list_rewards(merchant_id: str, *, active_only: bool = False) -> list[RewardView]:
    return [_reward_view(reward) for reward in merchants.rewards(merchant_id) if reward.active or not active_only]


def get_reward(merchant_id: str, reward_id: str) -> Reward:
    reward = merchants.get_reward(merchant_id, reward_id)
    if reward is None:
        raise NotFound("reward not found", code="reward_not_found")
    return reward


def coupon_view(coupon: Coupon, now: datetime, balance: int | None = None) -> CouponView:
    return CouponView(
        code=coupon.code,
        reward_id=coupon.reward_id,
        reward_name=coupon.reward_name,
        member_id=coupon.member_id,
        status=coupon.status_on(now.date()).value,
        points_spent=coupon.points_spent,
        quantity=coupon.quantity,
        uses_left=coupon.uses_left,
        issued_at=coupon.issued_at,
        expires_on=coupon.expires_on,
        used_at=coupon.used_at,
        balance=balance,
    )


def claim(merchant_id: str, request: ClaimRequest, now: datetime, cipher: PiiCipher) -> tuple[CouponView, bool]:
    """Spend the reward's points and issue a single-use coupon; once per ``claim_id``."""
    who = named(member_id=request.member_id, card_number=request.card_number, phone=request.phone, cipher=cipher)
    reward = get_reward(merchant_id, request.reward_id)
    if not reward.active:
        raise RuleViolation("this reward is not available", code="reward_inactive")
    offer = RewardOffer(reward.reward_id, reward.name, reward.cost_points, reward.coupon_valid_days)
    return on_member(merchant_id, who, lambda found: _claim(merchant_id, found, request, offer, now))


def _claim(
    merchant_id: str, found: Found, request: ClaimRequest, offer: RewardOffer, now: datetime
) -> tuple[CouponView, bool]:
    member_id = found.member_id
    client = ClientRequest.of(request, merchant_id, "claim", request.claim_id)

    def decide(member: Member) -> Decision[CouponView]:
        found.check(member)
        claimed = claim_reward(member, offer, claim_id=request.claim_id, now=now)
        view = coupon_view(claimed.coupon, now, balance=claimed.change.after.wallet.balance)
        return Decision(claimed.change, view, state={"member_id": member_id, "code": claimed.coupon.code})

    return apply_change(merchant_id, member_id, decide, CouponView, now, client=client)


def get_coupon(merchant_id: str, code: str) -> Coupon:
    coupon = members.get_coupon(merchant_id, code)
    if coupon is None:
        raise NotFound("coupon not found", code="coupon_not_found")
    return coupon


def use_coupon(merchant_id: str, code: str, request: CouponRedeemRequest, now: datetime) -> tuple[CouponView, bool]:
    """Use ``request.quantity`` items of a coupon at the till, never more than it has left. With a
    transaction id the use happens once: the till's retry gets the same answer."""
    client = (
        ClientRequest.of(request, merchant_id, "coupon-use", code.upper(), request.transaction_id)
        if request.transaction_id
        else None
    )
    for _ in range(10):
        coupon = get_coupon(merchant_id, code)
        previous = client.previous() if client is not None else None
        if client is not None and previous is not None:
            return replay(client, CouponView, previous)
        _ensure_usable(coupon, request.quantity, now)
        used = coupon.used(now, request.transaction_id, request.store_id, request.quantity)
        view = coupon_view(used, now)
        tx = Transaction()
        if client is not None:
            operations.stage_create(tx, client.record(view, now, member_id=coupon.member_id))
        members.stage_coupon_change(tx, coupon, used)
        try:
            tx.commit()
        except AlreadyExists:
            continue  # the same use, applied meanwhile by a retry: answer it
        except (Stale, Contended):
            continue  # another till used it meanwhile: look again
        return view, False
    raise Busy("the coupon is busy; retry")


def _ensure_usable(coupon: Coupon, items: int, now: datetime) -> None:
    status = coupon.status_on(now.date())
    if status is CouponStatus.REVOKED:
        raise RuleViolation("this coupon was taken back: its purchase was refunded", code="coupon_revoked")
    if status is CouponStatus.EXPIRED:
        raise RuleViolation(
            "this coupon has expired", code="coupon_expired", details={"expires_on": coupon.expires_on.isoformat()}
        )
    if coupon.uses_left < items:
        raise Conflict(
            "this coupon was already used" if not coupon.uses_left else f"this coupon has {coupon.uses_left} left",
            code="coupon_used",
            details={"uses_left": coupon.uses_left, "used_at": isoformat(coupon.used_at) if coupon.used_at else None},
        )


def member_coupons(merchant_id: str, member_id: str, now: datetime) -> list[CouponView]:
    return [coupon_view(coupon, now) for coupon in members.member_coupons(merchant_id, member_id)]
