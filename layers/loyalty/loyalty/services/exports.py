"""Exports of a merchant's members and transactions to CSV, written to S3 as a multipart upload:
each chunk reads members page by page (an index query and a BatchGetItem a page, never a scan)
until it holds a part's worth of rows (S3 takes parts of at least 5 MiB, but the last), uploads it
as the next part, and the last chunk completes the file. A chunk run again uploads its part again,
under the same number: the file holds each row once.

Exports carry personal data in clear (phones, emails, names): owner only, and audited
(the route's audit record: who asked, when, from where); the file is downloaded by a presigned URL valid an hour and
the bucket deletes it after seven days.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from datetime import datetime

from loyalty.data import ledger, members
from loyalty.data.jobs import ChunkResult, Job
from loyalty.data.members import MemberFilter
from loyalty.domain.member import Member
from loyalty.domain.profile import consents_of
from loyalty.pii.cipher import PiiCipher
from loyalty.platform import files

PART_BYTES = 5 * 1024 * 1024
PAGE = 100
MEMBER_COLUMNS = (
    "member_id",
    "card_number",
    "other_cards",
    "phone",
    "name",
    "email",
    "birthday",
    "status",
    "tier",
    "balance",
    "pending",
    "earned_total",
    "spent_total",
    "purchases",
    "spend_kopecks",
    "last_purchase_at",
    "created_at",
    "language",
    "consent_sms",
    "consent_push",
    "consent_email",
    "consent_marketing",
)
TRANSACTION_COLUMNS = (
    "member_id",
    "entry_id",
    "created_at",
    "kind",
    "points",
    "balance_after",
    "operation",
    "details",
)
Rows = Callable[[Member, PiiCipher, datetime], Iterable[list[object]]]


def _plain(member: Member, cipher: PiiCipher, value: str | None) -> str:
    return cipher.decrypt(value, context=member.ref) if value else ""


def member_rows(member: Member, cipher: PiiCipher, now: datetime) -> Iterable[list[object]]:
    contact, wallet, totals, today = member.contact, member.wallet, member.totals, now.date()
    consents = consents_of(member)
    yield [
        member.member_id,
        member.card_number,
        " ".join(member.cards),
        _plain(member, cipher, contact.phone_enc),
        _plain(member, cipher, contact.name_enc),
        _plain(member, cipher, contact.email_enc),
        member.birthday.isoformat() if member.birthday else "",
        member.status.value,
        member.tier.tier or "",
        wallet.balance,
        wallet.pending(today),
        totals.earned,
        totals.spent,
        totals.purchases,
        totals.spend_kopecks,
        totals.last_purchase_at.isoformat() if totals.last_purchase_at else "",
        member.created_at.isoformat(),
        member.language,
        *(int(consents[channel]) for channel in ("sms", "push", "email", "marketing")),
    ]


def transaction_rows(member: Member, cipher: PiiCipher, now: datetime) -> Iterable[list[object]]:
    for entry in ledger.all_entries(member.merchant_id, member.member_id):
        yield [
            entry.member_id,
            entry.entry_id,
            entry.created_at.isoformat(),
            entry.kind.value,
            entry.points,
            entry.balance_after,
            entry.operation,
            json.dumps(dict(entry.details), ensure_ascii=False, sort_keys=True) if entry.details else "",
        ]


def members_chunk(job: Job, bucket: str, cipher: PiiCipher, now: datetime, deadline: float) -> ChunkResult:
    return _chunk(job, bucket, cipher, now, MEMBER_COLUMNS, member_rows)


def transactions_chunk(job: Job, bucket: str, cipher: PiiCipher, now: datetime, deadline: float) -> ChunkResult:
    return _chunk(job, bucket, cipher, now, TRANSACTION_COLUMNS, transaction_rows)


def _chunk(
    job: Job, bucket: str, cipher: PiiCipher, now: datetime, columns: tuple[str, ...], rows_of: Rows
) -> ChunkResult:
    """One part of the file: rows until a part's worth, or the last members. (The chunk deadline
    does not apply: a part smaller than 5 MiB can only be the last; a part takes seconds.)"""
    position = dict(job.position)
    text = io.StringIO()
    writer = csv.writer(text)
    if "upload_id" not in position:
        position = {"upload_id": files.start_multipart(bucket, job.file_key), "etags": [], "cursor": None}
        writer.writerow(columns)
    cursor, written = position["cursor"], 0
    while True:
        page, cursor = members.list_page(job.merchant_id, MemberFilter(), limit=PAGE, cursor=cursor)
        for member in page:
            for row in rows_of(member, cipher, now):
                writer.writerow(row)
                written += 1
        if cursor is None or text.tell() >= PART_BYTES:
            break
    body = text.getvalue().encode("utf-8")
    if not position["etags"]:
        body = b"\xef\xbb\xbf" + body  # a byte-order mark: Excel opens the file as UTF-8
    number = len(position["etags"]) + 1
    etags = [*position["etags"], files.upload_part(bucket, job.file_key, position["upload_id"], number, body)]
    finished = cursor is None
    if finished:
        files.finish_multipart(bucket, job.file_key, position["upload_id"], etags)
    total = job.done + written if finished else None
    return ChunkResult(written, 0, (), {**position, "etags": etags, "cursor": cursor}, finished, total)
