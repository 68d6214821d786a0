"""A member's own view and changes: profile with tier progress, one-time birthday, language,
time zone, consents; and erasure of personal data on request (the ledger stays, anonymised)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from loyalty.api.me import Erased, MeUpdate, MeView
from loyalty.data import members
from loyalty.domain.member import Member
from loyalty.domain.profile import ProfileUpdate, consents_of, update_profile
from loyalty.domain.profile import erase as erase_member
from loyalty.pii.cipher import PiiCipher
from loyalty.services.changes import Decision, apply_change
from loyalty.services.members import get_active, next_tier, view
from loyalty.services.merchants import programs


def me(merchant_id: str, member_id: str, cipher: PiiCipher, now: datetime) -> MeView:
    return me_view(get_active(merchant_id, member_id), cipher, now)


def me_view(member: Member, cipher: PiiCipher, now: datetime) -> MeView:
    """The member with their tier's title and perks, progress to the next tier, and consents."""
    base = view(member, cipher, now)
    program = programs.get(member.merchant_id).program
    level = program.tiers.level(member.tier.tier) if program.tiers else None
    return MeView(
        **base.model_dump(),
        tier_title=level.title if level else None,
        tier_perks=list(level.perks) if level else [],
        next_tier=next_tier(member, program, now),
        consents=consents_of(member),
    )


def update(merchant_id: str, member_id: str, change: MeUpdate, now: datetime, cipher: PiiCipher) -> MeView:
    consents = {k: v for k, v in change.consents.model_dump().items() if v is not None} if change.consents else None

    def decide(member: Member) -> Decision[MeView]:
        profile = ProfileUpdate(
            name_enc=cipher.encrypt(change.name, context=member.ref) if change.name is not None else None,
            birthday=change.birthday,
            language=change.language,
            timezone=change.timezone,
            consents=consents,
        )
        updated = update_profile(member, profile, now)
        return Decision(updated, me_view(updated.after, cipher, now))

    result, _ = apply_change(merchant_id, member_id, decide, MeView, now)
    return result


class _Erased(BaseModel):
    erased: bool = True


def erase(merchant_id: str, member_id: str, now: datetime) -> Erased:
    """Delete the member's personal data; keep the ledger (it holds no personal data) and the
    member item as an anonymised record so that reports and balances still add up."""
    apply_change(merchant_id, member_id, lambda member: Decision(erase_member(member, now), _Erased()), _Erased, now)
    for device in members.devices(merchant_id, member_id):
        members.delete_device(merchant_id, member_id, device.device_id)
    return Erased(erased=True, member_id=member_id)
