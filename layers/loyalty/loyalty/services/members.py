"""Finding members (by id, card, phone, email) and what the POS and the merchant see of one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from loyalty.api.me import NextTier
from loyalty.api.members import MemberView
from loyalty.data import members
from loyalty.domain.member import Member, ensure_can_transact, ensure_exists
from loyalty.domain.membership import qualifying_total
from loyalty.domain.program import Program
from loyalty.errors import InvalidRequest, NotFound
from loyalty.pii.cipher import PiiCipher
from loyalty.pii.contact import mask_email, mask_phone, normalise_email, normalise_phone


def get_active(
    merchant_id: str, member_id: str, *, consistent: bool = False, check: Callable[[Member], None] | None = None
) -> Member:
    """A member who may earn and spend: erased ones are not found, blocked ones are refused with
    their reason (``member_blocked``). ``check`` sees the member first (``member_lookup.Found.check``)."""
    member = members.get(merchant_id, member_id, consistent=consistent)
    if check is not None:
        check(member)
    ensure_can_transact(member)
    return member


def get_existing(merchant_id: str, member_id: str, *, consistent: bool = True) -> Member:
    """A member the shop can see and look after (blocked ones too; erased ones are gone)."""
    member = members.get(merchant_id, member_id, consistent=consistent)
    ensure_exists(member)
    return member


def find_member_id(
    merchant_id: str,
    *,
    phone: str | None = None,
    card_number: str | None = None,
    email: str | None = None,
    cipher: PiiCipher,
) -> str:
    if phone is not None:
        member_id = members.find_by_phone(merchant_id, cipher.lookup_hash("phone", normalise_phone(phone)))
    elif card_number is not None:
        member_id = members.find_by_card(merchant_id, card_number)
    elif email is not None:
        member_id = members.find_by_email(merchant_id, cipher.lookup_hash("email", normalise_email(email)))
    else:
        raise InvalidRequest("give phone, card or email", details={"fields": ["phone", "card", "email"]})
    if member_id is None:
        raise NotFound("member not found", code="member_not_found")
    return member_id


def view(member: Member, cipher: PiiCipher, now: datetime) -> MemberView:
    ensure_exists(member)  # an erased member has nothing left to show
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
        cards=list(member.all_cards),
        last_purchase_at=member.totals.last_purchase_at,
        block_reason=member.block_reason,
    )


def next_tier(member: Member, program: Program, now: datetime) -> NextTier | None:
    """The next tier up and what is still missing to reach it (None at the top, or without tiers)."""
    level = program.tiers.level(member.tier.tier) if program.tiers else None
    if not program.tiers or level is None:
        return None
    higher = [lvl for lvl in program.tiers.levels if lvl.threshold > level.threshold]
    if not higher:
        return None
    total = qualifying_total(member, program.tiers, now.date())
    target = higher[0]
    return NextTier(
        name=target.name, title=target.title, threshold=target.threshold, remaining=max(target.threshold - total, 0)
    )
