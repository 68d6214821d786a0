"""Powertools Logger, Tracer and Metrics: one instance each per container.

The service name and metrics namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE (set in template.yaml's Globals and by the local stack).

The tracer patches botocore only: every AWS call (PynamoDB's included, which go through the
shared botocore client) becomes a subsegment. Patching everything the X-Ray SDK knows would also
import and patch sqlite3, httpx and database drivers at cold start, and trace each DynamoDB call
twice (PynamoDB's patch wraps the same requests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()

Handler = TypeVar("Handler", bound=Callable[..., Any])


def observed_handler(handler: Handler) -> Handler:
    """Every Lambda entry point: the invocation's context in every log line, its trace, and its
    metrics flushed at the end (queue, stream and scheduled functions as a decorator; the API
    functions through ``http.app.create_app``'s middleware)."""
    return cast(Handler, logger.inject_lambda_context(tracer.capture_lambda_handler(metrics.log_metrics(handler))))
