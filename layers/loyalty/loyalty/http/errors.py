"""The one place where errors become HTTP responses: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from loyalty import errors

STATUS_BY_ERROR: tuple[tuple[type[errors.LoyaltyError], int], ...] = (
    (errors.InsufficientPoints, 409),
    (errors.PayloadTooLarge, 413),
    (errors.InvalidRequest, 400),
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.RuleViolation, 422),
    (errors.RateLimited, 429),
    (errors.Unavailable, 503),
)

# Chalice's own errors (raised before or around our views) by class name.
CHALICE_CODES = {
    "BadRequestError": (400, "bad_request"),
    "UnauthorizedError": (401, "unauthorized"),
    "ForbiddenError": (403, "forbidden"),
    "NotFoundError": (404, "not_found"),
    "MethodNotAllowedError": (405, "method_not_allowed"),
    "RequestTimeoutError": (408, "request_timeout"),
    "ConflictError": (409, "conflict"),
    "UnprocessableEntityError": (422, "unprocessable"),
    "TooManyRequestsError": (429, "rate_limited"),
    "UnsupportedMediaType": (415, "unsupported_media_type"),
    "NotAcceptableError": (406, "not_acceptable"),
    "InternalServerError": (500, "internal_error"),
}

JSON_HEADERS: dict[str, str | list[str]] = {"Content-Type": "application/json"}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def status_for(exc: errors.LoyaltyError) -> int:
    for error_type, status in STATUS_BY_ERROR:
        if isinstance(exc, error_type):
            return status
    return 500


def error_response(exc: errors.LoyaltyError, headers: dict[str, str | list[str]] | None = None) -> Response:
    """The error in our shape; a retryable one (429, 503) says when to retry in ``Retry-After``."""
    retry_after = getattr(exc, "retry_after_seconds", None)
    retry: dict[str, str | list[str]] = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return Response(
        body=error_body(exc.code, exc.message, exc.details),
        status_code=status_for(exc),
        headers={**JSON_HEADERS, **retry, **(headers or {})},
    )


def from_chalice_body(status: int, body: Any) -> Response | None:
    """Chalice answers some errors itself with {"Code", "Message"}: give them our shape."""
    if not (isinstance(body, dict) and set(body) == {"Code", "Message"}):
        return None
    _, code = CHALICE_CODES.get(str(body["Code"]), (status, "error"))
    message = str(body["Message"]) if status < 500 else "internal error"
    return Response(body=error_body(code, message), status_code=status, headers=JSON_HEADERS)
