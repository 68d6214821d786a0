"""A member's own view and changes: profile with tier progress, one-time birthday, language,
time zone, consents; and erasure of personal data on request (the ledger stays, anonymised)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pynamodb.exceptions import DeleteError

from loyalty.api.me import Erased, MeUpdate, MeView, NextTier
from loyalty.data.models import DeviceItem, LookupItem, MemberItem
from loyalty.data.unit_of_work import MemberWrite
from loyalty.errors import Conflict, InvalidRequest
from loyalty.pii.cipher import PiiCipher
from loyalty.services.bonuses import birthday_item
from loyalty.services.ledger import Draft, apply_change
from loyalty.services.members import (
    LOOKUP_SK,
    card_lookup_pk,
    ensure_active,
    get_member,
    phone_lookup_pk,
    referral_lookup_pk,
    view,
)
from loyalty.services.merchants import programs
from loyalty.services.notify import consents_of
from loyalty.services.tiers import qualifying_total


def me(merchant_id: str, member_id: str, cipher: PiiCipher, now: datetime) -> MeView:
    member = get_member(merchant_id, member_id, consistent=False)
    ensure_active(member)
    return _me(member, cipher, now)


def _me(member: MemberItem, cipher: PiiCipher, now: datetime) -> MeView:
    base = view(member, cipher, now)
    program = programs.get(member.merchant_id).program
    level = program.tiers.level(member.tier) if program.tiers else None
    next_tier = None
    if program.tiers and level is not None:
        higher = [lvl for lvl in program.tiers.levels if lvl.threshold > level.threshold]
        if higher:
            total = qualifying_total(member, program.tiers, now.date())
            target = higher[0]
            next_tier = NextTier(
                name=target.name,
                title=target.title,
                threshold=target.threshold,
                remaining=max(target.threshold - total, 0),
            )
    return MeView(
        **base.model_dump(),
        tier_title=level.title if level else None,
        tier_perks=list(level.perks) if level else [],
        next_tier=next_tier,
        consents=consents_of(member),
    )


def update(merchant_id: str, member_id: str, change: MeUpdate, now: datetime, cipher: PiiCipher) -> MeView:
    if change.timezone is not None:
        try:
            ZoneInfo(change.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidRequest("unknown time zone", details={"field": "timezone"}) from exc

    def build(member: MemberItem) -> tuple[MemberWrite, MeView]:
        ensure_active(member)
        draft = Draft(member, now)
        changed: list[str] = []
        if change.name is not None:
            member.name_enc = cipher.encrypt(change.name, context=str(member.pk))
            changed.append("name")
        if change.birthday is not None:
            if member.birthday and member.birthday != change.birthday.isoformat():
                raise Conflict(
                    "the birthday can be set only once; ask the shop to correct it", code="birthday_already_set"
                )
            member.birthday = change.birthday.isoformat()
            indexed = birthday_item(member)
            if indexed is not None:
                draft.puts.append(indexed)
            changed.append("birthday")
        if change.language is not None:
            member.language = change.language
            changed.append("language")
        if change.timezone is not None:
            member.timezone = change.timezone
            changed.append("timezone")
        consents: dict[str, bool] | None = None
        if change.consents is not None:
            given = {k: v for k, v in change.consents.model_dump().items() if v is not None}
            consents = {**consents_of(member), **given}
            member.consents = consents
            changed.append("consents")
        if changed:
            draft.entry(
                kind="profile",
                points=0,
                operation=f"profile:{now.isoformat()}",
                details={"changed": changed, **({"consents": consents} if consents is not None else {})},
            )
        return draft.finish(), _me(member, cipher, now)

    result, _ = apply_change(merchant_id, member_id, build, MeView)
    return result


def erase(merchant_id: str, member_id: str, now: datetime) -> None:
    """Delete the member's personal data; keep the ledger (it holds no personal data) and the
    member item as an anonymised record so that reports and balances still add up."""
    member = get_member(merchant_id, member_id)
    lookups = [phone_lookup_pk(merchant_id, member.phone_hash), card_lookup_pk(merchant_id, member.card_number)]
    if member.referral_code:
        lookups.append(referral_lookup_pk(merchant_id, member.referral_code))

    def build(current: MemberItem) -> tuple[MemberWrite, Erased]:
        ensure_active(current)
        draft = Draft(current, now)
        current.status = "erased"
        current.phone_enc, current.phone_hash = "", f"erased:{member_id}"
        current.name_enc = current.email_enc = None
        current.birthday = current.timezone = None
        current.gsi_merchant = None
        current.consents = {"sms": False, "push": False, "email": False, "marketing": False}
        draft.entry(kind="erased", points=0, operation=f"erasure:{now.isoformat()}", details={})
        birthday = birthday_item(member)
        draft.deletes.extend(LookupItem(pk, LOOKUP_SK) for pk in lookups)
        if birthday is not None:
            draft.deletes.append(birthday)
        return draft.finish(), Erased(erased=True, member_id=member_id)

    apply_change(merchant_id, member_id, build, Erased)
    for device in DeviceItem.query(member.pk, DeviceItem.sk.startswith("DEVICE#")):
        try:
            device.delete()
        except DeleteError:
            continue
