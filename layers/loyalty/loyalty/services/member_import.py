"""Importing the members a shop already has, from CSV: phone, name, birthday, email, card number,
opening balance, tier. No welcome bonus or message unless the import asks for them.

Each row is applied once, even when its chunk runs again after a crash: the row's operation
record (job and line) is written in the same transaction as the member, so a row applied before
is recognised, counted as done, and not applied twice. Rows are written several to a transaction;
when one of them is refused (its phone is a member's already, say) the batch is written row by
row, so that only that row is reported, with its line and reason.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from loyalty.data import changes, operations
from loyalty.data.jobs import ChunkResult, Job, RowError
from loyalty.data.operations import Operation, OperationKey
from loyalty.data.transaction import MAX_ITEMS, AlreadyExists, Contended, Stale, Transaction
from loyalty.domain.cards import is_valid_card_number, new_card_number
from loyalty.domain.member import MemberChange, member_ref
from loyalty.domain.profile import Applicant, Imported, enroll_imported
from loyalty.domain.program import Program
from loyalty.errors import InvalidRequest, LoyaltyError
from loyalty.ids import new_id
from loyalty.pii.cipher import PiiCipher
from loyalty.pii.contact import normalise_email, normalise_phone
from loyalty.services import csv_files
from loyalty.services.enrollment import contact_for
from loyalty.services.merchants import programs

COLUMNS = {
    "phone": "phone",
    "телефон": "phone",
    "мобильный телефон": "phone",
    "name": "name",
    "имя": "name",
    "фио": "name",
    "birthday": "birthday",
    "дата рождения": "birthday",
    "день рождения": "birthday",
    "email": "email",
    "e mail": "email",
    "почта": "email",
    "card number": "card_number",
    "card": "card_number",
    "номер карты": "card_number",
    "карта": "card_number",
    "opening balance": "opening_balance",
    "balance": "opening_balance",
    "баланс": "opening_balance",
    "баллы": "opening_balance",
    "tier": "tier",
    "уровень": "tier",
}
ROWS_PER_CHUNK = 1000
ATTEMPTS = 5
REFUSED = {
    "phone": "a member with this phone is already enrolled",
    "email": "a member with this email is already enrolled",
    "card": "this card is another member's (or was blocked)",
}


@dataclass(frozen=True)
class MemberRow:
    line: int
    phone: str
    name: str | None
    birthday: date | None
    email: str | None
    card_number: str | None
    opening_balance: int
    tier: str | None
    digest: str


@dataclass
class Tally:
    done: int = 0
    errors: list[RowError] = field(default_factory=list)


# ---- one row ---------------------------------------------------------------------------------------
def parse(row: csv_files.Row, program: Program, today: date) -> MemberRow:
    """A row as a member to enroll, or InvalidRequest saying what is wrong with it."""
    if row.problem:
        raise InvalidRequest(row.problem)
    values = row.values
    card = values.get("card_number") or None
    if card is not None and not is_valid_card_number(card):
        raise InvalidRequest(f"card number {card} fails its check digit")
    tier = values.get("tier") or None
    if tier is not None and (program.tiers is None or program.tiers.level(tier) is None):
        raise InvalidRequest(f"no tier {tier!r} in the program")
    name = values.get("name") or None
    if name is not None and len(name) > 120:
        raise InvalidRequest("name is longer than 120 characters")
    return MemberRow(
        line=row.line,
        phone=normalise_phone(values.get("phone", "")),
        name=name,
        birthday=_birthday(values.get("birthday", ""), today),
        email=normalise_email(values["email"]) if values.get("email") else None,
        card_number=card,
        opening_balance=_points(values.get("opening_balance", "")),
        tier=tier,
        digest=hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest(),
    )


def _birthday(value: str, today: date) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value) if "-" in value else datetime.strptime(value, "%d.%m.%Y").date()
    except ValueError as exc:
        raise InvalidRequest(f"birthday {value!r} is not a date (YYYY-MM-DD or DD.MM.YYYY)") from exc
    if not date(1900, 1, 1) <= day <= today:
        raise InvalidRequest(f"birthday {value} is not a plausible date of birth")
    return day


def _points(value: str) -> int:
    text = value.replace(" ", "").replace("\u00a0", "")
    if not text:
        return 0
    if not text.isdigit() or len(text) > 10:
        raise InvalidRequest(f"opening balance {value!r} is not a whole number of points")
    return int(text)


@dataclass(frozen=True)
class Prepared:
    row: MemberRow
    change: MemberChange
    record: Operation
    welcome: bool  # the welcome bonus is paid (and marked paid for the phone)
    writes: Transaction = field(default_factory=Transaction)  # the row's writes, staged once

    @property
    def claims(self) -> set[str]:
        """What no other row of the same transaction may write too (one write per item)."""
        row = self.row
        return {
            f"phone:{row.phone}",
            *([f"email:{row.email}"] if row.email else []),
            f"card:{self.change.after.card_number}",
        }


def prepare(
    job: Job, row: MemberRow, program: Program, cipher: PiiCipher, now: datetime, *, welcome: bool | None = None
) -> Prepared:
    """The member the row makes (new ids and codes each time: a collision is prepared again).
    The welcome bonus only if the import asks for it, once per phone like every welcome."""
    member_id = new_id("mbr")
    source = f"{job.job_id}:{row.line}"
    applicant = Applicant(
        merchant_id=job.merchant_id,
        member_id=member_id,
        card_number=row.card_number or new_card_number(),
        contact=contact_for(row.phone, row.name, row.email, member_ref(job.merchant_id, member_id), cipher),
        birthday=row.birthday,
        channel="import",
    )
    if welcome is None:
        welcome = bool(job.options.get("welcome"))
    imported = Imported(row.opening_balance, row.tier, welcome, source)
    change = enroll_imported(applicant, program, imported, now)
    record = Operation(
        key=OperationKey.of(job.merchant_id, "import-row", job.job_id, str(row.line)),
        request_hash=row.digest,
        created_at=now,
        member_id=member_id,
    )
    prepared = Prepared(row, change, record, welcome and bool(program.bonuses.welcome_points))
    operations.stage_create(prepared.writes, record)  # first: a row applied before is named as such
    changes.stage(prepared.writes, change, mark_welcome=prepared.welcome)
    return prepared


def _stage(tx: Transaction, prepared: Prepared) -> None:
    tx.include(prepared.writes)


# ---- a batch ---------------------------------------------------------------------------------------
def _apply_batch(batch: list[Prepared], remake: Callable[[Prepared, bool], Prepared], tally: Tally) -> None:
    """All rows in one transaction; if that is refused, row by row."""
    tx = Transaction()
    for prepared in batch:
        _stage(tx, prepared)
    try:
        tx.commit()
    except (AlreadyExists, Stale, Contended):
        for prepared in batch:
            _apply_one(prepared, remake, tally)
        return
    tally.done += len(batch)


def _apply_one(prepared: Prepared, remake: Callable[[Prepared, bool], Prepared], tally: Tally) -> None:
    for _ in range(ATTEMPTS):
        tx = Transaction()
        _stage(tx, prepared)
        try:
            tx.commit()
        except AlreadyExists as exc:
            if exc.what == "operation":
                tally.done += 1  # applied by an earlier run of this chunk
                return
            if exc.what in REFUSED:
                tally.errors.append(RowError(prepared.row.line, REFUSED[exc.what]))
                return
            # a generated id, card number or referral code collided; or the phone had its welcome
            prepared = remake(prepared, exc.what != "welcome")
        except (Stale, Contended):
            continue
        else:
            tally.done += 1
            return
    raise Contended(f"line {prepared.row.line} could not be written")


# ---- a chunk ---------------------------------------------------------------------------------------
def run_chunk(job: Job, bucket: str, cipher: PiiCipher, now: datetime, deadline: float) -> ChunkResult:
    """Apply the rows from where the job stands, until ``ROWS_PER_CHUNK`` rows, the deadline (a
    monotonic time), or the end of the file."""
    reading = csv_files.resume(bucket, job.file_key, job.position, COLUMNS, ("phone",))
    program = programs.get(job.merchant_id).program
    tally = Tally()

    def remake(prepared: Prepared, welcome: bool) -> Prepared:
        return prepare(job, prepared.row, program, cipher, now, welcome=welcome and prepared.welcome)

    end = _consume(_limited(reading.rows, deadline), job, program, cipher, now, tally, remake)
    position = reading.position if end is None else reading.after(end)
    errors = tuple(sorted(tally.errors, key=lambda error: error.line))
    return ChunkResult(tally.done, len(errors), errors, position, end is None, reading.total)


def _limited(rows: Iterator[csv_files.Row], deadline: float) -> Iterator[csv_files.Row | None]:
    """The rows of one chunk, then None if the file goes on (its last row marks where)."""
    taken = 0
    for row in rows:
        yield row
        taken += bool(row.values or row.problem)
        if taken >= ROWS_PER_CHUNK or time.monotonic() > deadline:
            yield None
            return


def _consume(
    rows: Iterator[csv_files.Row | None],
    job: Job,
    program: Program,
    cipher: PiiCipher,
    now: datetime,
    tally: Tally,
    remake: Callable[[Prepared, bool], Prepared],
) -> csv_files.Row | None:
    """Apply rows in batches of up to a transaction's items; the last row read if the chunk stopped
    before the end of the file, None if it reached it."""
    last: csv_files.Row | None = None
    batch: list[Prepared] = []
    items = 0
    claimed: set[str] = set()
    for row in rows:
        if row is None:
            break
        last = row
        if not (row.values or row.problem):
            continue
        try:
            prepared = prepare(job, parse(row, program, now.date()), program, cipher, now)
        except LoyaltyError as exc:
            tally.errors.append(RowError(row.line, exc.message))
            continue
        size = len(prepared.writes)
        if items + size > MAX_ITEMS or claimed & prepared.claims:
            _apply_batch(batch, remake, tally)
            batch, items, claimed = [], 0, set()
        batch.append(prepared)
        items += size
        claimed |= prepared.claims
    else:
        last = None  # the file ended
    if batch:
        _apply_batch(batch, remake, tally)
    return last
