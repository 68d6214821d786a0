"""Enrollment: a member joins by phone, gets a virtual card (or links a physical one), a referral
code of their own, and the welcome bonus, all in one transaction."""

from __future__ import annotations

import secrets
from datetime import datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from loyalty.api.members import EnrollRequest
from loyalty.data.connection import connection
from loyalty.data.models import LookupItem, MemberItem
from loyalty.domain.cards import is_valid_card_number, new_card_number
from loyalty.domain.wallet import lot_for
from loyalty.errors import Conflict, InvalidRequest, RuleViolation
from loyalty.ids import new_id
from loyalty.pii.cipher import PiiCipher
from loyalty.pii.contact import normalise_email, normalise_phone
from loyalty.services.bonuses import birthday_item
from loyalty.services.ledger import Draft
from loyalty.services.members import (
    LOOKUP_SK,
    MEMBER_SK,
    card_lookup_pk,
    lookup,
    member_key,
    phone_lookup_pk,
    referral_lookup_pk,
)
from loyalty.services.merchants import programs

REFERRAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERRAL_CODE_LENGTH = 6
_ATTEMPTS = 5


def _new_referral_code() -> str:
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(REFERRAL_CODE_LENGTH))


def enroll(merchant_id: str, request: EnrollRequest, now: datetime, cipher: PiiCipher) -> MemberItem:
    phone = normalise_phone(request.phone)
    email = normalise_email(request.email) if request.email else None
    if request.card_number is not None and not is_valid_card_number(request.card_number):
        raise InvalidRequest("card_number fails its check digit", details={"field": "card_number"})
    program = programs.get(merchant_id).program
    referrer_id = None
    if request.referral_code:
        referrer_id = lookup(referral_lookup_pk(merchant_id, request.referral_code))
        if referrer_id is None:
            raise RuleViolation("no member has this referral code", code="unknown_referral_code")
    phone_hash = cipher.lookup_hash("phone", phone)
    for _ in range(_ATTEMPTS):
        member_id = new_id("mbr")
        key = member_key(merchant_id, member_id)
        card_number = request.card_number or new_card_number()
        referral_code = _new_referral_code()
        member = MemberItem(
            key,
            MEMBER_SK,
            merchant_id=merchant_id,
            member_id=member_id,
            gsi_merchant=merchant_id,
            phone_enc=cipher.encrypt(phone, context=key),
            phone_hash=phone_hash,
            name_enc=cipher.encrypt(request.name, context=key) if request.name else None,
            email_enc=cipher.encrypt(email, context=key) if email else None,
            card_number=card_number,
            created_at=now,
            language=request.language,
            timezone=request.timezone,
            birthday=request.birthday.isoformat() if request.birthday else None,
            tier=program.tiers.levels[0].name if program.tiers else None,
            referral_code=referral_code,
            referred_by=referrer_id,
            lots={},
            debt=0,
            balance=0,
            version=0,
        )
        draft = Draft(member, now)
        welcome = program.bonuses.welcome_points
        draft.credit(
            welcome,
            lot_for(draft.today, program.expiry_months, 0),
            kind="enrolled",
            operation=f"enrollment:{member_id}",
            details={"bonus": "welcome" if welcome else None, "channel": request.channel, "referred_by": referrer_id},
        )
        write = draft.finish()
        lookups = [
            LookupItem(phone_lookup_pk(merchant_id, phone_hash), LOOKUP_SK, member_id=member_id),
            LookupItem(card_lookup_pk(merchant_id, card_number), LOOKUP_SK, member_id=member_id),
            LookupItem(referral_lookup_pk(merchant_id, referral_code), LOOKUP_SK, member_id=member_id),
        ]
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(member, condition=MemberItem.pk.does_not_exist())
                for item in lookups:
                    tx.save(item, condition=LookupItem.pk.does_not_exist())
                for entry in write.entries:
                    tx.save(entry)
                for extra in [*write.puts, birthday_item(member)]:
                    if extra is not None:
                        tx.save(extra)
        except TransactWriteError as exc:
            failed = [getattr(r, "code", None) == "ConditionalCheckFailed" for r in (exc.cancellation_reasons or [])]
            if len(failed) > 1 and failed[1]:
                raise Conflict(
                    "a member with this phone is already enrolled",
                    code="member_exists",
                    details={"member_id": lookup(lookups[0].pk)},
                ) from exc
            if len(failed) > 2 and failed[2] and request.card_number is not None:
                raise Conflict("this card is linked to another member", code="card_in_use") from exc
            if any(failed):
                continue  # a generated card number or referral code collided: draw again
            raise
        return member
    raise Conflict("could not allocate a card number; try again", code="card_allocation_failed")
