"""Domain errors. Each carries a stable machine-readable ``code``; the HTTP layer maps the
class to a status in one place (``loyalty.http.errors``)."""

from __future__ import annotations

from typing import Any


class LoyaltyError(Exception):
    code = "error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class InvalidRequest(LoyaltyError):
    """The input is malformed or fails validation."""

    code = "validation_error"


class PayloadTooLarge(InvalidRequest):
    """The body is larger than the route takes."""

    code = "payload_too_large"


class Unauthenticated(LoyaltyError):
    """No credentials, or credentials that are not valid."""

    code = "unauthorized"


class Forbidden(LoyaltyError):
    """Valid credentials that may not do this."""

    code = "forbidden"


class NotFound(LoyaltyError):
    code = "not_found"


class Conflict(LoyaltyError):
    """The request conflicts with the current state, e.g. an id reused with another body."""

    code = "conflict"


class InsufficientPoints(Conflict):
    code = "insufficient_points"


class RuleViolation(LoyaltyError):
    """Well-formed, but the program's rules do not allow it."""

    code = "rule_violation"


class RateLimited(LoyaltyError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_seconds: int, code: str | None = None, details: Any = None) -> None:
        super().__init__(message, code=code, details=details)
        self.retry_after_seconds = retry_after_seconds


class Unavailable(LoyaltyError):
    """A dependency is down, or the data is busy: retryable (503 with Retry-After over HTTP; the
    queues retry it)."""

    code = "unavailable"
    retry_after_seconds = 1


class Busy(Unavailable):
    """Too many changes of the same data at once; the same request succeeds when retried."""

    code = "busy"
