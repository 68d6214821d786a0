"""What the shop does for a member from the back office: correct their details, block and
unblock them, and look after their cards (link a plastic card, replace a lost one, block one).

Each operation returns the ``MemberChange`` to commit, or None when the member is already as asked
(a retried request changes nothing). Every change leaves a ledger entry of zero points saying what
changed and who did it, so the member's history tells the whole story.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from loyalty.domain.ledger import EntryKind
from loyalty.domain.member import Contact, Draft, Member, MemberChange, MemberStatus, ensure_exists
from loyalty.errors import NotFound, RuleViolation

MAX_CARDS = 10  # linked at once; blocked ones do not count


@dataclass(frozen=True)
class Details:
    """The member's details as the shop sets them (personal data already encrypted)."""

    contact: Contact
    birthday: date | None


def edit(member: Member, details: Details, *, author: str, now: datetime) -> MemberChange | None:
    """Set the member's name, phone, email and birthday (the shop may correct a birthday the member
    can no longer change). The look-ups follow in the same write; None when nothing changes."""
    ensure_exists(member)
    changed = _changed_fields(member, details)
    if not changed:
        return None
    draft = Draft(member, now)
    draft.update(contact=details.contact, birthday=details.birthday)
    draft.entry(
        EntryKind.PROFILE, 0, f"profile:{now.isoformat()}", details={"changed": changed, "by": "shop", "author": author}
    )
    return draft.finish()


def _changed_fields(member: Member, details: Details) -> list[str]:
    old, new = member.contact, details.contact
    pairs = {
        "name": (old.name_enc, new.name_enc),
        "phone": (old.phone_hash, new.phone_hash),
        "email": (old.email_hash, new.email_hash),
        "birthday": (member.birthday, details.birthday),
    }
    return [name for name, (before, after) in pairs.items() if before != after]


def block(member: Member, *, reason: str, author: str, now: datetime) -> MemberChange | None:
    """Stop the member earning and spending at the till and in the app until unblocked."""
    ensure_exists(member)
    if member.status is MemberStatus.BLOCKED:
        return None
    return _set_status(member, MemberStatus.BLOCKED, reason, author, now)


def unblock(member: Member, *, author: str, now: datetime) -> MemberChange | None:
    ensure_exists(member)
    if member.status is MemberStatus.ACTIVE:
        return None
    return _set_status(member, MemberStatus.ACTIVE, None, author, now)


def _set_status(member: Member, status: MemberStatus, reason: str | None, author: str, now: datetime) -> MemberChange:
    draft = Draft(member, now)
    draft.update(status=status, block_reason=reason)
    draft.entry(
        EntryKind.STATUS,
        0,
        f"status:{status.value}:{now.isoformat()}",
        details={"status": status.value, "reason": reason, "author": author},
    )
    return draft.finish()


# ---- cards -------------------------------------------------------------------------------------
def link_card(member: Member, number: str, *, author: str, now: datetime) -> MemberChange | None:
    """Link a (plastic) card beside the member's others; None if it is linked already."""
    ensure_exists(member)
    if number in member.all_cards:
        return None
    _ensure_not_blocked(member, number)
    if len(member.all_cards) >= MAX_CARDS:
        raise RuleViolation(f"a member has at most {MAX_CARDS} cards; block one first", code="too_many_cards")
    return _card_change(
        member, replace(member, cards=(*member.cards, number)), "linked", number, None, None, author, now
    )


def replace_card(
    member: Member, old: str, new: str, *, reason: str | None, author: str, now: datetime
) -> MemberChange | None:
    """A lost or damaged card: ``old`` stops finding the member at once (and can never be linked
    again), ``new`` takes its place (the app's card too, if ``old`` was it)."""
    ensure_exists(member)
    if old in member.blocked_cards and new in member.all_cards:
        return None  # replaced already
    _ensure_owned(member, old)
    _ensure_not_blocked(member, new)
    if new in member.all_cards:
        raise RuleViolation("the new card is already this member's", code="card_already_linked")
    swapped = tuple(new if card == old else card for card in member.all_cards)
    after = replace(member, card_number=swapped[0], cards=swapped[1:], blocked_cards=(*member.blocked_cards, old))
    return _card_change(member, after, "replaced", old, new, reason, author, now)


def block_card(member: Member, number: str, *, reason: str | None, author: str, now: datetime) -> MemberChange | None:
    """The card stops finding the member at once. The member's last card cannot be blocked
    alone: replace it (with a new plastic card, or a new virtual one) so they keep a card."""
    ensure_exists(member)
    if number in member.blocked_cards:
        return None
    _ensure_owned(member, number)
    remaining = tuple(card for card in member.all_cards if card != number)
    if not remaining:
        raise RuleViolation("this is the member's only card: replace it instead, so they keep one", code="last_card")
    after = replace(
        member, card_number=remaining[0], cards=remaining[1:], blocked_cards=(*member.blocked_cards, number)
    )
    return _card_change(member, after, "blocked", number, None, reason, author, now)


def _ensure_owned(member: Member, number: str) -> None:
    if number not in member.all_cards:
        raise NotFound("this member has no such card", code="card_not_found", details={"card_number": number})


def _ensure_not_blocked(member: Member, number: str) -> None:
    if number in member.blocked_cards:
        raise RuleViolation("this card was blocked and cannot be linked again", code="card_blocked")


def _card_change(
    before: Member,
    after: Member,
    action: str,
    card: str,
    new_card: str | None,
    reason: str | None,
    author: str,
    now: datetime,
) -> MemberChange:
    draft = Draft(before, now)
    draft.update(card_number=after.card_number, cards=after.cards, blocked_cards=after.blocked_cards)
    draft.entry(
        EntryKind.CARD,
        0,
        f"card:{action}:{card}",
        details={"action": action, "card": card, "new_card": new_card, "reason": reason, "author": author},
    )
    return draft.finish()
