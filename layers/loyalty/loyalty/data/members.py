"""The members table: members (the aggregate's state), the look-ups that find them (phone, card,
referral code), the welcome markers, the birthday index, coupons and push devices.

Keys:
- member           pk ``<merchant>#<member>``            sk ``MEMBER``  (sparse GSIs ``by_merchant``,
                   ``by_last_purchase``)
- member history   pk ``<merchant>#<member>``            sk ``MEMBER#HISTORY`` (the member's activity of
                   the months before its newest: read with the member in one Query, written only
                   when those months change, so a purchase rewrites a member item of the same size
                   whatever the member's age)
- look-up          pk ``PHONE|EMAIL|CARD|REF#<merchant>#<value>`` sk ``LOOKUP`` -> member id (unique per
                   merchant; phones and emails by keyed hash; a blocked card's stays, finding no one)
- welcome marker   pk ``WELCOME#<merchant>#<phone hash>``  sk ``WELCOME`` (a welcome bonus was paid to this phone)
- birthday index   pk ``BDAY#<MM-DD>#<shard>``              sk ``<merchant>#<member>``
- coupon (till)    pk ``COUPON#<merchant>#<code>``          sk ``COUPON``
- coupon (member)  pk ``<merchant>#<member>``               sk ``COUPON#<issued at>#<code>``
- push device      pk ``<merchant>#<member>``               sk ``DEVICE#<device id>``

The table's stream (NEW_AND_OLD_IMAGES) is the outbox of coupon uses at the till;
``coupon_uses_from_stream`` is the only place that reads its records.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
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
HISTORY_SK = "MEMBER#HISTORY"  # begins with MEMBER_SK: one Query reads the member and its history
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


class _ByLastPurchase(GlobalSecondaryIndex["MemberItem"]):  # type: ignore[no-untyped-call]
    """Sparse index of members who bought something, by when they last did: the back office's
    "last purchase between" filter reads only the members in the range."""

    class Meta:
        index_name = "by_last_purchase"
        projection = IncludeProjection(["member_id", "tier", "birthday", "status"])

    gsi_merchant = UnicodeAttribute(hash_key=True)
    last_purchase_at = UTCDateTimeAttribute(range_key=True)


class MemberItem(_MembersTable):
    merchant_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    gsi_merchant = UnicodeAttribute(null=True)  # = merchant_id while the member is in lists
    by_merchant = _ByMerchant()
    by_last_purchase = _ByLastPurchase()
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
    cards = ListAttribute[str](default=list)
    blocked_cards = ListAttribute[str](default=list)
    block_reason = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)


class MemberHistoryItem(_MembersTable):
    """A member's activity of the months before the newest one (``domain.member.Activity``): what
    the tier window and the KPI visits read, kept off the member item that every purchase rewrites."""

    spend_by_month = MapAttribute(default=dict)  # type: ignore[var-annotated,no-untyped-call]
    earned_by_month = MapAttribute(default=dict)  # type: ignore[var-annotated,no-untyped-call]
    purchases_by_month = MapAttribute(default=dict)  # type: ignore[var-annotated,no-untyped-call]


class LookupItem(_MembersTable):
    # None while a plastic card is only reserved, and once a card is blocked (never "": member_id is
    # the by_merchant index's key, and DynamoDB refuses an empty string for an index key)
    member_id = UnicodeAttribute(null=True)
    reserved_for = UnicodeAttribute(null=True)  # the card order that reserved a plastic card's number
    blocked_for = UnicodeAttribute(null=True)  # the member whose card this was, until it was blocked


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


def _to_member(item: MemberItem, history: MemberHistoryItem | None = None) -> Member:
    recent = Activity(
        plain_ints(item.spend_by_month), plain_ints(item.earned_by_month), plain_ints(item.purchases_by_month)
    )
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
        activity=_joined(_history_of(history), recent),
        referral=Referral(item.referral_code, item.referred_by, bool(item.referral_done)),
        stamps=plain_ints(item.stamps),
        consents={name: bool(value) for name, value in plain_map(item.consents).items()},
        cards=tuple(str(card) for card in item.cards or ()),
        blocked_cards=tuple(str(card) for card in item.blocked_cards or ()),
        block_reason=item.block_reason,
        version=int(item.version),
    )


def _to_item(member: Member) -> MemberItem:
    tier, totals, contact = member.tier, member.totals, member.contact
    recent = _split(member.activity)[1]
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
        spend_by_month=dict(recent.spend_by_month),
        earned_by_month=dict(recent.earned_by_month),
        purchases_by_month=dict(recent.purchases_by_month),
        referral_code=member.referral.code,
        referred_by=member.referral.referred_by,
        referral_done=member.referral.done,
        stamps=dict(member.stamps),
        consents=dict(member.consents),
        cards=list(member.cards),
        blocked_cards=list(member.blocked_cards),
        block_reason=member.block_reason,
        version=member.version,
    )


# ---- a member's activity: the newest month on the member item, the months before in its history --
def _split(activity: Activity) -> tuple[Activity, Activity]:
    """(history, recent): the recent part is the newest month that any of the three series has;
    the months before it belong to the history item."""
    series = (activity.spend_by_month, activity.earned_by_month, activity.purchases_by_month)
    newest = max((month for by_month in series for month in by_month), default="")
    history = [{m: v for m, v in by_month.items() if m < newest} for by_month in series]
    recent = [{m: v for m, v in by_month.items() if m >= newest} for by_month in series]
    return Activity(*history), Activity(*recent)


def _joined(history: Activity, recent: Activity) -> Activity:
    return Activity(
        {**history.spend_by_month, **recent.spend_by_month},
        {**history.earned_by_month, **recent.earned_by_month},
        {**history.purchases_by_month, **recent.purchases_by_month},
    )


def _history_of(item: MemberHistoryItem | None) -> Activity:
    if item is None:
        return Activity()
    return Activity(
        plain_ints(item.spend_by_month), plain_ints(item.earned_by_month), plain_ints(item.purchases_by_month)
    )


def _history_item(member: Member, history: Activity) -> MemberHistoryItem:
    return MemberHistoryItem(
        member_key(member.merchant_id, member.member_id),
        HISTORY_SK,
        spend_by_month=dict(history.spend_by_month),
        earned_by_month=dict(history.earned_by_month),
        purchases_by_month=dict(history.purchases_by_month),
    )


def get(merchant_id: str, member_id: str, *, consistent: bool = True) -> Member:
    """The member as stored (erased ones too: callers decide what an erased member means), with
    its whole activity: one Query reads the member item and its history item (the same read
    units as the member item alone while both fit in 4 KB)."""
    found = MemberItem._get_connection().query(
        member_key(merchant_id, member_id),
        range_key_condition=MemberItem.sk.startswith(MEMBER_SK),
        consistent_read=consistent,
    )
    raw = {str(item["sk"]["S"]): item for item in found.get("Items", [])}
    if MEMBER_SK not in raw:
        raise NotFound("member not found", code="member_not_found")
    history = MemberHistoryItem.from_raw_data(raw[HISTORY_SK]) if HISTORY_SK in raw else None
    member = _to_member(MemberItem.from_raw_data(raw[MEMBER_SK]), history)
    _stored_histories.remember(member, _history_of(history))
    return member


class _StoredHistories:
    """What the history item held when a member was read, by member and version: a change rewrites
    the history item only when its months differ from that. A member item written before history
    items existed holds every month and has no history item: its first change moves them out."""

    LIMIT = 10_000

    def __init__(self) -> None:
        self._read: OrderedDict[tuple[str, str, int], Activity] = OrderedDict()

    def remember(self, member: Member, history: Activity) -> None:
        self._read[(member.merchant_id, member.member_id, member.version)] = history
        if len(self._read) > self.LIMIT:
            self._read.popitem(last=False)

    def stored(self, member: Member) -> Activity | None:
        """None: not read here, so not known (the history item is then written, never assumed)."""
        return self._read.get((member.merchant_id, member.member_id, member.version))


_stored_histories = _StoredHistories()


def get_by_ref(member_ref: str) -> Member:
    merchant_id, _, member_id = member_ref.partition("#")
    return get(merchant_id, member_id)


@dataclass(frozen=True)
class MemberSummary:
    """What the merchant indexes hold of a member (enough to choose a campaign's audience)."""

    member_id: str
    status: str
    tier: str | None
    birthday: date | None
    last_purchase_at: datetime | None


def page(merchant_id: str, *, limit: int, cursor: str | None) -> tuple[list[MemberSummary], str | None]:
    """A page of the merchant's members (an index query, never a scan) and the cursor of the next."""
    results = MemberItem.by_merchant.query(merchant_id, limit=limit, last_evaluated_key=decode_cursor(cursor))
    members = [_summary(item) for item in results]
    return members, encode_cursor(results.last_evaluated_key)


def _summary(item: MemberItem) -> MemberSummary:
    return MemberSummary(item.member_id, item.status, item.tier, _day(item.birthday), item.last_purchase_at)


@dataclass(frozen=True)
class MemberFilter:
    """The back office's member list: every bound optional. Enrolment bounds are member-id bounds
    (ids sort by creation time); last-purchase bounds use the ``by_last_purchase`` index."""

    tier: str | None = None
    status: str | None = None
    enrolled_after_id: str | None = None  # inclusive bounds as member ids
    enrolled_before_id: str | None = None
    last_purchase_from: datetime | None = None
    last_purchase_to: datetime | None = None

    @property
    def by_last_purchase(self) -> bool:
        return self.last_purchase_from is not None or self.last_purchase_to is not None


LIST_READ_PAGES = 5  # index pages read at most per list page: filters never make one page costly


def list_page(
    merchant_id: str, where: MemberFilter, *, limit: int, cursor: str | None
) -> tuple[list[Member], str | None]:
    """A page of the merchant's members matching ``where``, newest first (by enrolment, or by last
    purchase when that is filtered on), and the cursor of the next page. An index query narrowed by
    its key; other conditions filter what it reads, at most ``LIST_READ_PAGES`` reads of ``limit``
    index entries per page (so a page may come back short, with a cursor to go on); then one
    BatchGetItem for the members themselves."""
    found: list[dict[str, Any]] = []
    key_names = ("pk", "sk", "gsi_merchant", "last_purchase_at" if where.by_last_purchase else "member_id")
    pages = _index_query(merchant_id, where, limit=limit, last_key=decode_cursor(cursor)).page_iter
    for read, page in enumerate(pages, start=1):
        for raw in page.get("Items", []):
            found.append(raw)
            if len(found) == limit:
                return _hydrate(found), encode_cursor({name: raw[name] for name in key_names})
        if read == LIST_READ_PAGES:
            break
    return _hydrate(found), encode_cursor(pages.last_evaluated_key)


def _index_query(merchant_id: str, where: MemberFilter, *, limit: int, last_key: dict[str, Any] | None) -> Any:
    conditions = [
        condition
        for condition in (
            MemberItem.tier == where.tier if where.tier else None,
            MemberItem.status == where.status if where.status else None,
        )
        if condition is not None
    ]
    if where.by_last_purchase:
        conditions += _id_bounds(MemberItem.member_id, where)
        low, high = where.last_purchase_from or datetime.min.replace(tzinfo=UTC), where.last_purchase_to
        key_condition = MemberItem.last_purchase_at.between(low, high) if high else MemberItem.last_purchase_at >= low
        index: Any = MemberItem.by_last_purchase
    else:
        bounds = _id_bounds(_ByMerchant.member_id, where)
        key_condition = _all_of(bounds)
        index = MemberItem.by_merchant
    return index.query(
        merchant_id,
        key_condition,
        filter_condition=_all_of(conditions),
        scan_index_forward=False,
        page_size=limit,
        last_evaluated_key=last_key,
    )


def _id_bounds(attribute: Any, where: MemberFilter) -> list[Any]:
    bounds = []
    if where.enrolled_after_id:
        bounds.append(attribute >= where.enrolled_after_id)
    if where.enrolled_before_id:
        bounds.append(attribute <= where.enrolled_before_id)
    return bounds


def _all_of(conditions: list[Any]) -> Any:
    combined = None
    for condition in conditions:
        combined = condition if combined is None else combined & condition
    return combined


def _hydrate(found: list[dict[str, Any]]) -> list[Member]:
    """The members of raw index entries, in their order (one BatchGetItem of up to 100). Lists
    show members and never change them: their activity is the newest month's only."""
    pks = [str(raw["pk"]["S"]) for raw in found]
    by_pk = {item.pk: item for item in MemberItem.batch_get([(pk, MEMBER_SK) for pk in pks])} if pks else {}
    return [_to_member(by_pk[pk]) for pk in pks if pk in by_pk]


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


def _email_pk(merchant_id: str, email_hash: str) -> str:
    return f"EMAIL#{merchant_id}#{email_hash}"


def _card_pk(merchant_id: str, card_number: str) -> str:
    return f"CARD#{merchant_id}#{card_number}"


def _referral_pk(merchant_id: str, code: str) -> str:
    return f"REF#{merchant_id}#{code.upper()}"


def _lookup(pk: str, *, consistent: bool = False) -> str | None:
    try:
        member_id = LookupItem.get(pk, LOOKUP_SK, consistent_read=consistent).member_id
    except DoesNotExist:
        return None
    return member_id or None  # a reserved plastic card finds no one until it is linked, a blocked one never


def find_by_phone(merchant_id: str, phone_hash: str, *, consistent: bool = False) -> str | None:
    return _lookup(_phone_pk(merchant_id, phone_hash), consistent=consistent)


def find_by_email(merchant_id: str, email_hash: str) -> str | None:
    return _lookup(_email_pk(merchant_id, email_hash))


def find_by_card(merchant_id: str, card_number: str, *, consistent: bool = False) -> str | None:
    return _lookup(_card_pk(merchant_id, card_number), consistent=consistent)


def find_by_referral_code(merchant_id: str, code: str) -> str | None:
    return _lookup(_referral_pk(merchant_id, code))


def _lookups(member: Member) -> dict[str, str]:
    """The look-ups that find a member, by key, with what each is (the name a refusal carries)."""
    if member.status is MemberStatus.ERASED:
        return {}
    merchant_id = member.merchant_id
    found = {_phone_pk(merchant_id, member.contact.phone_hash): "phone"}
    found.update({_card_pk(merchant_id, card): "card" for card in member.all_cards})
    if member.contact.email_hash:
        found[_email_pk(merchant_id, member.contact.email_hash)] = "email"
    if member.referral.code:
        found[_referral_pk(merchant_id, member.referral.code)] = "referral_code"
    return found


def _blocked_card_keys(member: Member) -> set[str]:
    return {_card_pk(member.merchant_id, card) for card in member.blocked_cards}


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
            LookupItem(_card_pk(merchant_id, number), LOOKUP_SK, reserved_for=order_id),
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


def coupon_uses_from_stream(event: Mapping[str, Any]) -> list[tuple[Coupon, Coupon]]:
    """The coupons a batch of the table's stream shows used at the till, as (before, after) of the
    till's copy. A use takes items and sets ``used_at``; a refund taking items back sets no
    ``used_at`` and is not a use."""
    uses: list[tuple[Coupon, Coupon]] = []
    for record in event.get("Records", []):
        images = record.get("dynamodb", {})
        new, old = images.get("NewImage"), images.get("OldImage")
        if record.get("eventName") != "MODIFY" or not new or not old or new["sk"]["S"] != COUPON_SK:
            continue
        before, after = _to_coupon(CouponItem.from_raw_data(old)), _to_coupon(CouponItem.from_raw_data(new))
        if after.uses_left < before.uses_left and after.used_at is not None and after.used_at != before.used_at:
            uses.append((before, after))
    return uses


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
    history = _split(after.activity)[0]
    stored = _stored_histories.stored(before) if before else Activity()
    if history != stored:
        tx.put(_history_item(after, history))  # guarded by the member's version in the same transaction
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
    """New look-ups must be free (``AlreadyExists("phone" | "email" | "card" | "referral_code")``);
    a blocked card's look-up stays as a tombstone that finds no one and that
    no member can take; the rest that the member no longer has are deleted."""
    old = _lookups(before) if before else {}
    new = _lookups(after)
    blocked = _blocked_card_keys(after) - (_blocked_card_keys(before) if before else set())
    for pk, what in new.items():
        if pk in old:
            continue
        if what == "card":  # a plastic card its order reserved may be linked; any other card is taken
            free = LookupItem.pk.does_not_exist() | (
                LookupItem.reserved_for.exists() & LookupItem.member_id.does_not_exist()
            )
            tx.take(LookupItem(pk, LOOKUP_SK, member_id=after.member_id), free=free, name="card")
        else:
            tx.create(LookupItem(pk, LOOKUP_SK, member_id=after.member_id), name=what)
    for pk in blocked:
        tx.put(LookupItem(pk, LOOKUP_SK, blocked_for=after.member_id))
    for pk in old:
        if pk not in new and pk not in blocked:
            tx.delete(LookupItem(pk, LOOKUP_SK))


def _stage_birthday(tx: Transaction, before: Member | None, after: Member) -> None:
    old = _birthday_item(before) if before else None
    new = _birthday_item(after)
    if old is not None and (new is None or old.pk != new.pk):
        tx.delete(old)
    if new is not None and (old is None or old.pk != new.pk):
        tx.put(new)
