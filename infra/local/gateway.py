"""Chalice's local server, made to behave like our API Gateway configuration.

Chalice's local gateway always reads the ``Authorization`` header, never caches an authorizer's
answer and answers auth failures in API Gateway's default shapes. Our template configures each
TOKEN authorizer's header and cache (``ReauthorizeEvery``), a REQUEST authorizer for merchant
routes (it sees every header: an API key or a staff token, and API Gateway calls it on every
request, with no identity source and no cache), and GatewayResponses with our error shape, so the
local gateway does the same: it hands a TOKEN authorizer the header it was registered with and a
REQUEST authorizer the whole request, keeps an answer per identity source for the template's TTL
(``AuthorizerCache``), and answers 401/403/404/413 as template.yaml's GatewayResponses do.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from chalice.app import Chalice, ChaliceAuthorizer
from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    ForbiddenError,
    InvalidAuthorizerError,
    LambdaContext,
    LocalChalice,
    LocalDevServer,
    LocalGateway,
    LocalGatewayAuthorizer,
    LocalGatewayException,
    NotAuthorizedError,
    ThreadedHTTPServer,
)
from loyalty.clock import utcnow
from loyalty.http.errors import error_body
from loyalty.http.request_auth import RequestAuthorizer

from infra.local.web import StaticReply, WebApp

MAX_REQUEST_BYTES = 1024 * 1024


class PayloadTooLargeError(LocalGatewayException):
    CODE = 413


class NoRouteError(LocalGatewayException):
    CODE = 404


def _body(code: str, message: str) -> bytes:
    return json.dumps(error_body(code, message)).encode()


def _unauthorized() -> NotAuthorizedError:
    return NotAuthorizedError(
        {"Content-Type": "application/json"}, _body("unauthorized", "missing or invalid credentials")
    )


SAM_DEFAULT_REAUTHORIZE_SECONDS = 300  # AWS::Serverless::Api's ReauthorizeEvery when not given


class AuthorizerCache:
    """API Gateway's authorizer cache: an authorizer's answer kept per identity source (a TOKEN
    authorizer's header) for its ``ReauthorizeEvery`` seconds; 0, or no identity source (our
    REQUEST authorizer), means it runs on every request. A refusal ("Unauthorized") is not kept."""

    MAX_ENTRIES = 10_000

    def __init__(self, ttls: Mapping[str, float]) -> None:
        self._ttls = dict(ttls)
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], tuple[float, Any]] = {}

    @classmethod
    def from_template(cls, template: Mapping[str, Any], override_seconds: float | None = None) -> AuthorizerCache:
        """Every API's authorizers' TTLs; ``override_seconds`` replaces those the template caches."""
        ttls: dict[str, float] = {}
        for resource in template["Resources"].values():
            if resource["Type"] != "AWS::Serverless::Api":
                continue
            for name, config in resource["Properties"].get("Auth", {}).get("Authorizers", {}).items():
                ttl = float(config.get("Identity", {}).get("ReauthorizeEvery", SAM_DEFAULT_REAUTHORIZE_SECONDS))
                ttls[name] = override_seconds if override_seconds is not None and ttl > 0 else ttl
        return cls(ttls)

    def ttl(self, name: str) -> float:
        return self._ttls.get(name, 0.0)

    def answer(self, name: str, identity: str | None, ask: Callable[[], Any]) -> Any:
        ttl = self.ttl(name)
        if identity is None or ttl <= 0:
            return ask()
        # The stack's one clock: moved forward (PUT /_local/clock), cached answers age with the
        # tokens they vouch for; moved back, an answer "from the future" is not trusted either.
        key, now = (name, identity), utcnow().timestamp()
        with self._lock:
            cached = self._entries.get(key)
        if cached is not None and 0 <= now - cached[0] < ttl:
            return copy.deepcopy(cached[1])
        result = ask()
        if result is not None:
            with self._lock:
                if len(self._entries) >= self.MAX_ENTRIES:
                    self._entries = {k: v for k, v in self._entries.items() if 0 <= now - v[0] < ttl}
                self._entries[key] = (now, copy.deepcopy(result))
        return result


AUTHORIZER_CACHE = AuthorizerCache({})  # set by the local stack from template.yaml


class LoyaltyGatewayAuthorizer(LocalGatewayAuthorizer):
    """Our authorizers' headers, cache and error shape (see the module docstring)."""

    def authorize(self, raw_path: str, lambda_event: Any, lambda_context: LambdaContext) -> Any:
        try:
            return self._authorize(raw_path, lambda_event, lambda_context)
        except ForbiddenError as exc:
            raise ForbiddenError(
                {"Content-Type": "application/json"}, _body("forbidden", "these credentials may not do this")
            ) from exc
        except LocalGatewayException:
            raise
        except Exception as exc:
            # API Gateway answers 401 when the authorizer fails with "Unauthorized".
            raise _unauthorized() from exc

    def _authorize(self, raw_path: str, lambda_event: Any, lambda_context: LambdaContext) -> Any:
        """Chalice's own steps for a Lambda authorizer, with the answer asked of the cache."""
        route = self._route_for_event(lambda_event)
        authorizer = route.authorizer if route is not None else None
        if not isinstance(authorizer, ChaliceAuthorizer):
            return super().authorize(raw_path, lambda_event, lambda_context)
        arn = self._arn_builder.build_arn(lambda_event["requestContext"]["httpMethod"], raw_path)
        auth_event = self._prepare_authorizer_event(arn, lambda_event, lambda_context)
        identity = auth_event.get("authorizationToken") if auth_event.get("type") == "TOKEN" else None
        result = AUTHORIZER_CACHE.answer(authorizer.name, identity, lambda: authorizer(auth_event, lambda_context))
        if result is None:
            raise InvalidAuthorizerError({"x-amzn-ErrorType": "AuthorizerConfigurationException"}, b'{"message":null}')
        if not self._check_can_invoke_view_function(arn, result):
            raise ForbiddenError({"x-amzn-ErrorType": "AccessDeniedException"}, b"{}")
        return self._update_lambda_event(lambda_event, result), lambda_context

    def _prepare_authorizer_event(self, arn: str, lambda_event: Any, lambda_context: LambdaContext) -> Any:
        route = self._route_for_event(lambda_event)
        authorizer = route.authorizer if route is not None else None
        if isinstance(authorizer, RequestAuthorizer):
            return {**lambda_event, "type": "REQUEST", "methodArn": arn}
        header = "authorization"
        if isinstance(authorizer, ChaliceAuthorizer) and authorizer.config is not None:
            header = (authorizer.config.header or "Authorization").lower()
        token = (lambda_event.get("headers") or {}).get(header)
        if not token:
            raise _unauthorized()
        event = dict(lambda_event)
        event.update({"type": "TOKEN", "authorizationToken": token, "methodArn": arn})
        return event


class ThrottledError(LocalGatewayException):
    CODE = 429


class MerchantThrottle:
    """The usage plan's per-merchant throttle (template.yaml: the API's Auth.UsagePlan.Throttle),
    as token buckets: ``rate`` requests a second on average, bursts of up to ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # merchant -> (tokens, last refill)

    def take(self, merchant_id: str) -> None:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(merchant_id, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[merchant_id] = (tokens, now)
                retry = max(1, round((1 - tokens) / self.rate))
                raise ThrottledError(
                    {"Content-Type": "application/json", "Retry-After": str(retry)},
                    _body("rate_limited", "too many requests; retry later"),
                )
            self._buckets[merchant_id] = (tokens - 1, now)


THROTTLE: MerchantThrottle | None = None  # set by the local stack from template.yaml
WEB_APP: WebApp | None = None  # the merchant web app under /app/, set by the local stack


class LoyaltyGateway(LocalGateway):
    def __init__(self, app_object: Chalice, config: Config) -> None:
        super().__init__(app_object, config)
        self._authorizer = ThrottlingAuthorizer(app_object)

    def handle_request(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        if body is not None and len(body) > MAX_REQUEST_BYTES:
            raise PayloadTooLargeError(
                {"Content-Type": "application/json"}, _body("payload_too_large", "request body too large")
            )
        try:
            self.event_converter.create_lambda_event(method, path, headers, body)
        except ValueError as exc:
            raise NoRouteError({"Content-Type": "application/json"}, _body("not_found", "no such route")) from exc
        return super().handle_request(method, path, headers, body)


class ThrottlingAuthorizer(LoyaltyGatewayAuthorizer):
    """After a merchant key is accepted, its usage plan's throttle applies, as in API Gateway."""

    def authorize(self, raw_path: str, lambda_event: Any, lambda_context: LambdaContext) -> Any:
        event, context = super().authorize(raw_path, lambda_event, lambda_context)
        merchant_id = ((event.get("requestContext") or {}).get("authorizer") or {}).get("merchant_id")
        principal = ((event.get("requestContext") or {}).get("authorizer") or {}).get("principal")
        if THROTTLE is not None and merchant_id and principal == "merchant":
            THROTTLE.take(str(merchant_id))
        return event, context


class LoyaltyRequestHandler(ChaliceRequestHandler):
    # The reply goes out as headers, then body: with Nagle's algorithm the body waits for the
    # client's delayed ACK of the headers (~40 ms on Linux) on a kept-alive connection.
    disable_nagle_algorithm = True

    def __init__(self, request: Any, client_address: Any, server: Any, app_object: Chalice, config: Config) -> None:
        self.local_gateway = LoyaltyGateway(app_object, config)
        super(ChaliceRequestHandler, self).__init__(request, client_address, server)

    def __getattr__(self, name: str) -> Any:
        # API Gateway answers every method, with a 4xx when no route takes it; the standard library
        # would answer 501 to each method it has no do_<METHOD> for (TRACE, QUERY, ...).
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    def _generic_handle(self) -> None:
        # The web app's paths are greedy (/app/members/...), which Chalice's router cannot take:
        # they are answered before routing. In AWS, CloudFront serves them from S3.
        if WEB_APP is not None and WEB_APP.handles(self.path):
            self._send_static(WEB_APP.reply(self.command, self.path, self.headers.get("Host")))
            return
        super()._generic_handle()

    # Chalice binds its do_<METHOD> names to its own _generic_handle: rebind them to ours.
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle  # noqa: N815

    def _send_static(self, reply: StaticReply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the access log would print paths with phone numbers in query strings


class BusyTillServer(ThreadedHTTPServer):
    """A thread per request, and a listen backlog deep enough for a shop's tills all at once
    (the standard library's default of 5 resets connections under a burst)."""

    request_queue_size = 256
    daemon_threads = True


def create_server(app: Chalice, host: str, port: int) -> LocalDevServer:
    """Like chalice.local.create_local_server, with our gateway and a thread per request."""
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    config = Config.create(chalice_stage="local", app_name=app.app_name, lambda_timeout=30)
    return LocalDevServer(app, config, host, port, handler_cls=LoyaltyRequestHandler, server_cls=BusyTillServer)
