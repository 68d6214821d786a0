"""POSTing a delivery: one attempt, a bounded time, and only to addresses the URL policy allows.

The policy is enforced where it cannot be dodged, at connection time: the host's name is resolved
and every address it has must be allowed before anything is sent, and the address actually
connected to is checked again (a name that changes its answer in between is caught). Redirects are
not followed (a ``3xx`` is a failed attempt) and nothing is retried here: retries are the queue's.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import Any, TypeVar

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from loyalty.clock import utcnow
from loyalty.webhooks.retries import AttemptResult
from loyalty.webhooks.urls import UrlPolicy, address_allowed

TIMEOUT_SECONDS = 5.0
EXCERPT_BYTES = 256
ConnectionT = TypeVar("ConnectionT", bound=HTTPConnection)
USER_AGENT = "LoyaltyWebhooks/1.0 (+https://www.standardwebhooks.com)"


class AddressRefused(urllib3.exceptions.HTTPError):
    """The host resolves to (or connected to) an address the URL policy forbids."""


def _check_addresses(host: str, port: int, policy: UrlPolicy) -> None:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return  # the connection itself will fail and say so
    refused = sorted({str(info[4][0]) for info in found if not address_allowed(str(info[4][0]), policy)})
    if refused:
        raise AddressRefused(f"{host} resolves to an address webhooks may not reach ({', '.join(refused)})")


def _guarded(connection_class: type[ConnectionT], policy: UrlPolicy) -> type[ConnectionT]:
    class Guarded(connection_class):  # type: ignore[valid-type,misc]
        def _new_conn(self) -> socket.socket:
            _check_addresses(self._dns_host, self.port, policy)
            sock: socket.socket = super()._new_conn()
            peer = str(sock.getpeername()[0])
            if not address_allowed(peer, policy):
                sock.close()
                raise AddressRefused(f"connected to {peer}, an address webhooks may not reach")
            return sock

    return Guarded


def _retry_after(value: str | None) -> int | None:
    """Seconds from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return int(value.strip())
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(int((moment - utcnow()).total_seconds()), 0) if moment.tzinfo else None


def _failure_reason(exc: Exception, timeout_seconds: float) -> str:
    reasons: list[tuple[type[BaseException], str]] = [
        (AddressRefused, ""),
        (urllib3.exceptions.NameResolutionError, "could not resolve the host name"),
        # before ConnectTimeoutError, which urllib3 makes it a subclass of
        (urllib3.exceptions.NewConnectionError, "connection refused or unreachable"),
        (urllib3.exceptions.ConnectTimeoutError, f"no connection within {timeout_seconds:g} s"),
        (urllib3.exceptions.ReadTimeoutError, f"no answer within {timeout_seconds:g} s"),
        (urllib3.exceptions.SSLError, "TLS handshake failed (certificate or protocol)"),
        (urllib3.exceptions.ProtocolError, "the connection broke off"),
    ]
    for error_type, reason in reasons:
        if isinstance(exc, error_type):
            return reason or str(exc)[:200]
    return type(exc).__name__


class WebhookSender:
    """One per container: keeps connections to endpoints alive between deliveries."""

    def __init__(self, policy: UrlPolicy, timeout_seconds: float = TIMEOUT_SECONDS) -> None:
        self.policy = policy
        self._timeout_seconds = timeout_seconds
        self._timeout = urllib3.Timeout(total=timeout_seconds)

    @cached_property
    def _pool(self) -> urllib3.PoolManager:
        policy = self.policy

        class GuardedHTTPPool(HTTPConnectionPool):
            ConnectionCls = _guarded(HTTPConnection, policy)

        class GuardedHTTPSPool(HTTPSConnectionPool):
            ConnectionCls = _guarded(HTTPSConnection, policy)

        manager = urllib3.PoolManager(num_pools=50, maxsize=2, block=False)
        manager.pool_classes_by_scheme = {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}
        return manager

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> AttemptResult:
        started = time.monotonic()
        request_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
        try:
            response = self._pool.request(
                "POST",
                url,
                body=body,
                headers=request_headers,
                timeout=self._timeout,
                retries=False,
                redirect=False,
                preload_content=False,
            )
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            return AttemptResult(None, _elapsed_ms(started), error=_failure_reason(exc, self._timeout_seconds))
        latency = _elapsed_ms(started)
        return AttemptResult(
            response.status,
            latency,
            error=None if 200 <= response.status < 300 else f"answered {response.status}",
            retry_after_seconds=_retry_after(response.headers.get("Retry-After")),
            response_excerpt=_excerpt(response),
        )


def _excerpt(response: Any) -> str | None:
    """The start of the answer (for the log); the rest is not read, and the connection not reused."""
    try:
        head: bytes = response.read(EXCERPT_BYTES)
    except (urllib3.exceptions.HTTPError, OSError):
        head = b""
    if response.length_remaining == 0:
        response.release_conn()
    else:
        response.close()
    text = head.decode("utf-8", errors="replace").strip()
    return text or None


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
