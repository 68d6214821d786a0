"""Who the member is: joining, the profile and consents they keep, and erasure on request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from loyalty.clock import add_months
from loyalty.domain.codes import new_code
from loyalty.domain.ledger import EntryKind
from loyalty.domain.member import Contact, Draft, Member, MemberChange, MemberStatus, Referral
from loyalty.domain.program import Program
from loyalty.domain.tiers import TierState
from loyalty.domain.wallet import lot_for
from loyalty.errors import Conflict, InvalidRequest, NotFound

REFERRAL_CODE_LENGTH = 6
CHANNELS = ("sms", "push", "email")
DEFAULT_CONSENTS: Mapping[str, bool] = {"sms": True, "push": True, "email": True, "marketing": False}


@dataclass(frozen=True)
class Applicant:
    """Who is joining, as the service prepared it (personal data already encrypted)."""

    merchant_id: str
    member_id: str
    card_number: str
    contact: Contact
    language: str = "ru"
    timezone: str | None = None
    birthday: date | None = None
    referred_by: str | None = None
    channel: str | None = None


def enroll(applicant: Applicant, program: Program, *, welcome: bool, now: datetime) -> MemberChange:
    """A new member with a card, a referral code of their own, the first tier, and the welcome
    bonus unless ``welcome`` is False (the phone was paid one before, or an import asked not to)."""
    draft = _joining(applicant, program, now, TierState(tier=program.tiers.levels[0].name if program.tiers else None))
    _welcome(draft, program, welcome=welcome, details={"channel": applicant.channel})
    return draft.finish()


@dataclass(frozen=True)
class Imported:
    """What a shop's own records say of a customer it brings into the program."""

    opening_balance: int = 0
    tier: str | None = None  # one of the program's tiers, kept until its first review
    welcome: bool = False  # pay the welcome bonus and send the welcome message
    source: str = ""  # the import and line it came from


def enroll_imported(applicant: Applicant, program: Program, imported: Imported, now: datetime) -> MemberChange:
    """A customer the shop already had joins with their balance and tier, quietly unless the
    import asks for the welcome (bonus and message). The opening balance is a ledger entry of its
    own (an adjustment with its reason), so the ledger still explains the balance."""
    tier = _imported_tier(program, imported.tier, now)
    draft = _joining(applicant, program, now, tier)
    quiet = None if imported.welcome else True  # no welcome message either
    _welcome(
        draft,
        program,
        welcome=imported.welcome,
        details={"channel": "import", "source": imported.source, "quiet": quiet},
    )
    if imported.opening_balance:
        draft.credit(
            imported.opening_balance,
            lot_for(draft.today, program.expiry_months, 0),
            EntryKind.ADJUSTMENT,
            f"import:{imported.source}",
            details={"reason": "opening balance", "bonus": "opening_balance", "source": imported.source},
        )
        totals = draft.member.totals
        draft.update(totals=replace(totals, earned=totals.earned + imported.opening_balance))
    return draft.finish()


def _imported_tier(program: Program, tier: str | None, now: datetime) -> TierState:
    if program.tiers is None:
        if tier is not None:
            raise InvalidRequest("the program has no tiers", details={"field": "tier"})
        return TierState()
    if tier is None:
        return TierState(tier=program.tiers.levels[0].name)
    if program.tiers.level(tier) is None:
        names = ", ".join(level.name for level in program.tiers.levels)
        raise InvalidRequest(f"no tier {tier!r} in the program ({names})", details={"field": "tier"})
    return TierState(tier=tier, review_on=add_months(now.date(), program.tiers.review_months))


def _joining(applicant: Applicant, program: Program, now: datetime, tier: TierState) -> Draft:
    member = Member(
        merchant_id=applicant.merchant_id,
        member_id=applicant.member_id,
        card_number=applicant.card_number,
        created_at=now,
        contact=applicant.contact,
        language=applicant.language,
        timezone=applicant.timezone,
        birthday=applicant.birthday,
        tier=tier,
        referral=Referral(code=new_code(REFERRAL_CODE_LENGTH), referred_by=applicant.referred_by),
    )
    return Draft(member, now, new=True)


def _welcome(draft: Draft, program: Program, *, welcome: bool, details: Mapping[str, Any]) -> None:
    """The joining entry, with the welcome bonus when ``welcome``."""
    points = program.bonuses.welcome_points if welcome else 0
    member = draft.member
    draft.credit(
        points,
        lot_for(draft.today, program.expiry_months, 0),
        EntryKind.ENROLLED,
        f"enrollment:{member.member_id}",
        details={
            **details,
            "bonus": "welcome" if points else None,
            "referred_by": member.referral.referred_by,
        },
    )
    draft.update(totals=replace(member.totals, earned=points))


def consents_of(member: Member) -> dict[str, bool]:
    return {**DEFAULT_CONSENTS, **member.consents}


@dataclass(frozen=True)
class ProfileUpdate:
    """Fields left None stay as they are. Personal data comes encrypted."""

    name_enc: str | None = None
    birthday: date | None = None
    language: str | None = None
    timezone: str | None = None
    consents: Mapping[str, bool] | None = None


def update_profile(member: Member, update: ProfileUpdate, now: datetime, *, birthday_once: bool = True) -> MemberChange:
    """The member's own changes (the birthday only once: the shop corrects it otherwise)."""
    if not member.is_active:
        raise NotFound("member not found", code="member_not_found")
    if birthday_once and update.birthday and member.birthday and member.birthday != update.birthday:
        raise Conflict("the birthday can be set only once; ask the shop to correct it", code="birthday_already_set")
    given = {
        "name": update.name_enc,
        "birthday": update.birthday,
        "language": update.language,
        "timezone": update.timezone,
        "consents": {**consents_of(member), **update.consents} if update.consents is not None else None,
    }
    changed = {field: value for field, value in given.items() if value is not None}
    draft = Draft(member, now)
    if changed:
        fields: dict[str, object] = {field: value for field, value in changed.items() if field != "name"}
        if "name" in changed:
            fields["contact"] = replace(member.contact, name_enc=update.name_enc)
        draft.update(**fields)
        details = {"changed": list(changed), "consents": changed.get("consents")}
        draft.entry(EntryKind.PROFILE, 0, f"profile:{now.isoformat()}", details=details)
    return draft.finish()


def set_consents(member: Member, changes: Mapping[str, bool], now: datetime) -> MemberChange:
    """Consents changed by the shop (or an opt-out); honoured from the next message on."""
    draft = Draft(member, now)
    consents = {**consents_of(member), **changes}
    draft.update(consents=consents)
    draft.entry(EntryKind.CONSENT, 0, f"consent:{now.isoformat()}", details={"consents": consents})
    return draft.finish()


def erase(member: Member, now: datetime) -> MemberChange:
    """Forget the member's personal data; the ledger (which holds none) stays, so balances and
    reports still add up. The card, phone and referral code stop finding the member."""
    if not member.is_active:
        raise NotFound("member not found", code="member_not_found")
    draft = Draft(member, now)
    draft.update(
        status=MemberStatus.ERASED,
        contact=Contact(phone_enc="", phone_hash=f"erased:{member.member_id}"),
        birthday=None,
        timezone=None,
        consents=dict.fromkeys((*CHANNELS, "marketing"), False),
    )
    draft.entry(EntryKind.ERASED, 0, f"erasure:{now.isoformat()}")
    return draft.finish()
