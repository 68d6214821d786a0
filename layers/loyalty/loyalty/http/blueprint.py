"""A Chalice Blueprint that maps domain errors to responses and parses typed requests."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from chalice.app import Blueprint, ChaliceViewError, Response
from pydantic import BaseModel, ValidationError

from loyalty.api.common import build_now
from loyalty.domain.access import TILL, Access, Principal
from loyalty.errors import Forbidden, InvalidRequest, LoyaltyError, NotFound, PayloadTooLarge, Unauthenticated
from loyalty.http.access import principal_from
from loyalty.http.docs import RouteDoc, document
from loyalty.http.errors import CHALICE_CODES, error_body, error_response
from loyalty.http.request_auth import MerchantAuthorizer
from loyalty.platform.observability import logger, metrics

ModelT = TypeVar("ModelT", bound=BaseModel)
MAX_BODY_BYTES = 256 * 1024
# Path segments become parts of DynamoDB keys (at most 2048 bytes); a longer one names nothing.
MAX_PATH_PARAMETER_BYTES = 1024
CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def check_access(access: Access, principal: Principal | None) -> Principal:
    """The caller, if the route's roles and scopes include it; 401 without one, 403 otherwise."""
    if principal is None:
        raise Unauthenticated("this route needs a merchant's API key or staff token")
    if not access.allows(principal):
        raise Forbidden(
            f"{principal.describe()} may not do this: it takes {access.describe()}",
            details={"roles": access.sorted_roles(), "key_scopes": access.sorted_scopes()},
        )
    return principal


def ensure_path_parameters_fit(parameters: Mapping[str, Any]) -> None:
    """A 404 for an id too long to be one, instead of the 500 DynamoDB's refusal of the key would be."""
    for name, value in parameters.items():
        if len(str(value).encode()) > MAX_PATH_PARAMETER_BYTES:
            raise NotFound(f"no such {name}", details={"field": name})


def validation_details(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in error["loc"]) or "body", "message": error["msg"]}
        for error in exc.errors(include_url=False, include_input=False)
    ]


class ReusableBlueprint(Blueprint):
    """A blueprint that can be registered into more than one app.

    Chalice's route registration pops keys out of the kwargs it is handed, so a plain Blueprint
    registers correctly only once. The local stack registers each function's blueprint into the
    function's own app and into one composed app: each registration gets its own copy."""

    def _register_handler(
        self,
        handler_type: str,
        name: str,
        user_handler: Any,
        wrapped_handler: Any,
        kwargs: dict[str, Any],
        options: dict[Any, Any] | None = None,
    ) -> None:
        def register(app: Any, app_options: dict[Any, Any]) -> None:
            fresh = {key: dict(value) if isinstance(value, dict) else value for key, value in kwargs.items()}
            app._register_handler(handler_type, name, user_handler, wrapped_handler, fresh, app_options)

        self._deferred_registrations.append(register)


def _check_documentation(
    path: str, summary: str | None, query: type[BaseModel] | None, documented: tuple[Any, ...]
) -> None:
    if query is not None and query.model_config.get("strict"):
        raise TypeError(
            f"route {path}: query parameters arrive as strings; derive {query.__name__} from api.common.Query"
        )
    if summary is None and documented != (None, None, None, (), (), False):
        raise TypeError(f"route {path}: documentation needs a summary")


class ApiBlueprint(ReusableBlueprint):
    """Routes that answer domain errors in our shape, and document themselves for the API document.

    ``tags`` group this blueprint's routes in the document unless a route names its own."""

    def __init__(self, import_name: str, *, tags: tuple[str, ...] = ()) -> None:
        super().__init__(import_name)
        self.default_tags = tags

    def route(
        self,
        path: str,
        *,
        summary: str | None = None,
        request: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        errors: tuple[int, ...] = (),
        tags: tuple[str, ...] = (),
        idempotent: bool = False,
        access: Access | None = None,
        reads_only: bool = False,
        **kwargs: Any,
    ) -> Callable[..., Any]:
        """Chalice's route, plus documentation (see ``loyalty.http.docs.RouteDoc``); routes without a
        ``summary`` are left out of the registry (local-only routes).

        A merchant route (``authorizer=merchant_key``) must say who may call it with ``access=``
        (``TILL``, ``MANAGE``, ``OWNER`` or ``STAFF`` from ``loyalty.http.access``): others are
        refused with 403, and every change it makes is written to the audit log (a POST that changes
        nothing, such as a quote or a preview, says ``reads_only=True`` and is not)."""
        merchant_route = isinstance(kwargs.get("authorizer"), MerchantAuthorizer)
        if merchant_route != (access is not None):
            raise TypeError(
                f"route {path}: a merchant route (authorizer=merchant_key) declares access= "
                "(TILL, MANAGE, OWNER or STAFF from loyalty.http.access), and only a merchant route does"
            )
        _check_documentation(path, summary, query, (request, query, response, errors, tags, idempotent))
        if access is TILL:  # someone waits at a till: its first request builds no model
            build_now(request, query, response)
        register = super().route(path, **kwargs)
        methods = [str(method).upper() for method in kwargs.get("methods", ["GET"])]

        def decorator(view: Callable[..., Any]) -> Any:
            if summary is not None:
                for method in methods:
                    document(
                        RouteDoc(
                            path=path,
                            method=method,
                            operation_id=view.__name__,
                            summary=summary,
                            description=inspect.getdoc(view),
                            request=request,
                            query=query,
                            response=response,
                            status=status,
                            errors=errors,
                            tags=tags or self.default_tags,
                            idempotent=idempotent,
                            access=access,
                        )
                    )

            return register(self._guarded(view, path, access, audited=not reads_only))

        return decorator

    def _guarded(
        self, view: Callable[..., Any], path: str, access: Access | None, *, audited: bool
    ) -> Callable[..., Any]:
        """The view, answering domain errors in our shape; on a merchant route, only for the roles
        and scopes of ``access``, and with its changes written to the audit log."""

        @functools.wraps(view)
        def guarded(*args: Any, **view_kwargs: Any) -> Any:
            principal = self.principal() if access is not None else None
            try:
                ensure_path_parameters_fit(view_kwargs)
                if access is not None:
                    check_access(access, principal)
                answer = view(*args, **view_kwargs)
            except LoyaltyError as exc:
                answer = error_response(exc)
            except ChaliceViewError as exc:
                error_status, code = CHALICE_CODES.get(type(exc).__name__, (exc.STATUS_CODE, "error"))
                answer = Response(body=error_body(code, str(exc)), status_code=error_status)
            if principal is not None and audited:
                self._audit(principal, f"{self.current_request.method} {path}", view.__name__, answer, view_kwargs)
            return answer

        return guarded

    # ---- the audit log ------------------------------------------------------------------------
    def _audit(self, principal: Principal, route: str, action: str, response: Any, parameters: dict[str, Any]) -> None:
        """Changes (and changes refused for the caller's role or scope) go to the audit log. Its
        write never fails the request: the change is made; a lost entry is logged and counted."""
        status = response.status_code if isinstance(response, Response) else 200
        if self.current_request.method not in CHANGING_METHODS or not (status < 300 or status == 403):
            return
        from loyalty import runtime
        from loyalty.clock import utcnow
        from loyalty.services import audit

        context = self.current_request.context or {}
        identity = context.get("identity") or {}
        body = response.body if isinstance(response, Response) else response
        try:
            audit.record(
                principal,
                action=action,
                route=route,
                status=status,
                targets_touched=audit.targets(parameters, body if isinstance(body, dict) else None),
                ip=identity.get("sourceIp"),
                user_agent=identity.get("userAgent") or self.current_request.headers.get("user-agent"),
                request_id=context.get("requestId"),
                now=utcnow(),
                cipher=runtime.current().cipher(),
            )
        except Exception:
            logger.exception("audit entry not written", extra={"action": action, "status": status})
            metrics.add_metric(name="AuditEntryLost", unit="Count", value=1)

    # ---- request helpers ---------------------------------------------------------------------
    def _authorizer_context(self) -> dict[str, Any]:
        context = self.current_request.context or {}
        return dict(context.get("authorizer") or {})

    def merchant_id(self) -> str:
        merchant_id = self._authorizer_context().get("merchant_id")
        if not merchant_id:
            raise Unauthenticated("this route needs a merchant API key")
        return str(merchant_id)

    def principal(self) -> Principal | None:
        """The key or staff member calling a merchant route."""
        return principal_from(self._authorizer_context())

    def actor(self) -> str:
        """Who is acting, for ledger authors: the staff member or the API key calling."""
        principal = self.principal()
        return principal.actor_id if principal is not None else "api-key"

    def parse(self, model: type[ModelT]) -> ModelT:
        """The body as ``model``: JSON types taken as they are (strict), at most MAX_BODY_BYTES
        (413 beyond), JSON that is not (too deep, say) a 400 ``invalid_json``."""
        raw = self.current_request.raw_body or b""
        if len(raw) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"request body is larger than {MAX_BODY_BYTES} bytes")
        if not raw.strip():
            raise InvalidRequest("a JSON body is required (send {} for none of its fields)", code="invalid_json")
        try:
            return model.model_validate_json(raw)
        except ValidationError as exc:
            if any(error["type"] == "json_invalid" for error in exc.errors()):
                raise InvalidRequest("request body is not valid JSON", code="invalid_json") from exc
            raise InvalidRequest("request body is invalid", details=validation_details(exc)) from exc

    def query(self, name: str) -> str | None:
        params: Mapping[str, str] = self.current_request.query_params or {}
        value = params.get(name)
        return str(value) if value is not None else None

    def query_model(self, model: type[ModelT]) -> ModelT:
        try:
            return model.model_validate(dict(self.current_request.query_params or {}))
        except ValidationError as exc:
            raise InvalidRequest("query parameters are invalid", details=validation_details(exc)) from exc


def reply(status: int, body: BaseModel | dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    payload = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    return Response(body=payload, status_code=status, headers={"Content-Type": "application/json", **(headers or {})})


def idempotent_reply(status: int, body: BaseModel, replayed: bool) -> Response:
    """Replays answer exactly as the first time, and say so in a header."""
    if replayed:
        logger.info("idempotent replay")
    return reply(status, body, {"Idempotent-Replayed": "true"} if replayed else None)
