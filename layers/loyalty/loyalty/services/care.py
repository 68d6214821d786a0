"""Member care from the back office: the member list, one member's page, editing details,
blocking, manual point adjustments and cards. Each change is a domain operation committed by
``apply_change`` (one transaction with its look-ups and ledger entry)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from loyalty.api.care import MemberDetail, MemberTotals
from loyalty.api.members import (
    AdjustmentRequest,
    AdjustmentView,
    MemberEdit,
    MemberListQuery,
    MemberPage,
)
from loyalty.data import members
from loyalty.data.members import MemberFilter
from loyalty.data.transaction import AlreadyExists
from loyalty.domain import care
from loyalty.domain.cards import is_valid_card_number, new_card_number
from loyalty.domain.member import Contact, Member, MemberChange
from loyalty.domain.occasions import adjust as adjust_points
from loyalty.errors import Conflict, InvalidRequest
from loyalty.ids import id_bound
from loyalty.pii.cipher import PiiCipher
from loyalty.pii.contact import normalise_email, normalise_phone
from loyalty.services.changes import Decision, Unchanged, apply_change
from loyalty.services.idempotency import ClientRequest
from loyalty.services.me import me_view
from loyalty.services.members import view
from loyalty.services.merchants import programs
from loyalty.services.rewards import coupon_view

CareOperation = Callable[[Member], MemberChange | None]
COUPONS_SHOWN = 20
TAKEN = {"phone": "phone_in_use", "email": "email_in_use"}


# ---- reading -----------------------------------------------------------------------------------
def detail(member: Member, cipher: PiiCipher, now: datetime) -> MemberDetail:
    totals = member.totals
    return MemberDetail(
        **me_view(member, cipher, now).model_dump(),
        totals=MemberTotals(
            earned=totals.earned, spent=totals.spent, purchases=totals.purchases, spend_kopecks=totals.spend_kopecks
        ),
        blocked_cards=list(member.blocked_cards),
        coupons=[
            coupon_view(coupon, now)
            for coupon in members.member_coupons(member.merchant_id, member.member_id, limit=COUPONS_SHOWN)
        ],
    )


def list_members(merchant_id: str, query: MemberListQuery, cipher: PiiCipher, now: datetime) -> MemberPage:
    where = MemberFilter(
        tier=query.tier,
        status=query.status,
        enrolled_after_id=_id_bound(query.enrolled_from, last=False),
        enrolled_before_id=_id_bound(query.enrolled_to, last=True),
        last_purchase_from=_day_start(query.last_purchase_from),
        last_purchase_to=_day_start(query.last_purchase_to + timedelta(days=1)) if query.last_purchase_to else None,
    )
    found, cursor = members.list_page(merchant_id, where, limit=query.limit, cursor=query.cursor)
    return MemberPage(members=[view(member, cipher, now) for member in found], next_cursor=cursor)


def _day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


def _id_bound(day: date | None, *, last: bool) -> str | None:
    """Member ids begin with their creation time in milliseconds: a day's first or last id."""
    if day is None:
        return None
    start = _day_start(day + timedelta(days=1) if last else day)
    assert start is not None
    return id_bound("mbr", int(start.timestamp() * 1000) - (1 if last else 0), last=last)


# ---- changes -----------------------------------------------------------------------------------
def _commit(
    merchant_id: str, member_id: str, change_of: CareOperation, cipher: PiiCipher, now: datetime
) -> MemberDetail:
    """Apply one care operation; a request that changes nothing answers the member as they are."""

    def decide(member: Member) -> Decision[MemberDetail]:
        change = change_of(member)
        if change is None:
            raise Unchanged(detail(member, cipher, now))
        return Decision(change, detail(change.after, cipher, now))

    try:
        result, _ = apply_change(merchant_id, member_id, decide, MemberDetail, now)
    except AlreadyExists as exc:
        if exc.what in TAKEN:
            raise Conflict(f"another member has this {exc.what}", code=TAKEN[exc.what]) from exc
        raise
    return result


def edit(
    merchant_id: str, member_id: str, request: MemberEdit, author: str, cipher: PiiCipher, now: datetime
) -> MemberDetail:
    """Change the fields the request names (null clears name, email or birthday)."""
    given = request.model_fields_set
    if "phone" in given and request.phone is None:
        raise InvalidRequest("a member always has a phone", details={"field": "phone"})
    phone = normalise_phone(request.phone) if request.phone else None
    email = normalise_email(request.email) if request.email else None

    def change_of(member: Member) -> MemberChange | None:
        old, ref = member.contact, member.ref
        contact = Contact(
            phone_enc=cipher.encrypt(phone, context=ref) if phone else old.phone_enc,
            phone_hash=cipher.lookup_hash("phone", phone) if phone else old.phone_hash,
            name_enc=_field(given, "name", request.name, old.name_enc, cipher, ref),
            email_enc=_field(given, "email", email, old.email_enc, cipher, ref),
            email_hash=(cipher.lookup_hash("email", email) if email else None) if "email" in given else old.email_hash,
        )
        birthday = request.birthday if "birthday" in given else member.birthday
        return care.edit(member, care.Details(contact, birthday), author=author, now=now)

    return _commit(merchant_id, member_id, change_of, cipher, now)


def _field(given: set[str], name: str, value: str | None, old: str | None, cipher: PiiCipher, ref: str) -> str | None:
    if name not in given:
        return old
    return cipher.encrypt(value, context=ref) if value else None


def block(merchant_id: str, member_id: str, reason: str, author: str, cipher: PiiCipher, now: datetime) -> MemberDetail:
    return _commit(merchant_id, member_id, lambda m: care.block(m, reason=reason, author=author, now=now), cipher, now)


def unblock(merchant_id: str, member_id: str, author: str, cipher: PiiCipher, now: datetime) -> MemberDetail:
    return _commit(merchant_id, member_id, lambda m: care.unblock(m, author=author, now=now), cipher, now)


def link_card(
    merchant_id: str, member_id: str, card_number: str, author: str, cipher: PiiCipher, now: datetime
) -> MemberDetail:
    _ensure_card_number(card_number, "card_number")
    try:
        return _commit(
            merchant_id,
            member_id,
            lambda m: care.link_card(m, card_number, author=author, now=now),
            cipher,
            now,
        )
    except AlreadyExists as exc:
        raise _card_taken() if exc.what == "card" else exc from exc


def replace_card(
    merchant_id: str,
    member_id: str,
    old: str,
    new: str | None,
    reason: str | None,
    author: str,
    cipher: PiiCipher,
    now: datetime,
) -> MemberDetail:
    if new is not None:
        _ensure_card_number(new, "new_card_number")
    replacement = new or new_card_number()
    try:
        return _commit(
            merchant_id,
            member_id,
            lambda m: care.replace_card(m, old, replacement, reason=reason, author=author, now=now),
            cipher,
            now,
        )
    except AlreadyExists as exc:
        raise _card_taken() if exc.what == "card" else exc from exc


def block_card(
    merchant_id: str, member_id: str, number: str, reason: str | None, author: str, cipher: PiiCipher, now: datetime
) -> MemberDetail:
    return _commit(
        merchant_id,
        member_id,
        lambda m: care.block_card(m, number, reason=reason, author=author, now=now),
        cipher,
        now,
    )


def _ensure_card_number(number: str, field: str) -> None:
    if not is_valid_card_number(number):
        raise InvalidRequest(f"{field} fails its check digit", details={"field": field})


def _card_taken() -> Conflict:
    return Conflict("this card is another member's, or was blocked", code="card_in_use")


def adjust(
    merchant_id: str, member_id: str, request: AdjustmentRequest, author: str, now: datetime
) -> tuple[AdjustmentView, bool]:
    """A manual adjustment with a reason: a ledger entry like any other, once per adjustment_id
    (the same id for another member or amount is a 409)."""
    program = programs.get(merchant_id).program
    keyed = AdjustmentView(
        adjustment_id=request.adjustment_id,
        member_id=member_id,
        points=request.points,
        reason=request.reason,
        balance=0,
    )
    client = ClientRequest.of(keyed, merchant_id, "adjustment", request.adjustment_id)

    def decide(member: Member) -> Decision[AdjustmentView]:
        change = adjust_points(
            member,
            program,
            points=request.points,
            reason=request.reason,
            adjustment_id=request.adjustment_id,
            author=author,
            now=now,
        )
        return Decision(change, keyed.model_copy(update={"balance": change.after.wallet.balance}))

    return apply_change(merchant_id, member_id, decide, AdjustmentView, now, client=client)
