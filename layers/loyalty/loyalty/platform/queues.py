"""SQS consumption with Powertools' BatchProcessor: a message that fails, fails alone.

What happens to a message the handler cannot process:
- a permanent error (the message itself is wrong: invalid, unknown merchant or member, an id
  reused with another body) goes to the DLQ at once, with its reason as message attributes;
- any other error is reported as a batch item failure, so SQS redelivers it after the visibility
  timeout; on its last allowed receive it goes to the DLQ with its reason instead;
- the queue's redrive policy (same ``maxReceiveCount``) stays as the backstop for crashes and
  timeouts, where the handler cannot say why.
The rest of the batch is applied either way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from loyalty.errors import Conflict, InvalidRequest, NotFound, RuleViolation
from loyalty.platform.aws import client
from loyalty.platform.observability import logger, metrics

PERMANENT_ERRORS: tuple[type[Exception], ...] = (InvalidRequest, NotFound, Conflict, RuleViolation)


class QueueConsumer:
    def __init__(self, name: str, handle: Callable[[SQSRecord], None], dlq_url: str, max_receive_count: int) -> None:
        self.name = name
        self._handle = handle
        self._dlq_url = dlq_url
        self._max_receive_count = max_receive_count
        self._processor = BatchProcessor(event_type=EventType.SQS)

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return dict(
            process_partial_response(
                event=event, record_handler=self._record, processor=self._processor, context=context
            )
        )

    def _record(self, record: SQSRecord) -> None:
        try:
            self._handle(record)
        except PERMANENT_ERRORS as exc:
            self._dead_letter(record, exc, permanent=True)
        except Exception as exc:
            receives = int(record.attributes.approximate_receive_count or 1)
            logger.warning(
                "queue message failed",
                extra={
                    "queue": self.name,
                    "message_id": record.message_id,
                    "receive_count": receives,
                    "error": type(exc).__name__,
                },
            )
            if receives >= self._max_receive_count:
                self._dead_letter(record, exc, permanent=False)
                return
            raise

    def _dead_letter(self, record: SQSRecord, exc: Exception, *, permanent: bool) -> None:
        code = getattr(exc, "code", type(exc).__name__)
        reason = str(getattr(exc, "message", exc))[:1000]
        client("sqs").send_message(
            QueueUrl=self._dlq_url,
            MessageBody=record.body,
            MessageAttributes={
                "failure_code": {"DataType": "String", "StringValue": str(code)},
                "failure_reason": {"DataType": "String", "StringValue": reason or type(exc).__name__},
                "failure_kind": {
                    "DataType": "String",
                    "StringValue": "permanent" if permanent else "retries_exhausted",
                },
                "failed_at": {"DataType": "String", "StringValue": datetime.now(UTC).isoformat()},
                "source_message_id": {"DataType": "String", "StringValue": record.message_id},
                "receive_count": {
                    "DataType": "Number",
                    "StringValue": str(record.attributes.approximate_receive_count or 1),
                },
            },
        )
        metrics.add_metric(name=f"{self.name}DeadLettered", unit="Count", value=1)
        logger.error(
            "queue message dead-lettered",
            extra={
                "queue": self.name,
                "message_id": record.message_id,
                "code": code,
                "permanent": permanent,
            },
        )


def eventbridge_detail(record: SQSRecord) -> Any:
    """The ``detail`` of an EventBridge event delivered to SQS by a rule."""
    envelope = json.loads(record.body)
    return envelope.get("detail", envelope) if isinstance(envelope, dict) else envelope
