"""Enrollment and look-up of members. Personal data is encrypted before it is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from loyalty.api.members import EnrollRequest, MemberView
from loyalty.data.models import LookupItem, MemberItem, as_plain_map
from loyalty.domain.cards import is_valid_card_number, new_card_number
from loyalty.domain.wallet import Wallet
from loyalty.errors import Conflict, InvalidRequest, NotFound
from loyalty.ids import new_id
from loyalty.pii.cipher import PiiCipher
from loyalty.pii.contact import mask_email, mask_phone, normalise_email, normalise_phone

MEMBER_SK = "MEMBER"
LOOKUP_SK = "LOOKUP"
_CARD_ATTEMPTS = 5


def member_key(merchant_id: str, member_id: str) -> str:
    return f"{merchant_id}#{member_id}"


def phone_lookup_pk(merchant_id: str, phone_hash: str) -> str:
    return f"PHONE#{merchant_id}#{phone_hash}"


def card_lookup_pk(merchant_id: str, card_number: str) -> str:
    return f"CARD#{merchant_id}#{card_number}"


@dataclass(frozen=True)
class Enrolled:
    member: MemberItem
    created: bool


def wallet_of(member: MemberItem) -> Wallet:
    lots = {raw: int(points) for raw, points in as_plain_map(member.lots).items()}
    return Wallet(lots, int(member.debt))


def enroll(merchant_id: str, request: EnrollRequest, now: datetime, cipher: PiiCipher) -> MemberItem:
    phone = normalise_phone(request.phone)
    email = normalise_email(request.email) if request.email else None
    if request.card_number is not None and not is_valid_card_number(request.card_number):
        raise InvalidRequest("card_number fails its check digit", details={"field": "card_number"})
    phone_hash = cipher.lookup_hash("phone", phone)
    for _ in range(_CARD_ATTEMPTS):
        member_id = new_id("mbr")
        key = member_key(merchant_id, member_id)
        card_number = request.card_number or new_card_number()
        member = MemberItem(
            key,
            MEMBER_SK,
            merchant_id=merchant_id,
            member_id=member_id,
            phone_enc=cipher.encrypt(phone, context=key),
            phone_hash=phone_hash,
            name_enc=cipher.encrypt(request.name, context=key) if request.name else None,
            email_enc=cipher.encrypt(email, context=key) if email else None,
            card_number=card_number,
            created_at=now,
            language=request.language,
            timezone=request.timezone,
            birthday=request.birthday.isoformat() if request.birthday else None,
            lots={},
            debt=0,
            balance=0,
            version=0,
        )
        phone_lookup = LookupItem(phone_lookup_pk(merchant_id, phone_hash), LOOKUP_SK, member_id=member_id)
        card_lookup = LookupItem(card_lookup_pk(merchant_id, card_number), LOOKUP_SK, member_id=member_id)
        try:
            with TransactWrite(connection=Connection()) as tx:
                tx.save(member, condition=MemberItem.pk.does_not_exist())
                tx.save(phone_lookup, condition=LookupItem.pk.does_not_exist())
                tx.save(card_lookup, condition=LookupItem.pk.does_not_exist())
        except TransactWriteError as exc:
            reasons = [getattr(r, "code", None) for r in (exc.cancellation_reasons or [])]
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                existing = _lookup(phone_lookup.pk)
                raise Conflict(
                    "a member with this phone is already enrolled",
                    code="member_exists",
                    details={"member_id": existing},
                ) from exc
            if len(reasons) > 2 and reasons[2] == "ConditionalCheckFailed":
                if request.card_number is not None:
                    raise Conflict("this card is linked to another member", code="card_in_use") from exc
                continue  # a generated number collided: draw another
            raise
        return member
    raise Conflict("could not allocate a card number; try again", code="card_allocation_failed")


def _lookup(pk: str) -> str | None:
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
    member_id = _lookup(pk)
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
        balance=wallet.balance,
        spendable=max(wallet.spendable(today), 0),
        pending=wallet.pending(today),
        created_at=member.created_at,
    )
