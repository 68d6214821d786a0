"""The jobs table: imports and exports that run in chunks through the jobs queue, with their
progress and the rows each chunk refused.

Keys:
- job             pk ``JOB#<merchant>#<job>``   sk ``JOB``
- chunk errors    pk ``JOB#<merchant>#<job>``   sk ``ERR#<chunk:06d>`` (the rows a chunk refused, with why)

A job moves one chunk at a time: ``chunk`` is the next chunk to run and ``position`` where it
starts (a byte offset in the file, or a cursor); a chunk's progress is written only if the job is
still at that chunk (``Stale("job")`` otherwise), so a chunk run twice counts once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist

from loyalty.data.base import Item, table_base
from loyalty.data.transaction import Stale, Transaction

JOB_SK = "JOB"


@table_base
class _JobsTable(Item):
    table_env = "jobs_table"

    class Meta:
        table_name = "unbound"


class JobItem(_JobsTable):
    merchant_id = UnicodeAttribute()
    job_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    status = UnicodeAttribute()
    request_hash = UnicodeAttribute()
    options = JSONAttribute(default=dict)
    file_key = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
    total = NumberAttribute(null=True)
    done = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    chunk = NumberAttribute(default=0)
    position = JSONAttribute(default=dict)
    report_key = UnicodeAttribute(null=True)
    failure = UnicodeAttribute(null=True)


class ChunkErrorsItem(_JobsTable):
    errors = JSONAttribute(default=list)  # [[line, reason], ...]


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


@dataclass(frozen=True)
class Job:
    merchant_id: str
    job_id: str
    kind: str
    status: str  # awaiting_upload, queued, running, done, failed
    request_hash: str
    file_key: str
    created_at: datetime
    options: Mapping[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None
    finished_at: datetime | None = None
    total: int | None = None
    done: int = 0
    failed: int = 0
    chunk: int = 0
    position: Mapping[str, Any] = field(default_factory=dict)
    report_key: str | None = None
    failure: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")


@dataclass(frozen=True)
class ChunkResult:
    """What one chunk did: rows applied (or found applied by an earlier run) and refused, where the
    next chunk starts, and whether the job is done."""

    done: int
    failed: int
    errors: tuple[RowError, ...]
    position: Mapping[str, Any]
    finished: bool
    total: int | None = None
    report_key: str | None = None


def _pk(merchant_id: str, job_id: str) -> str:
    return f"JOB#{merchant_id}#{job_id}"


def _to_item(job: Job) -> JobItem:
    return JobItem(
        _pk(job.merchant_id, job.job_id),
        JOB_SK,
        merchant_id=job.merchant_id,
        job_id=job.job_id,
        kind=job.kind,
        status=job.status,
        request_hash=job.request_hash,
        options=dict(job.options),
        file_key=job.file_key,
        created_at=job.created_at,
        updated_at=job.updated_at,
        finished_at=job.finished_at,
        total=job.total,
        done=job.done,
        failed=job.failed,
        chunk=job.chunk,
        position=dict(job.position),
        report_key=job.report_key,
        failure=job.failure,
    )


def create(job: Job) -> None:
    """``AlreadyExists("job")`` when the merchant used the id before."""
    tx = Transaction()
    tx.create(_to_item(job), name="job")
    tx.commit()


def get(merchant_id: str, job_id: str) -> Job | None:
    try:
        item = JobItem.get(_pk(merchant_id, job_id), JOB_SK, consistent_read=True)
    except DoesNotExist:
        return None
    return Job(
        merchant_id=item.merchant_id,
        job_id=item.job_id,
        kind=item.kind,
        status=item.status,
        request_hash=item.request_hash,
        file_key=item.file_key,
        created_at=item.created_at,
        options=dict(item.options or {}),
        updated_at=item.updated_at,
        finished_at=item.finished_at,
        total=None if item.total is None else int(item.total),
        done=int(item.done),
        failed=int(item.failed),
        chunk=int(item.chunk),
        position=dict(item.position or {}),
        report_key=item.report_key,
        failure=item.failure,
    )


def queue(job: Job, now: datetime) -> None:
    """An uploaded import waits no more (``Stale("job")`` if it is not awaiting its file)."""
    tx = Transaction()
    tx.update(
        JobItem(_pk(job.merchant_id, job.job_id), JOB_SK),
        [JobItem.status.set("queued"), JobItem.updated_at.set(now)],
        condition=JobItem.status == "awaiting_upload",
        name="job",
    )
    tx.commit()


def commit_chunk(job: Job, result: ChunkResult, now: datetime) -> Job:
    """Record chunk ``job.chunk``'s progress and its refused rows, once: ``Stale("job")`` if the
    chunk was recorded already (a redelivered message ran it again)."""
    after = replace(
        job,
        status="done" if result.finished else "running",
        chunk=job.chunk + 1,
        position=dict(result.position),
        done=job.done + result.done,
        failed=job.failed + result.failed,
        total=result.total if result.total is not None else job.total,
        updated_at=now,
        finished_at=now if result.finished else None,
        report_key=result.report_key or job.report_key,
    )
    tx = Transaction()
    tx.put(_to_item(after), condition=(JobItem.chunk == job.chunk) & (JobItem.status == job.status), name="job")
    if result.errors:
        tx.put(
            ChunkErrorsItem(
                _pk(job.merchant_id, job.job_id),
                f"ERR#{job.chunk:06d}",
                errors=[[error.line, error.reason] for error in result.errors],
            )
        )
    tx.commit()
    return after


def fail(job: Job, reason: str, now: datetime) -> None:
    """The job stops with ``reason`` (its file could not be read, or a chunk kept failing);
    nothing happens to a job that finished meanwhile."""
    tx = Transaction()
    tx.update(
        JobItem(_pk(job.merchant_id, job.job_id), JOB_SK),
        [
            JobItem.status.set("failed"),
            JobItem.failure.set(reason[:1000]),
            JobItem.finished_at.set(now),
            JobItem.updated_at.set(now),
        ],
        condition=JobItem.status.is_in("queued", "running"),
        name="job",
    )
    with contextlib.suppress(Stale):
        tx.commit()


def errors(merchant_id: str, job_id: str, *, limit: int | None = None) -> Iterator[RowError]:
    """The rows the job refused, in file order (``limit``: at most that many)."""
    given = 0
    for item in ChunkErrorsItem.query(_pk(merchant_id, job_id), ChunkErrorsItem.sk.startswith("ERR#")):
        for line, reason in item.errors:
            if limit is not None and given >= limit:
                return
            given += 1
            yield RowError(int(line), str(reason))
