"""The rewards catalog, claiming a reward for points (a coupon with a promo code), and using the
coupon at the till, exactly once."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from loyalty.api.redemptions import ClaimRequest, CouponView, RewardRequest, RewardView
from loyalty.clock import isoformat
from loyalty.data.connection import connection
from loyalty.data.models import CouponItem, MemberItem, RewardItem
from loyalty.data.unit_of_work import MemberWrite
from loyalty.errors import Conflict, NotFound, RuleViolation
from loyalty.pii.cipher import PiiCipher
from loyalty.services.ledger import Draft, apply_change, operation_pk, operation_record, request_hash
from loyalty.services.members import ensure_active, member_key, resolve_member

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a till
CODE_LENGTH = 8
COUPON_SK = "COUPON"


def reward_sk(reward_id: str) -> str:
    return f"REWARD#{reward_id}"


def coupon_pk(merchant_id: str, code: str) -> str:
    return f"COUPON#{merchant_id}#{code}"


def new_coupon_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _reward_view(item: RewardItem) -> RewardView:
    return RewardView(
        reward_id=item.reward_id,
        name=item.name,
        description=item.description,
        cost_points=int(item.cost_points),
        coupon_valid_days=int(item.coupon_valid_days),
        active=bool(item.active),
    )


def create_reward(merchant_id: str, request: RewardRequest, now: datetime) -> RewardView:
    item = RewardItem(
        merchant_id,
        reward_sk(request.reward_id),
        reward_id=request.reward_id,
        name=request.name,
        description=request.description,
        cost_points=request.cost_points,
        coupon_valid_days=request.coupon_valid_days,
        active=request.active,
        created_at=now,
    )
    try:
        item.save(condition=RewardItem.pk.does_not_exist())
    except PutError as exc:
        raise Conflict("a reward with this id exists", code="reward_exists") from exc
    return _reward_view(item)


def list_rewards(merchant_id: str, *, active_only: bool = False) -> list[RewardView]:
    items = RewardItem.query(merchant_id, RewardItem.sk.startswith("REWARD#"))
    return [_reward_view(item) for item in items if item.active or not active_only]


def get_reward(merchant_id: str, reward_id: str) -> RewardItem:
    try:
        return RewardItem.get(merchant_id, reward_sk(reward_id))
    except DoesNotExist as exc:
        raise NotFound("reward not found", code="reward_not_found") from exc


def coupon_view(item: CouponItem, now: datetime, balance: int | None = None) -> CouponView:
    status = item.status
    if status == "issued" and item.expires_on < now.date().isoformat():
        status = "expired"
    return CouponView(
        code=item.code,
        reward_id=item.reward_id,
        reward_name=item.reward_name,
        member_id=item.member_id,
        status=status,
        points_spent=int(item.points_spent),
        issued_at=item.issued_at,
        expires_on=item.expires_on,
        used_at=item.used_at,
        balance=balance,
    )


def _coupon_pair(item: CouponItem) -> tuple[CouponItem, CouponItem]:
    """The till's copy (by code) and the member's copy (for listing), identical but for keys."""
    attributes = {name: getattr(item, name) for name in CouponItem.get_attributes() if name not in ("pk", "sk")}
    by_member = CouponItem(item.member_key, f"COUPON#{isoformat(item.issued_at)}#{item.code}", **attributes)
    return item, by_member


def issue_coupon(
    draft: Draft, *, reward_id: str, reward_name: str, valid_days: int, points: int, operation: str
) -> CouponItem:
    """A single-use coupon, written with the change that earned or bought it (its ledger entry
    tells the member's app and the notifications)."""
    member = draft.member
    code = new_coupon_code()
    coupon = CouponItem(
        coupon_pk(member.merchant_id, code),
        COUPON_SK,
        code=code,
        merchant_id=member.merchant_id,
        member_id=member.member_id,
        member_key=member.pk,
        reward_id=reward_id,
        reward_name=reward_name,
        points_spent=points,
        status="issued",
        issued_at=draft.now,
        expires_on=(draft.today + timedelta(days=valid_days)).isoformat(),
    )
    by_code, by_member = _coupon_pair(coupon)
    draft.creates.append(by_code)  # a code collision fails the write, which retries with a new code
    draft.puts.append(by_member)
    details = {"coupon": code, "reward_id": reward_id, "reward_name": reward_name, "expires_on": coupon.expires_on}
    if points:
        draft.debit(points, kind="reward", operation=operation, details=details)
    else:
        draft.entry(kind="coupon", points=0, operation=operation, details=details)
    return coupon


def claim(merchant_id: str, request: ClaimRequest, now: datetime, cipher: PiiCipher) -> tuple[CouponView, bool]:
    """Spend the reward's points and issue a single-use coupon; once per ``claim_id``."""
    member_id = resolve_member(
        merchant_id, member_id=request.member_id, card_number=request.card_number, phone=request.phone, cipher=cipher
    )
    reward = get_reward(merchant_id, request.reward_id)
    if not reward.active:
        raise RuleViolation("this reward is not available", code="reward_inactive")
    op_pk = operation_pk(merchant_id, "claim", request.claim_id)
    digest = request_hash(request)

    def build(member: MemberItem) -> tuple[MemberWrite, CouponView]:
        ensure_active(member)
        draft = Draft(member, now)
        coupon = issue_coupon(
            draft,
            reward_id=reward.reward_id,
            reward_name=reward.name,
            valid_days=int(reward.coupon_valid_days),
            points=int(reward.cost_points),
            operation=f"claim:{request.claim_id}",
        )
        member.spent_total = int(member.spent_total) + int(reward.cost_points)
        view = coupon_view(coupon, now, balance=draft.balance)
        operation = operation_record(
            op_pk, "claim", member, digest, now, view, {"member_id": member_id, "code": coupon.code}
        )
        return draft.finish(new_operation=operation), view

    return apply_change(merchant_id, member_id, build, CouponView, operation=(op_pk, digest))


def get_coupon(merchant_id: str, code: str) -> CouponItem:
    try:
        return CouponItem.get(coupon_pk(merchant_id, code.upper()), COUPON_SK)
    except DoesNotExist as exc:
        raise NotFound("coupon not found", code="coupon_not_found") from exc


def use_coupon(
    merchant_id: str, code: str, now: datetime, transaction_id: str | None, store_id: str | None
) -> CouponView:
    """Mark a coupon used, exactly once. A retry by the till with the same transaction id gets the
    same answer; any other second use is a 409."""
    coupon = get_coupon(merchant_id, code)
    if coupon.status == "used":
        if transaction_id is not None and coupon.used_transaction_id == transaction_id:
            return coupon_view(coupon, now)
        raise Conflict(
            "this coupon was already used",
            code="coupon_used",
            details={"used_at": isoformat(coupon.used_at) if coupon.used_at else None},
        )
    if coupon.expires_on < now.date().isoformat():
        raise RuleViolation("this coupon has expired", code="coupon_expired", details={"expires_on": coupon.expires_on})
    version = int(coupon.version)
    coupon.status, coupon.used_at, coupon.used_transaction_id, coupon.store_id = "used", now, transaction_id, store_id
    coupon.version = version + 1
    by_code, by_member = _coupon_pair(coupon)
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(by_code, condition=(CouponItem.version == version) & (CouponItem.status == "issued"))
            tx.save(by_member)
    except TransactWriteError as exc:
        return _raced(merchant_id, code, now, transaction_id, exc)
    return coupon_view(coupon, now)


def _raced(merchant_id: str, code: str, now: datetime, transaction_id: str | None, exc: Exception) -> CouponView:
    current = get_coupon(merchant_id, code)
    if current.status == "used" and transaction_id is not None and current.used_transaction_id == transaction_id:
        return coupon_view(current, now)
    raise Conflict("this coupon was already used", code="coupon_used") from exc


def member_coupons(merchant_id: str, member_id: str, now: datetime) -> list[CouponView]:
    items = CouponItem.query(
        member_key(merchant_id, member_id), CouponItem.sk.startswith("COUPON#"), scan_index_forward=False, limit=100
    )
    return [coupon_view(item, now) for item in items]
