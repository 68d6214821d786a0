"""PynamoDB models. Every table has a string ``pk`` and ``sk``; several item types share a table.

Table names are bound at cold start from the function's configuration (``bind_tables``), so that
template.yaml stays the one place that names resources.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from loyalty.config import TableNames


class _Base(Model):
    table_env: ClassVar[str] = ""

    class Meta:
        table_name = "unbound"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


# ---- merchants table -----------------------------------------------------------------------
class MerchantItem(_Base):
    """pk = merchant id, sk = 'PROFILE'. Carries the current program inline (one read)."""

    table_env = "merchants_table"

    class Meta:
        table_name = "unbound"

    merchant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    status = UnicodeAttribute(default="active")
    created_at = UTCDateTimeAttribute()
    program = JSONAttribute()
    program_version = NumberAttribute(default=1)
    settings = JSONAttribute(default=dict)


class ProgramVersionItem(_Base):
    """pk = merchant id, sk = 'PROGRAM#000001': the history of program versions."""

    table_env = "merchants_table"

    class Meta:
        table_name = "unbound"

    program = JSONAttribute()
    version = NumberAttribute()
    created_at = UTCDateTimeAttribute()


class ApiKeyItem(_Base):
    """pk = 'APIKEY#<sha256 of the key>', sk = 'APIKEY'. The key itself is never stored."""

    table_env = "merchants_table"

    class Meta:
        table_name = "unbound"

    merchant_id = UnicodeAttribute()
    label = UnicodeAttribute(default="default")
    status = UnicodeAttribute(default="active")
    created_at = UTCDateTimeAttribute()


# ---- members table -------------------------------------------------------------------------
class MembersByMerchant(GlobalSecondaryIndex["MemberItem"]):  # type: ignore[no-untyped-call]
    """Sparse index of member items only (other items in the table lack ``gsi_merchant``): a
    merchant's members page by page, for campaigns to a segment. Never used on a request path."""

    class Meta:
        index_name = "by_merchant"
        projection = IncludeProjection(["tier", "last_purchase_at", "birthday", "status"])

    gsi_merchant = UnicodeAttribute(hash_key=True)
    member_id = UnicodeAttribute(range_key=True)


class MemberItem(_Base):
    """pk = '<merchant id>#<member id>', sk = 'MEMBER'. Personal data only as ciphertext."""

    table_env = "members_table"

    class Meta:
        table_name = "unbound"

    merchant_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    gsi_merchant = UnicodeAttribute(null=True)  # = merchant_id on member items: the by_merchant index
    by_merchant = MembersByMerchant()
    status = UnicodeAttribute(default="active")
    phone_enc = UnicodeAttribute()
    phone_hash = UnicodeAttribute()
    name_enc = UnicodeAttribute(null=True)
    email_enc = UnicodeAttribute(null=True)
    card_number = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    language = UnicodeAttribute(default="ru")
    timezone = UnicodeAttribute(null=True)
    birthday = UnicodeAttribute(null=True)  # YYYY-MM-DD; not secret, needed for the birthday index
    tier = UnicodeAttribute(null=True)
    # the wallet: lots by bucket key, debt, and the balance they add up to
    lots = MapAttribute(default=dict)  # type: ignore[var-annotated,no-untyped-call]
    debt = NumberAttribute(default=0)
    balance = NumberAttribute(default=0)
    # running totals (never decrease except by refunds)
    earned_total = NumberAttribute(default=0)
    spent_total = NumberAttribute(default=0)
    purchases_count = NumberAttribute(default=0)
    spend_total_kopecks = NumberAttribute(default=0)
    last_purchase_at = UTCDateTimeAttribute(null=True)
    # tiers: qualifying totals by month ("2026-11"), and the review schedule
    spend_by_month = MapAttribute(default=dict)  # type: ignore[var-annotated,no-untyped-call]
    earned_by_month = MapAttribute(default=dict)  # type: ignore[var-annotated,no-untyped-call]
    tier_review_on = UnicodeAttribute(null=True)
    grace_until = UnicodeAttribute(null=True)
    paid_tier = UnicodeAttribute(null=True)
    paid_until = UnicodeAttribute(null=True)
    # referrals and stamp cards
    referral_code = UnicodeAttribute(null=True)
    referred_by = UnicodeAttribute(null=True)
    referral_done = BooleanAttribute(default=False)
    stamps = MapAttribute(default=dict)  # type: ignore[var-annotated,no-untyped-call]
    # notifications: consent per channel (sms, push, email) and for marketing
    consents = MapAttribute(default=dict)  # type: ignore[var-annotated,no-untyped-call]
    version = NumberAttribute(default=0)  # optimistic concurrency: every write bumps it


class LookupItem(_Base):
    """pk = 'PHONE#<merchant>#<hmac>' or 'CARD#<merchant>#<number>', sk = 'LOOKUP' -> member.

    Written in the same transaction as the member, with attribute_not_exists: uniqueness per merchant.
    """

    table_env = "members_table"

    class Meta:
        table_name = "unbound"

    member_id = UnicodeAttribute()


# ---- ledger table --------------------------------------------------------------------------
class LedgerEntryItem(_Base):
    """pk = '<merchant id>#<member id>', sk = '<ISO time>#<entry id>'. Immutable once written."""

    table_env = "ledger_table"

    class Meta:
        table_name = "unbound"

    entry_id = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    points = NumberAttribute()
    balance_after = NumberAttribute()
    operation = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    lot_key = UnicodeAttribute(null=True)
    lot_points = NumberAttribute(null=True)
    allocation = JSONAttribute(null=True)
    details = JSONAttribute(default=dict)


# ---- operations table ----------------------------------------------------------------------
class OperationItem(_Base):
    """The record that makes an operation happen once: pk = '<merchant>#<kind>#<client id>',
    sk = 'OP'. Created in the same transaction as the ledger entry it causes."""

    table_env = "operations_table"

    class Meta:
        table_name = "unbound"

    kind = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    member_key = UnicodeAttribute()
    request_hash = UnicodeAttribute()
    status = UnicodeAttribute(default="done")
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    response = JSONAttribute(default=dict)
    state = JSONAttribute(default=dict)  # what later operations need (refunded so far, allocation, ...)
    version = NumberAttribute(default=0)


def as_plain_map(value: Any) -> dict[str, Any]:
    """A raw MapAttribute read back from DynamoDB as a plain dict of Python values."""
    if isinstance(value, MapAttribute):
        return dict(value.as_dict())  # type: ignore[no-untyped-call]
    return dict(value or {})


class ExpiryQueueItem(_Base):
    """pk = 'EXPQ#<expiry date>#<shard>', sk = '<merchant>#<member>': a member with a bucket that
    expires on that date. The expiry job queries these (no scan) and deletes each when done."""

    table_env = "operations_table"

    class Meta:
        table_name = "unbound"


class TierQueueItem(_Base):
    """pk = 'TIERQ#<date>#<shard>', sk = '<merchant>#<member>': the member's tier is due for review
    (or a paid membership lapses) on that date. Stale reminders are deleted when read."""

    table_env = "operations_table"

    class Meta:
        table_name = "unbound"


class BirthdayItem(_Base):
    """pk = 'BDAY#<MM-DD>#<shard>', sk = '<merchant>#<member>': who has a birthday on that day.
    The birthday job reads only today's (and yesterday's) partitions: no scan."""

    table_env = "members_table"

    class Meta:
        table_name = "unbound"


class HoldQueueItem(_Base):
    """pk = 'HOLDQ#<hour of expiry>', sk = '<expiry time>#<merchant>#<redemption id>': an open
    hold. Confirm and cancel delete it; the hold-release job lapses what is left."""

    table_env = "operations_table"

    class Meta:
        table_name = "unbound"

    merchant_id = UnicodeAttribute()
    redemption_id = UnicodeAttribute()


class RewardItem(_Base):
    """pk = merchant id, sk = 'REWARD#<reward id>': the merchant's catalog."""

    table_env = "merchants_table"

    class Meta:
        table_name = "unbound"

    reward_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    cost_points = NumberAttribute()
    coupon_valid_days = NumberAttribute()
    active = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute()


class CouponItem(_Base):
    """pk = 'COUPON#<merchant>#<code>', sk = 'COUPON': what the till looks up by promo code.
    A copy with pk = member key, sk = 'COUPON#<issued at>#<code>' lists a member's coupons; both
    change together."""

    table_env = "members_table"

    class Meta:
        table_name = "unbound"

    code = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    member_key = UnicodeAttribute()
    reward_id = UnicodeAttribute()
    reward_name = UnicodeAttribute()
    points_spent = NumberAttribute()
    status = UnicodeAttribute(default="issued")
    issued_at = UTCDateTimeAttribute()
    expires_on = UnicodeAttribute()
    used_at = UTCDateTimeAttribute(null=True)
    used_transaction_id = UnicodeAttribute(null=True)
    store_id = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)


class TemplateItem(_Base):
    """pk = merchant id, sk = 'TEMPLATE#<kind>#<channel>#<language>': a merchant's own wording."""

    table_env = "merchants_table"

    class Meta:
        table_name = "unbound"

    kind = UnicodeAttribute()
    channel = UnicodeAttribute()
    language = UnicodeAttribute()
    subject = UnicodeAttribute(null=True)
    body = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()


class DeviceItem(_Base):
    """pk = member key, sk = 'DEVICE#<hash of the push token>': a phone with the merchant's app."""

    table_env = "members_table"

    class Meta:
        table_name = "unbound"

    platform = UnicodeAttribute()
    endpoint_arn = UnicodeAttribute()
    enabled = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute()


class DeliveryItem(_Base):
    """pk = 'DELIVERY#<event id>#<channel>', sk = 'D': makes a delivery happen once."""

    table_env = "notifications_table"

    class Meta:
        table_name = "unbound"

    status = UnicodeAttribute()  # sending, sent, failed
    message_id = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    expires_at = NumberAttribute(null=True)  # TTL: cleanup only


class DeliveryLogItem(_Base):
    """pk = 'DLOG#<merchant>#<member>', sk = '<time>#<event id>#<channel>': what was sent, deferred
    or skipped, and why. No message text and no address: the log is for support, not for PII."""

    table_env = "notifications_table"

    class Meta:
        table_name = "unbound"

    event_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    channel = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # sent, deferred, skipped, failed
    reason = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    expires_at = NumberAttribute(null=True)


class DeferredItem(_Base):
    """pk = 'DEFER#<hour>', sk = '<due time>#<event id>#<channel>': a message waiting for quiet
    hours to end. The deferred job reads only the hours that have come."""

    table_env = "notifications_table"

    class Meta:
        table_name = "unbound"

    event = JSONAttribute()
    channel = UnicodeAttribute()
    due_at = UTCDateTimeAttribute()


class CapItem(_Base):
    """pk = 'CAP#<member key>#<local date>', sk = 'C': marketing messages sent that day."""

    table_env = "notifications_table"

    class Meta:
        table_name = "unbound"

    sent = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


class CampaignItem(_Base):
    """pk = 'CAMPAIGN#<merchant>#<campaign id>', sk = 'C': a message to a segment and its progress."""

    table_env = "notifications_table"

    class Meta:
        table_name = "unbound"

    campaign_id = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    request = JSONAttribute()
    status = UnicodeAttribute(default="queued")  # queued, running, done
    request_hash = UnicodeAttribute()
    targeted = NumberAttribute(default=0)
    queued = NumberAttribute(default=0)
    pages = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)


class GiftCardOrderItem(_Base):
    """pk = 'ORDER#<merchant>#<order id>', sk = 'ORDER': a SevenDar order. Personal data (recipient,
    address, greeting) and the printed codes only as ciphertext."""

    table_env = "gift_cards_table"

    class Meta:
        table_name = "unbound"

    merchant_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    status = UnicodeAttribute()
    quantity = NumberAttribute()
    nominal_kopecks = NumberAttribute(null=True)
    design_id = UnicodeAttribute(null=True)
    artwork_url = UnicodeAttribute(null=True)
    delivery_method = UnicodeAttribute()
    private_enc = UnicodeAttribute()  # recipient, address, greeting, codes (JSON, encrypted)
    payment = JSONAttribute()
    request_hash = UnicodeAttribute()
    sevendar_order_id = UnicodeAttribute(null=True)
    tracking_number = UnicodeAttribute(null=True)
    failure_reason = UnicodeAttribute(null=True)
    history = JSONAttribute(default=list)
    card_numbers = JSONAttribute(default=list)  # plastic loyalty cards: not secret
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    version = NumberAttribute(default=0)


class GiftCardItem(_Base):
    """pk = 'GC#<merchant>#<keyed hash of the code>', sk = 'CARD': stored value. The code itself is a
    bearer secret and is not stored in clear; the till looks it up by its hash."""

    table_env = "gift_cards_table"

    class Meta:
        table_name = "unbound"

    merchant_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    code_hint = UnicodeAttribute()  # last four characters, for support
    status = UnicodeAttribute()  # pending, active, void
    nominal_kopecks = NumberAttribute()
    balance_kopecks = NumberAttribute()
    expires_on = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class GiftCardEntryItem(_Base):
    """pk = 'GCL#<merchant>#<card hash>', sk = '<time>#<entry id>': the card's own ledger."""

    table_env = "gift_cards_table"

    class Meta:
        table_name = "unbound"

    merchant_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # issued, redeemed, voided
    amount_kopecks = NumberAttribute()
    balance_after = NumberAttribute()
    reference = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class WebhookEventItem(_Base):
    """pk = 'WEBHOOK#<provider>#<event id>', sk = 'W': a webhook seen; a replay finds it."""

    table_env = "gift_cards_table"

    class Meta:
        table_name = "unbound"

    received_at = UTCDateTimeAttribute()
    expires_at = NumberAttribute(null=True)


ALL_MODELS: tuple[type[_Base], ...] = (
    MerchantItem,
    ProgramVersionItem,
    ApiKeyItem,
    MemberItem,
    LookupItem,
    LedgerEntryItem,
    OperationItem,
    ExpiryQueueItem,
    TierQueueItem,
    BirthdayItem,
    HoldQueueItem,
    RewardItem,
    CouponItem,
    TemplateItem,
    DeviceItem,
    DeliveryItem,
    DeliveryLogItem,
    DeferredItem,
    CapItem,
    CampaignItem,
    GiftCardOrderItem,
    GiftCardItem,
    GiftCardEntryItem,
    WebhookEventItem,
)


def bind_tables(tables: TableNames) -> None:
    for model in ALL_MODELS:
        model.Meta.table_name = getattr(tables, model.table_env)
        model._connection = None  # PynamoDB caches the connection with the old name


class SignInCodeItem(_Base):
    """pk = 'OTP#<merchant>#<phone hash>', sk = 'OTP': the current one-time code, stored as a keyed
    hash, with its expiry and the attempts left."""

    table_env = "operations_table"

    class Meta:
        table_name = "unbound"

    member_id = UnicodeAttribute()
    code_hash = UnicodeAttribute()
    expires_at = NumberAttribute()  # epoch seconds; also the TTL
    attempts = NumberAttribute(default=0)


class SessionItem(_Base):
    """pk = 'SESSION#<session id>', sk = 'S': a signed-in member's session; the refresh token only
    as a hash. Signing out or erasure revokes it, and the authorizer checks it."""

    table_env = "operations_table"

    class Meta:
        table_name = "unbound"

    merchant_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    refresh_hash = UnicodeAttribute()
    revoked = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    refreshed_at = UTCDateTimeAttribute(null=True)
    expires_at = NumberAttribute()  # epoch seconds; also the TTL
    version = NumberAttribute(default=0)


class RateItem(_Base):
    """pk = 'RATE#<what>#<who>#<window>', sk = 'R': how many times in the window (abuse limits)."""

    table_env = "operations_table"

    class Meta:
        table_name = "unbound"

    hits = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


ALL_MODELS = (*ALL_MODELS, SignInCodeItem, SessionItem, RateItem)
