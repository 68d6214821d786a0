"""Purchase history from before the program (or from another system), for analytics only: each
past purchase is recorded once per transaction id, by a member or anonymous, and earns nothing.

``record`` is the one entry point (the import calls it chunk by chunk): it writes each purchase's
record and its counters in one transaction, so a purchase counts exactly once however often its
chunk runs. ``past_purchase_counters`` says what a purchase adds to the KPI counters of its month
(in the program's time zone): purchases and revenue, of members or anonymous, so that the KPI
report's average checks and engagement reach back before the program. Members active, retention
and cohorts are not derived from imported history (they follow each member's live purchases).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from loyalty.data import members, merchants, operations
from loyalty.data.jobs import ChunkResult, Job, RowError
from loyalty.data.operations import Operation, OperationKey
from loyalty.data.transaction import MAX_ITEMS, AlreadyExists, Contended, Stale, Transaction
from loyalty.domain.kpis import MonthCounters, add_counters, month_of
from loyalty.errors import InvalidRequest, LoyaltyError
from loyalty.pii.cipher import PiiCipher
from loyalty.pii.contact import normalise_phone
from loyalty.services import csv_files
from loyalty.services.idempotency import ClientRequest
from loyalty.services.merchants import programs

COLUMNS = {
    "transaction id": "transaction_id",
    "id": "transaction_id",
    "номер чека": "transaction_id",
    "чек": "transaction_id",
    "date": "date",
    "дата": "date",
    "amount": "amount",
    "сумма": "amount",
    "amount kopecks": "amount_kopecks",
    "phone": "phone",
    "телефон": "phone",
    "card number": "card_number",
    "card": "card_number",
    "номер карты": "card_number",
    "карта": "card_number",
}
ROWS_PER_CHUNK = 2000
BATCH = MAX_ITEMS - 10  # room for the counter items of the batch's months


@dataclass(frozen=True)
class PastPurchase:
    merchant_id: str
    transaction_id: str
    occurred_at: datetime
    amount_kopecks: int
    member_id: str | None  # None: a customer who was not (or is not known as) a member

    @property
    def digest(self) -> str:
        return f"{self.occurred_at.isoformat()}|{self.amount_kopecks}|{self.member_id or ''}"


def past_purchase_counters(purchase: PastPurchase, zone: str) -> dict[str, dict[str, int]]:
    """What one past purchase adds to the KPI counters of its month, members and anonymous apart."""
    who = "members" if purchase.member_id else "anonymous"
    return {
        month_of(purchase.occurred_at, zone): {f"purchases_{who}": 1, f"revenue_{who}_kopecks": purchase.amount_kopecks}
    }


def _record_of(purchase: PastPurchase, now: datetime) -> Operation:
    return Operation(
        key=OperationKey.of(purchase.merchant_id, "past-purchase", purchase.transaction_id),
        request_hash=purchase.digest,
        created_at=now,
        member_id=purchase.member_id,
        state={"occurred_at": purchase.occurred_at.isoformat(), "amount_kopecks": purchase.amount_kopecks},
    )


def _stage(tx: Transaction, purchases: list[PastPurchase], now: datetime) -> None:
    months: MonthCounters = {}
    for purchase in purchases:
        operations.stage_create(tx, _record_of(purchase, now))
        months = add_counters(
            months, past_purchase_counters(purchase, programs.get(purchase.merchant_id).program.timezone)
        )
    if purchases:
        merchants.stage_month_counters(tx, purchases[0].merchant_id, months)


@dataclass
class Outcome:
    recorded: int = 0  # new, or recorded before with the same data
    refused: list[tuple[PastPurchase, str]] = field(default_factory=list)


def record(purchases: list[PastPurchase], now: datetime) -> Outcome:
    """Record past purchases of one merchant (at most ``BATCH``), each once: a transaction id
    recorded before with the same data counts as recorded; with other data it is refused."""
    outcome = Outcome()
    tx = Transaction()
    _stage(tx, purchases, now)
    try:
        tx.commit()
    except (AlreadyExists, Stale, Contended):
        for purchase in purchases:
            _record_one(purchase, now, outcome)
        return outcome
    outcome.recorded = len(purchases)
    return outcome


def _record_one(purchase: PastPurchase, now: datetime, outcome: Outcome) -> None:
    for _ in range(5):
        tx = Transaction()
        _stage(tx, [purchase], now)
        try:
            tx.commit()
        except AlreadyExists:
            previous = ClientRequest(_record_of(purchase, now).key, purchase.digest).previous()
            if previous is not None and previous.request_hash == purchase.digest:
                outcome.recorded += 1
            else:
                outcome.refused.append((purchase, "this transaction id was recorded before with other data"))
            return
        except (Stale, Contended):
            continue
        outcome.recorded += 1
        return
    raise Contended(f"purchase {purchase.transaction_id} could not be recorded")


# ---- the import -----------------------------------------------------------------------------------
def parse(row: csv_files.Row, merchant_id: str, cipher: PiiCipher, now: datetime) -> PastPurchase:
    if row.problem:
        raise InvalidRequest(row.problem)
    values = row.values
    transaction_id = values.get("transaction_id", "")
    if not transaction_id or len(transaction_id) > 64:
        raise InvalidRequest("transaction_id is missing (or longer than 64 characters)")
    return PastPurchase(
        merchant_id=merchant_id,
        transaction_id=transaction_id,
        occurred_at=_when(values.get("date", ""), now),
        amount_kopecks=_kopecks(values),
        member_id=_member(merchant_id, values, cipher),
    )


def _when(value: str, now: datetime) -> datetime:
    try:
        if "." in value and "-" not in value:
            moment = datetime.strptime(value[:10], "%d.%m.%Y")
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidRequest(f"date {value!r} is not a date (YYYY-MM-DD, an ISO time, or DD.MM.YYYY)") from exc
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment > now:
        raise InvalidRequest(f"date {value} is in the future")
    return moment.astimezone(UTC)


def _kopecks(values: dict[str, str]) -> int:
    raw = values.get("amount_kopecks") or ""
    try:
        amount = int(raw) if raw else int(Decimal(values.get("amount", "").replace(" ", "").replace(",", ".")) * 100)
    except (ValueError, InvalidOperation) as exc:
        raise InvalidRequest("amount is not a number of roubles (or amount_kopecks of kopecks)") from exc
    if not 0 < amount <= 100_000_000_00:
        raise InvalidRequest("amount must be positive (and at most 100 000 000 roubles)")
    return amount


def _member(merchant_id: str, values: dict[str, str], cipher: PiiCipher) -> str | None:
    """The member the purchase names, if it names one who is a member; else an anonymous one."""
    if values.get("card_number"):
        return members.find_by_card(merchant_id, values["card_number"])
    if values.get("phone"):
        return members.find_by_phone(merchant_id, cipher.lookup_hash("phone", normalise_phone(values["phone"])))
    return None


def run_chunk(job: Job, bucket: str, cipher: PiiCipher, now: datetime, deadline: float) -> ChunkResult:
    """Record the rows from where the job stands, until ``ROWS_PER_CHUNK`` rows, the deadline (a
    monotonic time), or the end of the file."""
    reading = csv_files.resume(bucket, job.file_key, job.position, COLUMNS, ("transaction_id", "date"))
    batch = _Batch(now)
    last = None
    for taken, row in enumerate((row for row in reading.rows if row.values or row.problem), start=1):
        last = row
        batch.add(row, job.merchant_id, cipher)
        if taken >= ROWS_PER_CHUNK or time.monotonic() > deadline:
            break
    else:
        last = None
    batch.flush()
    position = reading.position if last is None else reading.after(last)
    errors = sorted(batch.errors, key=lambda error: error.line)
    return ChunkResult(batch.done, len(errors), tuple(errors), position, last is None, reading.total)


class _Batch:
    """Rows on their way to ``record``, at most ``BATCH`` and one per transaction id at a time."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.rows: dict[str, tuple[int, PastPurchase]] = {}
        self.done = 0
        self.errors: list[RowError] = []

    def add(self, row: csv_files.Row, merchant_id: str, cipher: PiiCipher) -> None:
        try:
            purchase = parse(row, merchant_id, cipher, self.now)
        except LoyaltyError as exc:
            self.errors.append(RowError(row.line, exc.message))
            return
        if purchase.transaction_id in self.rows or len(self.rows) == BATCH:
            self.flush()  # a transaction writes an item once: the same id again waits for the next
        self.rows[purchase.transaction_id] = (row.line, purchase)

    def flush(self) -> None:
        if not self.rows:
            return
        outcome = record([purchase for _, purchase in self.rows.values()], self.now)
        self.done += outcome.recorded
        self.errors.extend(RowError(self.rows[p.transaction_id][0], reason) for p, reason in outcome.refused)
        self.rows = {}
