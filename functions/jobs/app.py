"""Imports and exports: the API that creates jobs and shows their progress, and the jobs queue's
worker that runs them chunk by chunk (files in S3, presigned URLs for the client)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty import runtime
from loyalty.api.jobs import ExportRequest, ImportRequest, JobView
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.errors import InvalidRequest
from loyalty.http.access import MANAGE, OWNER
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, idempotent_reply, reply
from loyalty.platform.observability import logger, observed_handler
from loyalty.platform.queues import QueueConsumer
from loyalty.services import jobs

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


class JobsConfig(CoreConfig):
    files_bucket: str
    jobs_queue_url: str
    jobs_dlq_url: str
    jobs_max_receive_count: int = 5


CONFIG = JobsConfig.from_env()
runtime.bootstrap(CONFIG)

bp = ApiBlueprint(__name__, tags=("Imports and exports",))


@bp.route(
    "/v1/imports",
    methods=["POST"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Create an import (members or purchase history): PUT the CSV file to upload_url, then start it",
    request=ImportRequest,
    response=JobView,
    status=201,
    errors=(409,),
    idempotent=True,
)
def post_import() -> object:
    request = bp.parse(ImportRequest)
    view, replayed = jobs.create_import(bp.merchant_id(), request, CONFIG.files_bucket, utcnow())
    return idempotent_reply(201, view, replayed)


@bp.route(
    "/v1/imports/{job_id}/start",
    methods=["POST"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Start an import whose file is uploaded (starting it again changes nothing)",
    response=JobView,
    status=202,
    errors=(404, 409),
)
def start_import(job_id: str) -> object:
    view = jobs.start_import(bp.merchant_id(), job_id, CONFIG.files_bucket, CONFIG.jobs_queue_url, utcnow())
    return reply(202, view)


@bp.route(
    "/v1/imports/{job_id}",
    methods=["GET"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="An import's progress: rows done, failed (with line and reason) and total",
    response=JobView,
    errors=(404,),
)
def get_import(job_id: str) -> object:
    return reply(200, jobs.view(jobs.get(bp.merchant_id(), job_id, "import"), CONFIG.files_bucket))


@bp.route(
    "/v1/exports",
    methods=["POST"],
    authorizer=merchant_key,
    access=OWNER,
    summary="Export the members or the transactions to CSV (owner only; audited)",
    request=ExportRequest,
    response=JobView,
    status=202,
    errors=(409,),
    idempotent=True,
)
def post_export() -> object:
    request = bp.parse(ExportRequest)
    view, replayed = jobs.create_export(bp.merchant_id(), request, CONFIG.files_bucket, CONFIG.jobs_queue_url, utcnow())
    return idempotent_reply(202, view, replayed)


@bp.route(
    "/v1/exports/{job_id}",
    methods=["GET"],
    authorizer=merchant_key,
    access=OWNER,
    summary="An export's progress, and its download_url when done",
    response=JobView,
    errors=(404,),
)
def get_export(job_id: str) -> object:
    return reply(200, jobs.view(jobs.get(bp.merchant_id(), job_id, "export"), CONFIG.files_bucket))


app = create_app("jobs", bp)


# ---- the worker ----------------------------------------------------------------------------------
def run_chunk(record: SQSRecord) -> None:
    try:
        message = json.loads(record.body)
        merchant_id, job_id, chunk = str(message["merchant_id"]), str(message["job_id"]), int(message["chunk"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidRequest("not a job message") from exc
    try:
        outcome = jobs.run(
            merchant_id, job_id, chunk, CONFIG.files_bucket, CONFIG.jobs_queue_url, runtime.current().cipher(), utcnow()
        )
    except Exception as exc:
        if int(record.attributes.approximate_receive_count or 1) >= CONFIG.jobs_max_receive_count:
            jobs.fail(merchant_id, job_id, f"chunk {chunk} failed on every retry ({type(exc).__name__})", utcnow())
        raise
    logger.info("job message", extra={"job": job_id, "chunk": chunk, "outcome": outcome})


chunks = QueueConsumer(
    "JobChunks", run_chunk, dlq_url=CONFIG.jobs_dlq_url, max_receive_count=CONFIG.jobs_max_receive_count
)


@observed_handler
def handle_jobs(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return chunks(event, context)
