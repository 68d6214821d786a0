"""Enrollment: a member joins by phone, gets a virtual card (or links a physical one), a referral
code of their own and, once per phone, the welcome bonus, all in one transaction."""

from __future__ import annotations

from datetime import datetime

from loyalty.api.members import EnrollRequest
from loyalty.data import changes, members
from loyalty.data.transaction import AlreadyExists, Stale, Transaction
from loyalty.domain.cards import is_valid_card_number, new_card_number
from loyalty.domain.member import Contact, Member, member_ref
from loyalty.domain.profile import Applicant
from loyalty.domain.profile import enroll as enroll_member
from loyalty.errors import Conflict, InvalidRequest, RuleViolation
from loyalty.ids import new_id
from loyalty.pii.cipher import PiiCipher
from loyalty.pii.contact import normalise_email, normalise_phone
from loyalty.services.merchants import programs

ATTEMPTS = 5


def contact_for(phone: str, name: str | None, email: str | None, member_ref: str, cipher: PiiCipher) -> Contact:
    """The member's personal data as stored: encrypted for the member, phone and email also as
    keyed look-up hashes (``phone`` and ``email`` already normalised)."""
    return Contact(
        phone_enc=cipher.encrypt(phone, context=member_ref),
        phone_hash=cipher.lookup_hash("phone", phone),
        name_enc=cipher.encrypt(name, context=member_ref) if name else None,
        email_enc=cipher.encrypt(email, context=member_ref) if email else None,
        email_hash=cipher.lookup_hash("email", email) if email else None,
    )


def _contact(request: EnrollRequest, member_ref: str, cipher: PiiCipher) -> Contact:
    email = normalise_email(request.email) if request.email else None
    return contact_for(normalise_phone(request.phone), request.name, email, member_ref, cipher)


def _referrer(merchant_id: str, code: str | None) -> str | None:
    if not code:
        return None
    referrer_id = members.find_by_referral_code(merchant_id, code)
    if referrer_id is None:
        raise RuleViolation("no member has this referral code", code="unknown_referral_code")
    return referrer_id


def enroll(
    merchant_id: str, request: EnrollRequest, now: datetime, cipher: PiiCipher, *, welcome: bool = True
) -> Member:
    """A new member. The welcome bonus is paid once per phone, ever: a member who erased their
    account and joins again does not get it twice (a keyed hash of the phone is kept for that)."""
    normalise_phone(request.phone)  # a bad phone is a 400 before anything else
    if request.card_number is not None and not is_valid_card_number(request.card_number):
        raise InvalidRequest("card_number fails its check digit", details={"field": "card_number"})
    program = programs.get(merchant_id).program
    referrer_id = _referrer(merchant_id, request.referral_code)
    for _ in range(ATTEMPTS):
        member_id = new_id("mbr")
        contact = _contact(request, member_ref(merchant_id, member_id), cipher)
        pays_welcome = welcome and bool(program.bonuses.welcome_points)
        pays_welcome = pays_welcome and not members.welcome_paid(merchant_id, contact.phone_hash)
        applicant = Applicant(
            merchant_id=merchant_id,
            member_id=member_id,
            card_number=request.card_number or new_card_number(),
            contact=contact,
            language=request.language,
            timezone=request.timezone,
            birthday=request.birthday,
            referred_by=referrer_id,
            channel=request.channel,
        )
        change = enroll_member(applicant, program, welcome=pays_welcome, now=now)
        tx = Transaction()
        changes.stage(tx, change, mark_welcome=pays_welcome)
        try:
            tx.commit()
        except (AlreadyExists, Stale) as exc:
            _refused(merchant_id, request, contact, exc)
            continue  # a generated card number, referral code or id collided, or a welcome raced: again
        return change.after
    raise Conflict("could not allocate a card number; try again", code="card_allocation_failed")


def _refused(merchant_id: str, request: EnrollRequest, contact: Contact, exc: AlreadyExists | Stale) -> None:
    if exc.what == "phone":
        raise Conflict(
            "a member with this phone is already enrolled",
            code="member_exists",
            details={"member_id": members.find_by_phone(merchant_id, contact.phone_hash)},
        ) from exc
    if exc.what == "card" and request.card_number is not None:
        raise Conflict("this card is linked to another member", code="card_in_use") from exc
    if exc.what == "email":
        raise Conflict("a member with this email is already enrolled", code="email_in_use") from exc
