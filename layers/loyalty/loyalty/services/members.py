"""Enrollment and look-up of members. Personal data is encrypted before it is stored."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from loyalty.api.members import MemberView
from loyalty.data.models import LookupItem, MemberItem, as_plain_map
from loyalty.domain.wallet import Wallet
from loyalty.errors import InvalidRequest, NotFound
from loyalty.pii.cipher import PiiCipher
from loyalty.pii.contact import mask_email, mask_phone, normalise_phone

MEMBER_SK = "MEMBER"
LOOKUP_SK = "LOOKUP"
_CARD_ATTEMPTS = 5


def member_key(merchant_id: str, member_id: str) -> str:
    return f"{merchant_id}#{member_id}"


def phone_lookup_pk(merchant_id: str, phone_hash: str) -> str:
    return f"PHONE#{merchant_id}#{phone_hash}"


def card_lookup_pk(merchant_id: str, card_number: str) -> str:
    return f"CARD#{merchant_id}#{card_number}"


def referral_lookup_pk(merchant_id: str, code: str) -> str:
    return f"REF#{merchant_id}#{code.upper()}"


def ensure_active(member: MemberItem) -> None:
    """Erased or closed members are not found: they neither earn nor spend."""
    if member.status != "active":
        raise NotFound("member not found", code="member_not_found")


def wallet_of(member: MemberItem) -> Wallet:
    lots = {raw: int(points) for raw, points in as_plain_map(member.lots).items()}
    return Wallet(lots, int(member.debt))


def lookup(pk: str) -> str | None:
    """The member id a phone, card or referral look-up item points to."""
    try:
        return str(LookupItem.get(pk, LOOKUP_SK).member_id)
    except DoesNotExist:
        return None


def get_member(merchant_id: str, member_id: str, *, consistent: bool = True) -> MemberItem:
    try:
        return MemberItem.get(member_key(merchant_id, member_id), MEMBER_SK, consistent_read=consistent)
    except DoesNotExist as exc:
        raise NotFound("member not found", code="member_not_found") from exc


def find_member_id(
    merchant_id: str, *, phone: str | None = None, card_number: str | None = None, cipher: PiiCipher
) -> str:
    if phone is not None:
        pk = phone_lookup_pk(merchant_id, cipher.lookup_hash("phone", normalise_phone(phone)))
    elif card_number is not None:
        pk = card_lookup_pk(merchant_id, card_number)
    else:
        raise InvalidRequest("give phone or card", details={"fields": ["phone", "card"]})
    member_id = lookup(pk)
    if member_id is None:
        raise NotFound("member not found", code="member_not_found")
    return member_id


def resolve_member(
    merchant_id: str, *, member_id: str | None, card_number: str | None, phone: str | None, cipher: PiiCipher
) -> str:
    """The member a POS or partner names by id, card or phone (exactly one)."""
    given = [value for value in (member_id, card_number, phone) if value]
    if len(given) != 1:
        raise InvalidRequest(
            "identify the member by exactly one of member_id, card_number, phone",
            details={"fields": ["member_id", "card_number", "phone"]},
        )
    if member_id:
        return member_id
    return find_member_id(merchant_id, phone=phone, card_number=card_number, cipher=cipher)


def view(member: MemberItem, cipher: PiiCipher, now: datetime) -> MemberView:
    ensure_active(member)  # an erased member has nothing left to show
    key = str(member.pk)
    wallet = wallet_of(member)
    today = now.date()
    email = cipher.decrypt(member.email_enc, context=key) if member.email_enc else None
    return MemberView(
        member_id=member.member_id,
        card_number=member.card_number,
        phone=mask_phone(cipher.decrypt(member.phone_enc, context=key)),
        name=cipher.decrypt(member.name_enc, context=key) if member.name_enc else None,
        email=mask_email(email) if email else None,
        birthday=member.birthday,
        language=member.language,
        status=member.status,
        tier=member.tier,
        referral_code=member.referral_code,
        balance=wallet.balance,
        spendable=max(wallet.spendable(today), 0),
        pending=wallet.pending(today),
        created_at=member.created_at,
    )
