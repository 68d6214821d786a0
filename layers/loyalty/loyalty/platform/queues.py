"""SQS consumption with Powertools' BatchProcessor: a message that fails, fails alone.

What happens to a message the handler cannot process:
- a permanent error (the message itself is wrong: invalid, unknown merchant or member, an id
  reused with another body, not signed by a sender allowed to send it) goes to the DLQ at once,
  with its reason as message attributes (and the message's own attributes);
- any other error is reported as a batch item failure, so SQS redelivers it after the visibility
  timeout; on its last allowed receive it goes to the DLQ with its reason instead;
- the queue's redrive policy (same ``maxReceiveCount``) stays as the backstop for crashes and
  timeouts, where the handler cannot say why.
The rest of the batch is applied either way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from loyalty.clock import utcnow
from loyalty.errors import Conflict, Forbidden, InvalidRequest, NotFound, RuleViolation, Unauthenticated
from loyalty.platform.aws import client
from loyalty.platform.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch import BatchProcessor
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

PERMANENT_ERRORS: tuple[type[Exception], ...] = (
    InvalidRequest,
    NotFound,
    Conflict,
    RuleViolation,
    Unauthenticated,
    Forbidden,
)
# SQS takes at most 10 attributes per message: ours, and as many of the message's own as fit.
MAX_MESSAGE_ATTRIBUTES = 10


class QueueConsumer:
    def __init__(
        self,
        name: str,
        handle: Callable[[SQSRecord], None],
        dlq_url: str,
        max_receive_count: int,
        *,
        queue_url: str | None = None,
        backoff_seconds: int | None = None,
        retry_delay: Callable[[int, Exception], int | None] | None = None,
    ) -> None:
        """With ``queue_url`` and ``backoff_seconds``, a failed message comes back after
        backoff_seconds x 2^(receives - 1) (at most 15 minutes), not after the fixed visibility
        timeout: a supplier that is down is not hammered. With ``queue_url`` and ``retry_delay``
        instead, after ``retry_delay(receives, error)`` seconds: a schedule of the consumer's own
        (None: the queue's visibility timeout)."""
        self.name = name
        self._handle = handle
        self._dlq_url = dlq_url
        self._max_receive_count = max_receive_count
        self._queue_url = queue_url
        self._backoff = backoff_seconds
        self._retry_delay = retry_delay
        self._processor: BatchProcessor | None = None

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # Powertools' batch utility (with its data classes and parser models) is imported on the
        # first batch, not at cold start: an API function of the same module never needs it.
        from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

        if self._processor is None:
            # When every record fails, report them all rather than fail the invocation: same
            # retries, but our dead-lettering with reasons still applies.
            self._processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
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
            self._delay_retry(record, receives, exc)
            raise

    def _delay(self, receives: int, exc: Exception) -> int | None:
        if self._retry_delay is not None:
            return self._retry_delay(receives, exc)
        return min(self._backoff * 2 ** (receives - 1), 900) if self._backoff is not None else None

    def _delay_retry(self, record: SQSRecord, receives: int, exc: Exception) -> None:
        delay = self._delay(receives, exc) if self._queue_url is not None else None
        if delay is None:
            return
        try:
            client("sqs").change_message_visibility(
                QueueUrl=self._queue_url, ReceiptHandle=record.receipt_handle, VisibilityTimeout=delay
            )
        except ClientError:  # the retry still happens, after the queue's own visibility timeout
            logger.warning("could not delay the retry", extra={"queue": self.name, "message_id": record.message_id})

    def _dead_letter(self, record: SQSRecord, exc: Exception, *, permanent: bool) -> None:
        code = getattr(exc, "code", type(exc).__name__)
        reason = str(getattr(exc, "message", exc))[:1000]
        reasons = {
            "failure_code": {"DataType": "String", "StringValue": str(code)},
            "failure_reason": {"DataType": "String", "StringValue": reason or type(exc).__name__},
            "failure_kind": {
                "DataType": "String",
                "StringValue": "permanent" if permanent else "retries_exhausted",
            },
            "failed_at": {"DataType": "String", "StringValue": utcnow().isoformat()},
            "source_message_id": {"DataType": "String", "StringValue": record.message_id},
            "receive_count": {
                "DataType": "Number",
                "StringValue": str(record.attributes.approximate_receive_count or 1),
            },
        }
        group = record.attributes.message_group_id or "dead-letters"
        fifo = (  # a FIFO queue's dead-letter queue is FIFO too
            {"MessageGroupId": group, "MessageDeduplicationId": record.message_id}
            if self._dlq_url.endswith(".fifo")
            else {}
        )
        client("sqs").send_message(
            QueueUrl=self._dlq_url,
            MessageBody=record.body,
            **fifo,
            MessageAttributes={**_own_attributes(record, MAX_MESSAGE_ATTRIBUTES - len(reasons)), **reasons},
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


def _own_attributes(record: SQSRecord, room: int) -> dict[str, dict[str, str]]:
    """The message's own string attributes (e.g. which partner sent it), as many as fit."""
    own = {
        name: {"DataType": "String", "StringValue": str(value.string_value)}
        for name, value in sorted(record.message_attributes.items())
        if value.string_value
    }
    return dict(list(own.items())[: max(room, 0)])


def eventbridge_detail(record: SQSRecord) -> Any:
    """The ``detail`` of an EventBridge event delivered to SQS by a rule."""
    try:
        envelope = json.loads(record.body)
    except (ValueError, RecursionError) as exc:
        raise InvalidRequest("the message is not JSON") from exc
    return envelope.get("detail", envelope) if isinstance(envelope, dict) else envelope
