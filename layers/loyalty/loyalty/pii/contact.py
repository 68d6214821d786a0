"""Normalising and masking phone numbers and emails (Russian numbers by default).

``phonenumbers`` (and its metadata) is imported when a phone is first parsed, not at cold start:
most requests (a purchase by card, a look-up by card) never parse one.
"""

from __future__ import annotations

import re

from loyalty.errors import InvalidRequest

DEFAULT_REGION = "RU"
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,63}$")


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """E.164 form of a phone number, e.g. '8 (916) 123-45-67' -> '+79161234567'."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidRequest("phone is not a phone number", details={"field": "phone"}) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidRequest("phone is not a valid number", details={"field": "phone"})
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def is_russian_mobile(e164: str) -> bool:
    import phonenumbers

    parsed = phonenumbers.parse(e164, None)
    return bool(
        parsed.country_code == 7
        and phonenumbers.number_type(parsed)
        in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    )


def mask_phone(e164: str) -> str:
    """'+79161234567' -> '+7916*****67': enough for a cashier to confirm, not to call."""
    return f"{e164[:5]}{'*' * max(len(e164) - 7, 0)}{e164[-2:]}"


def normalise_email(raw: str) -> str:
    email = raw.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidRequest("email is not an email address", details={"field": "email"})
    return email


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
