"""The members table: members (the aggregate's state), the look-ups that find them (phone, card,
referral code), the welcome markers, the birthday index, coupons and push devices.

Keys:
- member           pk ``<merchant>#<member>``            sk ``MEMBER``  (sparse GSI ``by_merchant``)
- look-up          pk ``PHONE|CARD|REF#<merchant>#<value>`` sk ``LOOKUP`` -> member id (unique per merchant)
- welcome marker   pk ``WELCOME#<merchant>#<phone hash>``  sk ``WELCOME`` (a welcome bonus was paid to this phone)
- birthday index   pk ``BDAY#<MM-DD>#<shard>``              sk ``<merchant>#<member>``
- coupon (till)    pk ``COUPON#<merchant>#<code>``          sk ``COUPON``
- coupon (member)  pk ``<merchant>#<member>``               sk ``COUPON#<issued at>#<code>``
- push device      pk ``<merchant>#<member>``               sk ``DEVICE#<device id>``
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection

from loyalty.clock import isoformat
from loyalty.data.base import Item, plain_ints, plain_map, table_base
from loyalty.data.transaction import Transaction
from loyalty.domain.coupons import Coupon, CouponStatus
from loyalty.domain.member import Activity, Contact, Member, MemberChange, MemberStatus, Referral, Totals
from loyalty.domain.tiers import TierState
from loyalty.domain.wallet import Wallet
from loyalty.errors import InvalidRequest, NotFound

MEMBER_SK = "MEMBER"
LOOKUP_SK = "LOOKUP"
COUPON_SK = "COUPON"
BIRTHDAY_SHARDS = 4


def member_key(merchant_id: str, member_id: str) -> str:
    return f"{merchant_id}#{member_id}"


def shard_of(key: str, shards: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % shards


@table_base
class _MembersTable(Item):
    table_env = "members_table"

    class Meta:
        table_name = "unbound"


class _ByMerchant(GlobalSecondaryIndex["MemberItem"]):  # type: ignore[no-untyped-call]
    """Sparse index of member items only (other items lack ``gsi_merchant``): a merchant's members
    page by page, for campaigns and lists. Never on a till's request path."""

    class Meta:
        index_name = "by_merchant"
        projection = IncludeProjection(["tier", "last_purchase_at", "birthday", "status"])

    gsi_merchant = UnicodeAttribute(hash_key=True)
    member_id = UnicodeAttribute(range_key=True)


class MemberItem(_MembersTable):
    merchant_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    gsi_merchant = UnicodeAttribute(null=True)  # = merchant_id while the member is in lists
    by_merchant = _ByMerchant()
    status = UnicodeAttribute(default="active")
    phone_enc = UnicodeAttribute()
    phone_hash = UnicodeAttribute()
    name_enc = UnicodeAttribute(null=True)
    email_enc = UnicodeAttribute(null=True)
    email_hash = UnicodeAttribute(null=True)
    card_number = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    language = UnicodeAttribute(default="ru")
    timezone = UnicodeAttribute(null=True)
    birthday = UnicodeAttribute(null=True)  # YYYY-MM-DD: not secret, and the birthday index needs it
    tier = UnicodeAttribute(null=True)
    tier_review_on = UnicodeAttribute(null=True)
    grace_until = UnicodeAttribute(null=True)
    paid_tier = UnicodeAttribute(null=True)
    paid_until = UnicodeAttribute(null=True)
    lots = MapAttribute(default=dict)  # type: ignore[var-annotated,no-untyped-call]
    debt = NumberAttribute(default=0)
    balance = NumberAttribute(default=0)  # = sum(lots) - debt, kept for lists and reports
    earned_total = NumberAttribute(default=0)
    spent_total = NumberAttribute(default=0)
    purchases_count = NumberAttribute(default=0)
    spend_total_kopecks = NumberAttribute(default=0)
    last_purchase_at = UTCDateTimeAttribute(null=True)
    spend_by_month = MapAttribute(default=dict)  # type: ignore[var-annotated,no-untyped-call]
    earned_by_month = MapAttribute(default=dict)  # type: ignore[var-annotated,no-untyped-call]
    purchases_by_month = MapAttribute(default=dict)  # type: ignore[var-annotated,no-untyped-call]
    referral_code = UnicodeAttribute(null=True)
    referred_by = UnicodeAttribute(null=True)
    referral_done = BooleanAttribute(default=False)
    stamps = MapAttribute(default=dict)  # type: ignore[var-annotated,no-untyped-call]
    consents = MapAttribute(default=dict)  # type: ignore[var-annotated,no-untyped-call]
    version = NumberAttribute(default=0)


class LookupItem(_MembersTable):
    member_id = UnicodeAttribute()  # empty while a plastic card is only reserved
    reserved_for = UnicodeAttribute(null=True)  # the card order that reserved a plastic card's number


class WelcomeItem(_MembersTable):
    paid_at = UTCDateTimeAttribute()


class BirthdayItem(_MembersTable):
    pass


class CouponItem(_MembersTable):
    code = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    reward_id = UnicodeAttribute()
    reward_name = UnicodeAttribute()
    points_spent = NumberAttribute()
    status = UnicodeAttribute(default="issued")
    quantity = NumberAttribute(default=1)
    uses_left = NumberAttribute(default=1)
    issued_at = UTCDateTimeAttribute()
    expires_on = UnicodeAttribute()
    used_at = UTCDateTimeAttribute(null=True)
    used_transaction_id = UnicodeAttribute(null=True)
    store_id = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)


class DeviceItem(_MembersTable):
    platform = UnicodeAttribute()
    endpoint_arn = UnicodeAttribute()
    enabled = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute()


# ---- members ---------------------------------------------------------------------------------
def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _to_member(item: MemberItem) -> Member:
    return Member(
        merchant_id=item.merchant_id,
        member_id=item.member_id,
        card_number=item.card_number,
        created_at=item.created_at,
        contact=Contact(item.phone_enc, item.phone_hash, item.name_enc, item.email_enc, item.email_hash),
        status=MemberStatus(item.status),
        language=item.language,
        timezone=item.timezone,
        birthday=_day(item.birthday),
        wallet=Wallet(plain_ints(item.lots), int(item.debt)),
        tier=TierState(
            item.tier, _day(item.tier_review_on), _day(item.grace_until), item.paid_tier, _day(item.paid_until)
        ),
        totals=Totals(
            int(item.earned_total),
            int(item.spent_total),
            int(item.purchases_count),
            int(item.spend_total_kopecks),
            item.last_purchase_at,
        ),
        activity=Activity(
            plain_ints(item.spend_by_month), plain_ints(item.earned_by_month), plain_ints(item.purchases_by_month)
        ),
        referral=Referral(item.referral_code, item.referred_by, bool(item.referral_done)),
        stamps=plain_ints(item.stamps),
        consents={name: bool(value) for name, value in plain_map(item.consents).items()},
        version=int(item.version),
    )


def _to_item(member: Member) -> MemberItem:
    tier, totals, contact = member.tier, member.totals, member.contact
    return MemberItem(
        member_key(member.merchant_id, member.member_id),
        MEMBER_SK,
        merchant_id=member.merchant_id,
        member_id=member.member_id,
        gsi_merchant=member.merchant_id if member.status is not MemberStatus.ERASED else None,
        status=member.status.value,
        phone_enc=contact.phone_enc,
        phone_hash=contact.phone_hash,
        name_enc=contact.name_enc,
        email_enc=contact.email_enc,
        email_hash=contact.email_hash,
        card_number=member.card_number,
        created_at=member.created_at,
        language=member.language,
        timezone=member.timezone,
        birthday=_iso(member.birthday),
        tier=tier.tier,
        tier_review_on=_iso(tier.review_on),
        grace_until=_iso(tier.grace_until),
        paid_tier=tier.paid_tier,
        paid_until=_iso(tier.paid_until),
        lots=dict(member.wallet.lots),
        debt=member.wallet.debt,
        balance=member.wallet.balance,
        earned_total=totals.earned,
        spent_total=totals.spent,
        purchases_count=totals.purchases,
        spend_total_kopecks=totals.spend_kopecks,
        last_purchase_at=totals.last_purchase_at,
        spend_by_month=dict(member.activity.spend_by_month),
        earned_by_month=dict(member.activity.earned_by_month),
        purchases_by_month=dict(member.activity.purchases_by_month),
        referral_code=member.referral.code,
        referred_by=member.referral.referred_by,
        referral_done=member.referral.done,
        stamps=dict(member.stamps),
        consents=dict(member.consents),
        version=member.version,
    )


def get(merchant_id: str, member_id: str, *, consistent: bool = True) -> Member:
    """The member as stored (erased ones too: callers decide what an erased member means)."""
    try:
        item = MemberItem.get(member_key(merchant_id, member_id), MEMBER_SK, consistent_read=consistent)
    except DoesNotExist as exc:
        raise NotFound("member not found", code="member_not_found") from exc
    return _to_member(item)


def get_by_ref(member_ref: str) -> Member:
    merchant_id, _, member_id = member_ref.partition("#")
    return get(merchant_id, member_id)


@dataclass(frozen=True)
class MemberSummary:
    """What the merchant index holds of a member (enough to choose a campaign's audience)."""

    member_id: str
    status: str
    tier: str | None
    birthday: date | None
    last_purchase_at: datetime | None


def page(merchant_id: str, *, limit: int, cursor: str | None) -> tuple[list[MemberSummary], str | None]:
    """A page of the merchant's members (an index query, never a scan) and the cursor of the next."""
    results = MemberItem.by_merchant.query(merchant_id, limit=limit, last_evaluated_key=decode_cursor(cursor))
    members = [
        MemberSummary(item.member_id, item.status, item.tier, _day(item.birthday), item.last_purchase_at)
        for item in results
    ]
    return members, encode_cursor(results.last_evaluated_key)


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=="))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest("cursor is not valid", details={"field": "cursor"}) from exc
    if not isinstance(decoded, dict):
        raise InvalidRequest("cursor is not valid", details={"field": "cursor"})
    return decoded


# ---- look-ups --------------------------------------------------------------------------------
def _phone_pk(merchant_id: str, phone_hash: str) -> str:
    return f"PHONE#{merchant_id}#{phone_hash}"


def _card_pk(merchant_id: str, card_number: str) -> str:
    return f"CARD#{merchant_id}#{card_number}"


def _referral_pk(merchant_id: str, code: str) -> str:
    return f"REF#{merchant_id}#{code.upper()}"


def _lookup(pk: str) -> str | None:
    try:
        member_id = str(LookupItem.get(pk, LOOKUP_SK).member_id)
    except DoesNotExist:
        return None
    return member_id or None  # a reserved plastic card finds no one until it is linked


def find_by_phone(merchant_id: str, phone_hash: str) -> str | None:
    return _lookup(_phone_pk(merchant_id, phone_hash))


def find_by_card(merchant_id: str, card_number: str) -> str | None:
    return _lookup(_card_pk(merchant_id, card_number))


def find_by_referral_code(merchant_id: str, code: str) -> str | None:
    return _lookup(_referral_pk(merchant_id, code))


def _lookups(member: Member) -> dict[str, str]:
    """The look-ups that find an active member, by what they are (the name a refusal carries)."""
    if member.status is MemberStatus.ERASED:
        return {}
    merchant_id = member.merchant_id
    found = {
        "phone": _phone_pk(merchant_id, member.contact.phone_hash),
        "card": _card_pk(merchant_id, member.card_number),
    }
    if member.referral.code:
        found["referral_code"] = _referral_pk(merchant_id, member.referral.code)
    return found


def welcome_paid(merchant_id: str, phone_hash: str) -> bool:
    try:
        WelcomeItem.get(f"WELCOME#{merchant_id}#{phone_hash}", "WELCOME")
    except DoesNotExist:
        return False
    return True


def stage_card_reservations(tx: Transaction, merchant_id: str, card_numbers: list[str], order_id: str) -> None:
    """Reserve plastic card numbers for their order, so that no virtual card takes them; a
    number reserved by this same order before (a retried job) is fine. A refusal is named
    ``card <number>``."""
    for number in card_numbers:
        tx.put(
            LookupItem(_card_pk(merchant_id, number), LOOKUP_SK, member_id="", reserved_for=order_id),
            condition=LookupItem.pk.does_not_exist() | (LookupItem.reserved_for == order_id),
            name=f"card {number}",
        )


# ---- the birthday index ------------------------------------------------------------------------
def _birthday_item(member: Member) -> BirthdayItem | None:
    if member.birthday is None or member.status is MemberStatus.ERASED:
        return None
    key = member_key(member.merchant_id, member.member_id)
    return BirthdayItem(f"BDAY#{member.birthday:%m-%d}#{shard_of(key, BIRTHDAY_SHARDS)}", key)


def birthdays_on(month_day: str) -> Iterator[tuple[str, str]]:
    """(merchant id, member id) of everyone whose birthday is on ``month_day`` ("MM-DD")."""
    for shard in range(BIRTHDAY_SHARDS):
        for item in BirthdayItem.query(f"BDAY#{month_day}#{shard}"):
            merchant_id, _, member_id = str(item.sk).partition("#")
            yield merchant_id, member_id


# ---- coupons ---------------------------------------------------------------------------------
def _coupon_items(coupon: Coupon) -> tuple[CouponItem, CouponItem]:
    """The till's copy (by code) and the member's copy (for listing), identical but for keys."""
    attributes: dict[str, Any] = {
        "code": coupon.code,
        "merchant_id": coupon.merchant_id,
        "member_id": coupon.member_id,
        "reward_id": coupon.reward_id,
        "reward_name": coupon.reward_name,
        "points_spent": coupon.points_spent,
        "status": coupon.status.value,
        "quantity": coupon.quantity,
        "uses_left": coupon.uses_left,
        "issued_at": coupon.issued_at,
        "expires_on": coupon.expires_on.isoformat(),
        "used_at": coupon.used_at,
        "used_transaction_id": coupon.used_transaction_id,
        "store_id": coupon.store_id,
        "version": coupon.version,
    }
    by_code = CouponItem(f"COUPON#{coupon.merchant_id}#{coupon.code}", COUPON_SK, **attributes)
    by_member = CouponItem(
        member_key(coupon.merchant_id, coupon.member_id),
        f"COUPON#{isoformat(coupon.issued_at)}#{coupon.code}",
        **attributes,
    )
    return by_code, by_member


def _to_coupon(item: CouponItem) -> Coupon:
    return Coupon(
        code=item.code,
        merchant_id=item.merchant_id,
        member_id=item.member_id,
        reward_id=item.reward_id,
        reward_name=item.reward_name,
        points_spent=int(item.points_spent),
        issued_at=item.issued_at,
        expires_on=date.fromisoformat(item.expires_on),
        status=CouponStatus(item.status),
        quantity=int(item.quantity),
        uses_left=int(item.uses_left),
        used_at=item.used_at,
        used_transaction_id=item.used_transaction_id,
        store_id=item.store_id,
        version=int(item.version),
    )


def get_coupon(merchant_id: str, code: str, *, consistent: bool = True) -> Coupon | None:
    try:
        return _to_coupon(CouponItem.get(f"COUPON#{merchant_id}#{code.upper()}", COUPON_SK, consistent_read=consistent))
    except DoesNotExist:
        return None


def member_coupons(merchant_id: str, member_id: str, *, limit: int = 100) -> list[Coupon]:
    items = CouponItem.query(
        member_key(merchant_id, member_id), CouponItem.sk.startswith("COUPON#"), scan_index_forward=False, limit=limit
    )
    return [_to_coupon(item) for item in items]


def stage_coupon_change(tx: Transaction, before: Coupon, after: Coupon) -> None:
    """A coupon used or taken back: only if it is still as it was read (``Stale("coupon")``)."""
    by_code, by_member = _coupon_items(after)
    tx.put(
        by_code,
        condition=CouponItem.version == before.version,
        name="coupon",
    )
    tx.put(by_member)


# ---- push devices ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Device:
    device_id: str
    platform: str
    endpoint_arn: str
    enabled: bool
    created_at: datetime


def devices(merchant_id: str, member_id: str) -> list[Device]:
    items = DeviceItem.query(member_key(merchant_id, member_id), DeviceItem.sk.startswith("DEVICE#"))
    return [
        Device(item.sk.removeprefix("DEVICE#"), item.platform, item.endpoint_arn, bool(item.enabled), item.created_at)
        for item in items
    ]


def save_device(merchant_id: str, member_id: str, device: Device) -> None:
    DeviceItem(
        member_key(merchant_id, member_id),
        f"DEVICE#{device.device_id}",
        platform=device.platform,
        endpoint_arn=device.endpoint_arn,
        enabled=device.enabled,
        created_at=device.created_at,
    ).save()


def disable_device(merchant_id: str, member_id: str, device_id: str) -> None:
    DeviceItem(member_key(merchant_id, member_id), f"DEVICE#{device_id}").update(
        actions=[DeviceItem.enabled.set(False)]
    )


def delete_device(merchant_id: str, member_id: str, device_id: str) -> None:
    DeviceItem(member_key(merchant_id, member_id), f"DEVICE#{device_id}").delete()


# ---- writing a member's change ---------------------------------------------------------------
def stage_change(tx: Transaction, change: MemberChange, *, mark_welcome: bool = False) -> None:
    """The member item (checked against the version it was read at: ``Stale("member")``), its
    look-ups and birthday index as they follow from the change, and its coupons. Ledger entries
    and queue items are staged by their own tables' modules (``data.changes``)."""
    after, before = change.after, change.before
    item = _to_item(after)
    if before is None:
        tx.create(item, name="member")
    else:
        tx.put(item, condition=MemberItem.version == before.version, name="member")
    _stage_lookups(tx, before, after)
    _stage_birthday(tx, before, after)
    if mark_welcome:
        tx.create(
            WelcomeItem(f"WELCOME#{after.merchant_id}#{after.contact.phone_hash}", "WELCOME", paid_at=after.created_at),
            name="welcome",
        )
    for coupon in change.coupons:
        by_code, by_member = _coupon_items(coupon)
        tx.create(by_code, name="coupon")  # a code collision refuses the write, which retries with a new code
        tx.put(by_member)
    for before_revoking, revoked in change.revoked_coupons:
        stage_coupon_change(tx, before_revoking, revoked)


def _stage_lookups(tx: Transaction, before: Member | None, after: Member) -> None:
    old = _lookups(before) if before else {}
    new = _lookups(after)
    for what, pk in new.items():
        if old.get(what) == pk:
            continue
        if what == "card":  # a plastic card its order reserved may be linked; any other card is taken
            free = LookupItem.pk.does_not_exist() | (LookupItem.reserved_for.exists() & (LookupItem.member_id == ""))
            tx.put(LookupItem(pk, LOOKUP_SK, member_id=after.member_id), condition=free, name="card")
        else:
            tx.create(LookupItem(pk, LOOKUP_SK, member_id=after.member_id), name=what)
    for what, pk in old.items():
        if new.get(what) != pk:
            tx.delete(LookupItem(pk, LOOKUP_SK))


def _stage_birthday(tx: Transaction, before: Member | None, after: Member) -> None:
    old = _birthday_item(before) if before else None
    new = _birthday_item(after)
    if old is not None and (new is None or old.pk != new.pk):
        tx.delete(old)
    if new is not None and (old is None or old.pk != new.pk):
        tx.put(new)
