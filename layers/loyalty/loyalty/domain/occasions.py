"""Points that are not a purchase's: bonuses for occasions, the shop's corrections, expiry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from loyalty.domain.ledger import EntryKind
from loyalty.domain.member import Draft, Member, MemberChange, ensure_can_transact, ensure_exists
from loyalty.domain.program import Program
from loyalty.domain.wallet import lot_for
from loyalty.errors import InvalidRequest


def grant_bonus(
    member: Member,
    program: Program,
    *,
    bonus: str,
    external_id: str,
    points: int,
    now: datetime,
    details: Mapping[str, Any] | None = None,
) -> MemberChange:
    """Credit a bonus (review, survey, birthday, the referrer's reward); zero points still record
    the occasion (a birthday greeting) so that it is announced once."""
    ensure_can_transact(member)
    draft = Draft(member, now)
    draft.credit(
        points,
        lot_for(draft.today, program.expiry_months, 0),
        EntryKind.BONUS,
        f"bonus:{bonus}:{external_id}",
        details={"bonus": bonus, "external_id": external_id, **(details or {})},
    )
    draft.update(totals=replace(member.totals, earned=member.totals.earned + points))
    return draft.finish()


def reverse_bonus(
    member: Member,
    *,
    bonus: str,
    external_id: str,
    points: int,
    now: datetime,
    details: Mapping[str, Any] | None = None,
) -> MemberChange:
    """Take back a bonus whose reason was undone (the referred member returned the purchase):
    from the member's points, or as debt if they were spent."""
    draft = Draft(member, now)
    draft.claw_back(
        points,
        EntryKind.BONUS_REVERSAL,
        f"bonus:{bonus}:{external_id}",
        details={"bonus": bonus, "external_id": external_id, **(details or {})},
    )
    draft.update(totals=replace(member.totals, earned=member.totals.earned - points))
    return draft.finish()


MAX_ADJUSTMENT = 1_000_000_000


def adjust(
    member: Member, program: Program, *, points: int, reason: str, adjustment_id: str, author: str, now: datetime
) -> MemberChange:
    """The shop corrects a balance, with a reason: a ledger entry like any other. Adding points
    makes a lot that expires like a bonus; taking points takes spendable ones first and never
    more than the member has (a correction does not create debt). A blocked member may be
    corrected too: blocking stops the till, not the shop."""
    ensure_exists(member)
    if points == 0 or abs(points) > MAX_ADJUSTMENT:
        raise InvalidRequest("points must be non-zero", details={"field": "points"})
    draft = Draft(member, now)
    operation = f"adjustment:{adjustment_id}"
    details = {"reason": reason, "author": author, "adjustment_id": adjustment_id}
    if points > 0:
        draft.credit(points, lot_for(draft.today, program.expiry_months, 0), EntryKind.ADJUSTMENT, operation, details)
        draft.update(totals=replace(member.totals, earned=member.totals.earned + points))
    else:
        draft.wallet, allocation = draft.wallet.take(-points, draft.today)
        draft.entry(EntryKind.ADJUSTMENT, points, operation, allocation=allocation, details=details)
    return draft.finish()


def expire(member: Member, now: datetime) -> MemberChange | None:
    """Remove what is left of every bucket that expired before today; None when nothing did."""
    draft = Draft(member, now)
    draft.wallet, expired = draft.wallet.expire(draft.today)
    if not expired:
        return None
    draft.entry(
        EntryKind.EXPIRE,
        -sum(expired.values()),
        f"expire:{draft.today.isoformat()}",
        allocation=expired,
        details={"expired_buckets": sorted(expired)},
    )
    return draft.finish()
