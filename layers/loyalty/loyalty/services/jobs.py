"""Imports and exports as jobs: created by the API, moved by the jobs queue one chunk at a time.

A chunk's message names its job and chunk number. The worker runs the chunk only if the job is at
that chunk, queues the next chunk's message, then records the chunk's progress, conditioned on the
job still being at that chunk. The queue is FIFO per job, so the next message is received only
after this one is done with:
- a crash before the progress is recorded redelivers the message, and the chunk runs again (its
  rows are applied once: see ``member_import``); the next message it queued again is deduplicated
  by SQS, or finds the job moved on and is dropped;
- a crash after it redelivers a message for a chunk the job has passed: dropped;
so a job always moves on, and every row is counted once. A chunk ends well within Lambda's time
(``CHUNK_SECONDS``), so a file of any size finishes, chunk after chunk.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from loyalty.api.jobs import ExportRequest, ImportRequest, JobView, RowErrorView
from loyalty.data import jobs
from loyalty.data.jobs import ChunkResult, Job
from loyalty.data.transaction import AlreadyExists, Stale
from loyalty.errors import Conflict, InvalidRequest, NotFound
from loyalty.pii.cipher import PiiCipher
from loyalty.platform import files
from loyalty.platform.aws import client
from loyalty.platform.observability import logger
from loyalty.services import exports, member_import, purchase_history
from loyalty.services.idempotency import ClientRequest, ensure_same_request

CHUNK_SECONDS = 25.0  # the worker stops taking rows after this (its timeout leaves room to finish)
ERRORS_SHOWN = 100
Runner = Callable[[Job, str, PiiCipher, datetime, float], ChunkResult]
RUNNERS: dict[str, Runner] = {
    "import_members": member_import.run_chunk,
    "import_purchases": purchase_history.run_chunk,
    "export_members": exports.members_chunk,
    "export_transactions": exports.transactions_chunk,
}


# ---- the API -------------------------------------------------------------------------------------
def _file_key(job: Job) -> str:
    return f"{job.kind.split('_')[0]}s/{job.merchant_id}/{job.job_id}.csv"


def _create(merchant_id: str, kind: str, request: ImportRequest | ExportRequest, now: datetime, status: str) -> Job:
    client_request = ClientRequest.of(request, merchant_id, kind, request.job_id)
    job = Job(
        merchant_id=merchant_id,
        job_id=request.job_id,
        kind=kind,
        status=status,
        request_hash=client_request.digest,
        file_key="",
        created_at=now,
        options={"welcome": True} if isinstance(request, ImportRequest) and request.welcome else {},
    )
    job = replace(job, file_key=_file_key(job))
    try:
        jobs.create(job)
    except AlreadyExists as exc:
        existing = jobs.get(merchant_id, request.job_id)
        if existing is None:
            raise
        ensure_same_request(client_request, existing.request_hash)
        if existing.kind != kind:
            raise Conflict("this job id names another kind of job", code="idempotency_conflict") from exc
        raise _Replayed(existing) from exc
    return job


class _Replayed(Exception):
    def __init__(self, job: Job) -> None:
        super().__init__("replayed")
        self.job = job


def create_import(merchant_id: str, request: ImportRequest, bucket: str, now: datetime) -> tuple[JobView, bool]:
    """A job waiting for its file: the answer carries the URL to PUT it to."""
    try:
        job = _create(merchant_id, f"import_{request.kind}", request, now, "awaiting_upload")
    except _Replayed as replayed:
        return view(replayed.job, bucket), True
    return view(job, bucket), False


def start_import(merchant_id: str, job_id: str, bucket: str, queue_url: str, now: datetime) -> JobView:
    """The file is uploaded: queue the job's first chunk. Starting a started job again is
    harmless (a message for a chunk already run is dropped)."""
    job = get(merchant_id, job_id, "import")
    if job.status == "awaiting_upload":
        if files.size(bucket, job.file_key) is None:
            raise Conflict("upload the file to upload_url first", code="file_missing")
        with contextlib.suppress(Stale):  # started meanwhile by a retry of this request
            jobs.queue(job, now)
    job = get(merchant_id, job_id, "import")
    if not job.finished:
        queue_chunk(queue_url, job, job.chunk)
    return view(job, bucket)


def create_export(
    merchant_id: str, request: ExportRequest, bucket: str, queue_url: str, now: datetime
) -> tuple[JobView, bool]:
    """An export job, queued; the request itself is in the audit log (the route's, as every change)."""
    try:
        job = _create(merchant_id, f"export_{request.kind}", request, now, "queued")
    except _Replayed as replayed:
        return view(replayed.job, bucket), True
    queue_chunk(queue_url, job, 0)
    return view(job, bucket), False


def get(merchant_id: str, job_id: str, family: str) -> Job:
    job = jobs.get(merchant_id, job_id)
    if job is None or not job.kind.startswith(f"{family}_"):
        raise NotFound(f"{family} not found", code="job_not_found")
    return job


def view(job: Job, bucket: str) -> JobView:
    is_import = job.kind.startswith("import_")
    done = job.status == "done"
    filename = f"{job.kind}-{job.job_id}.csv"
    return JobView(
        job_id=job.job_id,
        kind=job.kind,
        status=job.status,
        total=job.total,
        done=job.done,
        failed=job.failed,
        errors=[
            RowErrorView(line=error.line, reason=error.reason)
            for error in (jobs.errors(job.merchant_id, job.job_id, limit=ERRORS_SHOWN) if job.failed else ())
        ],
        error_report_url=files.download_url(bucket, job.report_key, f"errors-{filename}") if job.report_key else None,
        upload_url=files.upload_url(bucket, job.file_key) if job.status == "awaiting_upload" else None,
        download_url=files.download_url(bucket, job.file_key, filename) if done and not is_import else None,
        failure=job.failure,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


# ---- the worker ----------------------------------------------------------------------------------
def queue_chunk(queue_url: str, job: Job, chunk: int) -> None:
    group = f"{job.merchant_id}#{job.job_id}"
    client("sqs").send_message(
        QueueUrl=queue_url,
        MessageBody=json.dumps({"merchant_id": job.merchant_id, "job_id": job.job_id, "chunk": chunk}),
        MessageGroupId=group,
        MessageDeduplicationId=f"{group}#{chunk}",
    )


def run(
    merchant_id: str, job_id: str, chunk: int, bucket: str, queue_url: str, cipher: PiiCipher, now: datetime
) -> str:
    """Run chunk ``chunk`` of the job if the job is there; returns what happened."""
    job = jobs.get(merchant_id, job_id)
    if job is None or job.finished or job.status == "awaiting_upload" or job.chunk != chunk:
        return "dropped"  # a redelivered message for a chunk already run, or a finished job
    try:
        result = RUNNERS[job.kind](job, bucket, cipher, now, time.monotonic() + CHUNK_SECONDS)
    except InvalidRequest as exc:  # the file itself is unusable: no retry will help
        jobs.fail(job, exc.message, now)
        return "failed"
    if not result.finished:
        queue_chunk(queue_url, job, chunk + 1)  # before the progress: see the module's docstring
    elif job.kind.startswith("import_"):
        result = _with_report(job, result, bucket)
    try:
        jobs.commit_chunk(job, result, now)
    except Stale:
        return "dropped"  # the same chunk was recorded by another run
    logger.info("job chunk", extra={"job": job_id, "chunk": chunk, "done": result.done, "failed": result.failed})
    return "finished" if result.finished else "chunk"


def _with_report(job: Job, result: ChunkResult, bucket: str) -> ChunkResult:
    """The import's last chunk writes every refused row to a CSV report (a rerun rewrites it)."""
    if not (job.failed or result.errors):
        return result
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["line", "reason"])
    for error in [*jobs.errors(job.merchant_id, job.job_id), *result.errors]:
        writer.writerow([error.line, error.reason])
    key = f"reports/{job.merchant_id}/{job.job_id}-errors.csv"
    files.put(bucket, key, text.getvalue().encode("utf-8-sig"))  # with a BOM: Excel reads it as UTF-8
    return ChunkResult(result.done, result.failed, result.errors, result.position, True, result.total, key)


def fail(merchant_id: str, job_id: str, reason: str, now: datetime) -> None:
    """A chunk failed on every retry: the job stops, saying why."""
    job = jobs.get(merchant_id, job_id)
    if job is not None and not job.finished:
        jobs.fail(job, reason, now)
