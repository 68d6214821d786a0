"""The credentials table: merchants' API keys, staff accounts and partner credentials.

Kept apart from the merchants table so that only the functions that handle credentials may write
them (template.yaml grants this table per function and per key prefix): a function that records
purchases can neither mint a key nor read one.

Keys:
- API key          pk ``KEY#<key id>``              sk ``KEY``       (GSI ``by_merchant``: ``KEY#<key id>``)
- key secret       pk ``APIKEY#<sha256 of secret>`` sk ``APIKEY``    (the secret itself is never stored)
- staff member     pk ``STAFF#<staff id>``          sk ``STAFF``     (GSI ``by_merchant``: ``STAFF#<staff id>``)
- staff e-mail     pk ``STAFFEMAIL#<keyed hash>``   sk ``STAFFEMAIL`` (one account per e-mail address)
- partner          pk ``PARTNER#<partner id>``      sk ``PARTNER``   (GSI ``by_merchant``: ``PARTNER#<partner id>``)

The ``by_merchant`` index (``gsi_merchant``, ``gsi_sort``) lists a merchant's keys, staff and
partners for the owner; like every GSI it is eventually consistent, so a list read right after a
change may lag by a moment. Every check of a credential reads its own item by key, consistently
enough (a write is visible to reads within about a second).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from loyalty.data.base import Item, table_base
from loyalty.data.transaction import Transaction
from loyalty.domain.access import Role, Scope
from loyalty.errors import NotFound

KEY_SK = "KEY"
SECRET_SK = "APIKEY"  # noqa: S105 - a key prefix, not a secret
STAFF_SK = "STAFF"
EMAIL_SK = "STAFFEMAIL"
PARTNER_SK = "PARTNER"
BY_MERCHANT = "by_merchant"


@table_base
class _CredentialsTable(Item):
    table_env = "credentials_table"

    class Meta:
        table_name = "unbound"


# ---- API keys ------------------------------------------------------------------------------------
class _KeysByMerchant(GlobalSecondaryIndex["KeyItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = BY_MERCHANT
        projection = AllProjection()

    gsi_merchant = UnicodeAttribute(hash_key=True)
    gsi_sort = UnicodeAttribute(range_key=True)


class KeyItem(_CredentialsTable):
    merchant_id = UnicodeAttribute()
    key_id = UnicodeAttribute()
    name = UnicodeAttribute()
    scope = UnicodeAttribute()
    status = UnicodeAttribute(default="active")
    hint = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    previous_hash = UnicodeAttribute(null=True)
    previous_valid_until = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(null=True)
    rotated_at = UTCDateTimeAttribute(null=True)
    revoked_at = UTCDateTimeAttribute(null=True)
    last_used_at = UTCDateTimeAttribute(null=True)
    gsi_merchant = UnicodeAttribute()
    gsi_sort = UnicodeAttribute()
    by_merchant = _KeysByMerchant()


class KeySecretItem(_CredentialsTable):
    merchant_id = UnicodeAttribute()
    key_id = UnicodeAttribute()
    scope = UnicodeAttribute()
    valid_until = UTCDateTimeAttribute(null=True)  # a rotated-out secret's grace period
    expires_at = NumberAttribute(null=True)  # the TTL that cleans it up afterwards


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    merchant_id: str
    name: str
    scope: Scope
    status: str
    hint: str
    secret_hash: str
    created_at: datetime
    created_by: str | None = None
    previous_hash: str | None = None
    previous_valid_until: datetime | None = None
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass(frozen=True)
class KeySecret:
    """What a presented secret unlocks."""

    merchant_id: str
    key_id: str
    scope: Scope
    valid_until: datetime | None


def _key_pk(key_id: str) -> str:
    return f"KEY#{key_id}"


def _secret_pk(secret_hash: str) -> str:
    return f"APIKEY#{secret_hash}"


def _key(item: KeyItem) -> ApiKey:
    return ApiKey(
        key_id=item.key_id,
        merchant_id=item.merchant_id,
        name=item.name,
        scope=Scope(item.scope),
        status=item.status,
        hint=item.hint,
        secret_hash=item.secret_hash,
        created_at=item.created_at,
        created_by=item.created_by,
        previous_hash=item.previous_hash,
        previous_valid_until=item.previous_valid_until,
        rotated_at=item.rotated_at,
        revoked_at=item.revoked_at,
        last_used_at=item.last_used_at,
    )


def _secret_item(key: ApiKey, secret_hash: str) -> KeySecretItem:
    return KeySecretItem(
        _secret_pk(secret_hash), SECRET_SK, merchant_id=key.merchant_id, key_id=key.key_id, scope=key.scope.value
    )


def stage_new_key(tx: Transaction, key: ApiKey) -> None:
    """A new key and its secret (``AlreadyExists("api key")`` if either exists)."""
    tx.create(
        KeyItem(
            _key_pk(key.key_id),
            KEY_SK,
            merchant_id=key.merchant_id,
            key_id=key.key_id,
            name=key.name,
            scope=key.scope.value,
            status="active",
            hint=key.hint,
            secret_hash=key.secret_hash,
            created_at=key.created_at,
            created_by=key.created_by,
            gsi_merchant=key.merchant_id,
            gsi_sort=_key_pk(key.key_id),
        ),
        name="api key",
    )
    tx.create(_secret_item(key, key.secret_hash), name="api key")


def create_key(key: ApiKey) -> None:
    tx = Transaction()
    stage_new_key(tx, key)
    tx.commit()


def key_secret(secret_hash: str) -> KeySecret | None:
    try:
        item = KeySecretItem.get(_secret_pk(secret_hash), SECRET_SK)
    except DoesNotExist:
        return None
    return KeySecret(item.merchant_id, item.key_id, Scope(item.scope), item.valid_until)


def get_key(merchant_id: str, key_id: str) -> ApiKey:
    """The merchant's key (another merchant's key is as unknown as a missing one)."""
    try:
        item = KeyItem.get(_key_pk(key_id), KEY_SK, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("no such API key", code="key_not_found") from exc
    if item.merchant_id != merchant_id:
        raise NotFound("no such API key", code="key_not_found")
    return _key(item)


def keys_of(merchant_id: str) -> list[ApiKey]:
    query = KeyItem.by_merchant.query(merchant_id, KeyItem.gsi_sort.startswith("KEY#"))
    return sorted((_key(item) for item in query), key=lambda key: key.created_at)


def rotate_key(key: ApiKey, new_hash: str, hint: str, now: datetime, old_valid_until: datetime | None) -> None:
    """Give the key a new secret; the old one stays valid until ``old_valid_until`` (None: not at
    all). A secret rotated out earlier stops now: a key has at most two secrets at a time.
    ``Stale("api key")`` if the key was revoked or rotated meanwhile."""
    tx = Transaction()
    tx.create(_secret_item(key, new_hash), name="api key")
    tx.update(
        KeyItem(_key_pk(key.key_id), KEY_SK),
        [
            KeyItem.secret_hash.set(new_hash),
            KeyItem.hint.set(hint),
            KeyItem.rotated_at.set(now),
            KeyItem.previous_hash.set(key.secret_hash) if old_valid_until else KeyItem.previous_hash.remove(),
            KeyItem.previous_valid_until.set(old_valid_until)
            if old_valid_until
            else KeyItem.previous_valid_until.remove(),
        ],
        condition=(KeyItem.status == "active") & (KeyItem.secret_hash == key.secret_hash),
        name="api key",
    )
    old = KeySecretItem(_secret_pk(key.secret_hash), SECRET_SK)
    if old_valid_until:
        tx.update(
            old,
            [KeySecretItem.valid_until.set(old_valid_until), KeySecretItem.expires_at.set(_epoch(old_valid_until))],
        )
    else:
        tx.delete(old)
    if key.previous_hash:
        tx.delete(KeySecretItem(_secret_pk(key.previous_hash), SECRET_SK))
    tx.commit()


def revoke_key(key: ApiKey, now: datetime) -> None:
    """Every secret of the key stops working in the same write. ``Stale("api key")`` if it was
    revoked or rotated meanwhile."""
    tx = Transaction()
    tx.update(
        KeyItem(_key_pk(key.key_id), KEY_SK),
        [
            KeyItem.status.set("revoked"),
            KeyItem.revoked_at.set(now),
            KeyItem.previous_hash.remove(),
            KeyItem.previous_valid_until.remove(),
        ],
        condition=(KeyItem.status == "active") & (KeyItem.secret_hash == key.secret_hash),
        name="api key",
    )
    tx.delete(KeySecretItem(_secret_pk(key.secret_hash), SECRET_SK))
    if key.previous_hash:
        tx.delete(KeySecretItem(_secret_pk(key.previous_hash), SECRET_SK))
    tx.commit()


def touch_key(key_id: str, now: datetime, not_since: datetime) -> bool:
    """Record the key's use at ``now`` unless it was recorded after ``not_since`` (so the stored
    time moves at most once per interval, however many containers use the key)."""
    item = KeyItem(_key_pk(key_id), KEY_SK)
    try:
        item.update(
            actions=[KeyItem.last_used_at.set(now)],
            condition=KeyItem.pk.exists()
            & (KeyItem.last_used_at.does_not_exist() | (KeyItem.last_used_at < not_since)),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


# ---- staff -----------------------------------------------------------------------------------------
class _StaffByMerchant(GlobalSecondaryIndex["StaffItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = BY_MERCHANT
        projection = AllProjection()

    gsi_merchant = UnicodeAttribute(hash_key=True)
    gsi_sort = UnicodeAttribute(range_key=True)


class StaffItem(_CredentialsTable):
    merchant_id = UnicodeAttribute()
    staff_id = UnicodeAttribute()
    role = UnicodeAttribute()
    status = UnicodeAttribute()  # invited | active | removed
    email_enc = UnicodeAttribute()
    email_hash = UnicodeAttribute()
    name_enc = UnicodeAttribute(null=True)
    invited_at = UTCDateTimeAttribute()
    invited_by = UnicodeAttribute(null=True)
    activated_at = UTCDateTimeAttribute(null=True)
    removed_at = UTCDateTimeAttribute(null=True)
    signed_out_at = NumberAttribute(default=0)  # epoch seconds: tokens issued until then are refused
    gsi_merchant = UnicodeAttribute()
    gsi_sort = UnicodeAttribute()
    by_merchant = _StaffByMerchant()


class StaffEmailItem(_CredentialsTable):
    staff_id = UnicodeAttribute()
    merchant_id = UnicodeAttribute()


@dataclass(frozen=True)
class Staff:
    staff_id: str
    merchant_id: str
    role: Role
    status: str
    email_enc: str
    email_hash: str
    invited_at: datetime
    name_enc: str | None = None
    invited_by: str | None = None
    activated_at: datetime | None = None
    removed_at: datetime | None = None
    signed_out_at: int = 0


def _staff_pk(staff_id: str) -> str:
    return f"STAFF#{staff_id}"


def _email_pk(email_hash: str) -> str:
    return f"STAFFEMAIL#{email_hash}"


def _staff(item: StaffItem) -> Staff:
    return Staff(
        staff_id=item.staff_id,
        merchant_id=item.merchant_id,
        role=Role(item.role),
        status=item.status,
        email_enc=item.email_enc,
        email_hash=item.email_hash,
        invited_at=item.invited_at,
        name_enc=item.name_enc,
        invited_by=item.invited_by,
        activated_at=item.activated_at,
        removed_at=item.removed_at,
        signed_out_at=int(item.signed_out_at or 0),
    )


def create_staff(staff: Staff) -> None:
    """A new staff member and the claim on their e-mail (``AlreadyExists("email")`` when another
    account has it)."""
    tx = Transaction()
    tx.create(
        StaffEmailItem(_email_pk(staff.email_hash), EMAIL_SK, staff_id=staff.staff_id, merchant_id=staff.merchant_id),
        name="email",
    )
    tx.create(
        StaffItem(
            _staff_pk(staff.staff_id),
            STAFF_SK,
            merchant_id=staff.merchant_id,
            staff_id=staff.staff_id,
            role=staff.role.value,
            status=staff.status,
            email_enc=staff.email_enc,
            email_hash=staff.email_hash,
            name_enc=staff.name_enc,
            invited_at=staff.invited_at,
            invited_by=staff.invited_by,
            gsi_merchant=staff.merchant_id,
            gsi_sort=_staff_pk(staff.staff_id),
        ),
        name="staff",
    )
    tx.commit()


def forget_staff(staff: Staff) -> None:
    """Undo ``create_staff`` (an invitation the user pool refused)."""
    tx = Transaction()
    tx.delete(StaffEmailItem(_email_pk(staff.email_hash), EMAIL_SK))
    tx.delete(StaffItem(_staff_pk(staff.staff_id), STAFF_SK))
    tx.commit()


def get_staff(staff_id: str) -> Staff | None:
    try:
        return _staff(StaffItem.get(_staff_pk(staff_id), STAFF_SK))
    except DoesNotExist:
        return None


def staff_id_for_email(email_hash: str) -> str | None:
    try:
        return str(StaffEmailItem.get(_email_pk(email_hash), EMAIL_SK).staff_id)
    except DoesNotExist:
        return None


def staff_of(merchant_id: str) -> list[Staff]:
    query = StaffItem.by_merchant.query(merchant_id, StaffItem.gsi_sort.startswith("STAFF#"))
    return sorted((_staff(item) for item in query), key=lambda staff: staff.invited_at)


def _update_staff(staff_id: str, actions: list[Any], condition: Any) -> None:
    tx = Transaction()
    tx.update(StaffItem(_staff_pk(staff_id), STAFF_SK), actions, condition=condition, name="staff")
    tx.commit()


def activate_staff(staff_id: str, now: datetime) -> None:
    """The first sign-in of an invited member (nothing changes for an active one)."""
    _update_staff(
        staff_id,
        [StaffItem.status.set("active"), StaffItem.activated_at.set(now)],
        StaffItem.status == "invited",
    )


def set_role(staff_id: str, role: Role) -> None:
    _update_staff(staff_id, [StaffItem.role.set(role.value)], StaffItem.status != "removed")


def sign_out_staff(staff_id: str, at_epoch: int) -> None:
    """Tokens issued up to ``at_epoch`` stop working."""
    _update_staff(staff_id, [StaffItem.signed_out_at.set(at_epoch)], StaffItem.pk.exists())


def remove_staff(staff: Staff, now: datetime) -> None:
    """The account stops working and its e-mail is free again; the record stays (marked removed)
    so that the audit log can still say who did what."""
    tx = Transaction()
    tx.update(
        StaffItem(_staff_pk(staff.staff_id), STAFF_SK),
        [
            StaffItem.status.set("removed"),
            StaffItem.removed_at.set(now),
            StaffItem.signed_out_at.set(_epoch(now)),
        ],
        condition=StaffItem.status != "removed",
        name="staff",
    )
    tx.delete(StaffEmailItem(_email_pk(staff.email_hash), EMAIL_SK))
    tx.commit()


# ---- partner credentials --------------------------------------------------------------------------
class _PartnersByMerchant(GlobalSecondaryIndex["PartnerItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = BY_MERCHANT
        projection = AllProjection()

    gsi_merchant = UnicodeAttribute(hash_key=True)
    gsi_sort = UnicodeAttribute(range_key=True)


class PartnerItem(_CredentialsTable):
    merchant_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    name = UnicodeAttribute()
    status = UnicodeAttribute(default="active")
    secret_enc = UnicodeAttribute()  # the HMAC key, encrypted: it must be read back to verify
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(null=True)
    revoked_at = UTCDateTimeAttribute(null=True)
    gsi_merchant = UnicodeAttribute()
    gsi_sort = UnicodeAttribute()
    by_merchant = _PartnersByMerchant()


@dataclass(frozen=True)
class Partner:
    partner_id: str
    merchant_id: str
    name: str
    status: str
    secret_enc: str
    created_at: datetime
    created_by: str | None = None
    revoked_at: datetime | None = None


def _partner_pk(partner_id: str) -> str:
    return f"PARTNER#{partner_id}"


def _partner(item: PartnerItem) -> Partner:
    return Partner(
        item.partner_id,
        item.merchant_id,
        item.name,
        item.status,
        item.secret_enc,
        item.created_at,
        item.created_by,
        item.revoked_at,
    )


def create_partner(partner: Partner) -> None:
    tx = Transaction()
    tx.create(
        PartnerItem(
            _partner_pk(partner.partner_id),
            PARTNER_SK,
            merchant_id=partner.merchant_id,
            partner_id=partner.partner_id,
            name=partner.name,
            status="active",
            secret_enc=partner.secret_enc,
            created_at=partner.created_at,
            created_by=partner.created_by,
            gsi_merchant=partner.merchant_id,
            gsi_sort=_partner_pk(partner.partner_id),
        ),
        name="partner",
    )
    tx.commit()


def get_partner(partner_id: str) -> Partner | None:
    try:
        return _partner(PartnerItem.get(_partner_pk(partner_id), PARTNER_SK))
    except DoesNotExist:
        return None


def partners_of(merchant_id: str) -> list[Partner]:
    query = PartnerItem.by_merchant.query(merchant_id, PartnerItem.gsi_sort.startswith("PARTNER#"))
    return sorted((_partner(item) for item in query), key=lambda partner: partner.created_at)


def revoke_partner(partner_id: str, now: datetime) -> None:
    """``Stale("partner")`` when it was already revoked."""
    tx = Transaction()
    tx.update(
        PartnerItem(_partner_pk(partner_id), PARTNER_SK),
        [PartnerItem.status.set("revoked"), PartnerItem.revoked_at.set(now)],
        condition=PartnerItem.status == "active",
        name="partner",
    )
    tx.commit()


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())
