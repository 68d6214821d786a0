"""Partner credentials: each partner system that sends purchases to the shared ``purchase-events``
queue gets its own signing key from the merchant (issued and revoked by the owner), and a message
credits only the merchant whose key signed it (``loyalty.domain.partner_messages``).

The signing secret has to be read back to check signatures, so it is stored encrypted (AES-GCM
under the key ring), never hashed. The consumer reads the partner's item for every message: a
revoked partner's messages are dead-lettered from the next one on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime

from loyalty.api.keys import PartnerView
from loyalty.data import credentials
from loyalty.data.credentials import Partner
from loyalty.data.transaction import Stale
from loyalty.domain.partner_messages import KEY_ATTRIBUTE, SIGNATURE_ATTRIBUTE, is_signed_by
from loyalty.errors import Conflict, Forbidden, NotFound, Unauthenticated
from loyalty.ids import new_id, new_secret
from loyalty.pii.cipher import PiiCipher

MAX_PARTNERS = 100


def _context(partner_id: str) -> str:
    return f"partner-secret:{partner_id}"


def view(partner: Partner) -> PartnerView:
    return PartnerView(
        partner_id=partner.partner_id,
        name=partner.name,
        status=partner.status,
        created_at=partner.created_at,
        revoked_at=partner.revoked_at,
    )


def issue(merchant_id: str, name: str, now: datetime, cipher: PiiCipher, created_by: str) -> tuple[Partner, str]:
    """A partner and its signing secret (shown once)."""
    if len(credentials.partners_of(merchant_id)) >= MAX_PARTNERS:
        raise Conflict(f"a merchant has at most {MAX_PARTNERS} partners", code="too_many_partners")
    partner_id = new_id("ptn")
    secret = new_secret("ps")
    partner = Partner(
        partner_id=partner_id,
        merchant_id=merchant_id,
        name=name,
        status="active",
        secret_enc=cipher.encrypt(secret, context=_context(partner_id)),
        created_at=now,
        created_by=created_by,
    )
    credentials.create_partner(partner)
    return partner, secret


def list_partners(merchant_id: str) -> list[PartnerView]:
    return [view(partner) for partner in credentials.partners_of(merchant_id)]


def revoke(merchant_id: str, partner_id: str, now: datetime) -> PartnerView:
    """The partner's messages are refused from now on; revoking again answers the same."""
    partner = credentials.get_partner(partner_id) if len(partner_id) <= 64 else None
    if partner is None or partner.merchant_id != merchant_id:
        raise NotFound("no such partner", code="partner_not_found")
    if partner.status == "active":
        with contextlib.suppress(Stale):  # revoked meanwhile
            credentials.revoke_partner(partner_id, now)
    revoked = credentials.get_partner(partner_id)
    assert revoked is not None
    return view(revoked)


def sender(body: str, attributes: Mapping[str, str], claimed_merchant: str | None, cipher: PiiCipher) -> str:
    """The merchant a partner message may credit: the one whose partner key signed it. Anything
    else is refused with a reason that says what to fix (the queue dead-letters it)."""
    partner_id, presented = attributes.get(KEY_ATTRIBUTE), attributes.get(SIGNATURE_ATTRIBUTE)
    if not partner_id or not presented:
        raise Unauthenticated(
            f"unsigned message: send the {KEY_ATTRIBUTE} and {SIGNATURE_ATTRIBUTE} message attributes",
            code="partner_signature_missing",
        )
    partner = credentials.get_partner(partner_id) if len(partner_id) <= 64 else None
    if partner is None:
        raise Unauthenticated("unknown partner key", code="partner_unknown")
    if partner.status != "active":
        raise Unauthenticated("this partner key has been revoked", code="partner_revoked")
    secret = cipher.decrypt(partner.secret_enc, context=_context(partner.partner_id))
    if not is_signed_by(secret, body, presented):
        raise Unauthenticated("the signature does not match the message body", code="partner_signature_invalid")
    if claimed_merchant is not None and claimed_merchant != partner.merchant_id:
        raise Forbidden("this partner key may not credit that merchant", code="partner_merchant_mismatch")
    return partner.merchant_id
