"""Finding members (by id, card, phone) and what the POS and the merchant see of one."""

from __future__ import annotations

from datetime import datetime

from loyalty.api.members import MemberView
from loyalty.data import members
from loyalty.domain.member import Member
from loyalty.errors import InvalidRequest, NotFound
from loyalty.pii.cipher import PiiCipher
from loyalty.pii.contact import mask_email, mask_phone, normalise_phone


def ensure_active(member: Member) -> None:
    """Erased or blocked members are not found by the till: they neither earn nor spend."""
    if not member.is_active:
        raise NotFound("member not found", code="member_not_found")


def get_active(merchant_id: str, member_id: str, *, consistent: bool = False) -> Member:
    member = members.get(merchant_id, member_id, consistent=consistent)
    ensure_active(member)
    return member


def find_member_id(
    merchant_id: str, *, phone: str | None = None, card_number: str | None = None, cipher: PiiCipher
) -> str:
    if phone is not None:
        member_id = members.find_by_phone(merchant_id, cipher.lookup_hash("phone", normalise_phone(phone)))
    elif card_number is not None:
        member_id = members.find_by_card(merchant_id, card_number)
    else:
        raise InvalidRequest("give phone or card", details={"fields": ["phone", "card"]})
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


def view(member: Member, cipher: PiiCipher, now: datetime) -> MemberView:
    ensure_active(member)  # an erased member has nothing left to show
    wallet, contact, today = member.wallet, member.contact, now.date()
    email = cipher.decrypt(contact.email_enc, context=member.ref) if contact.email_enc else None
    return MemberView(
        member_id=member.member_id,
        card_number=member.card_number,
        phone=mask_phone(cipher.decrypt(contact.phone_enc, context=member.ref)),
        name=cipher.decrypt(contact.name_enc, context=member.ref) if contact.name_enc else None,
        email=mask_email(email) if email else None,
        birthday=member.birthday,
        language=member.language,
        status=member.status.value,
        tier=member.tier.tier,
        referral_code=member.referral.code,
        balance=wallet.balance,
        spendable=max(wallet.spendable(today), 0),
        pending=wallet.pending(today),
        created_at=member.created_at,
    )
