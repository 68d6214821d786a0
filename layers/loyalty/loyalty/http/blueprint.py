"""A Chalice Blueprint that maps domain errors to responses and parses typed requests."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from chalice.app import Blueprint, ChaliceViewError, Response
from pydantic import BaseModel, ValidationError

from loyalty.errors import InvalidRequest, LoyaltyError, Unauthenticated
from loyalty.http.errors import CHALICE_CODES, error_body, error_response
from loyalty.platform.observability import logger

ModelT = TypeVar("ModelT", bound=BaseModel)
MAX_BODY_BYTES = 256 * 1024


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


class ApiBlueprint(ReusableBlueprint):
    def route(self, path: str, **kwargs: Any) -> Callable[..., Any]:
        register = super().route(path, **kwargs)

        def decorator(view: Callable[..., Any]) -> Any:
            @functools.wraps(view)
            def guarded(*args: Any, **view_kwargs: Any) -> Any:
                try:
                    return view(*args, **view_kwargs)
                except LoyaltyError as exc:
                    return error_response(exc)
                except ChaliceViewError as exc:
                    status, code = CHALICE_CODES.get(type(exc).__name__, (exc.STATUS_CODE, "error"))
                    return Response(body=error_body(code, str(exc)), status_code=status)

            return register(guarded)

        return decorator

    # ---- request helpers ---------------------------------------------------------------------
    def _authorizer_context(self) -> dict[str, Any]:
        context = self.current_request.context or {}
        return dict(context.get("authorizer") or {})

    def merchant_id(self) -> str:
        merchant_id = self._authorizer_context().get("merchant_id")
        if not merchant_id:
            raise Unauthenticated("this route needs a merchant API key")
        return str(merchant_id)

    def parse(self, model: type[ModelT]) -> ModelT:
        raw = self.current_request.raw_body or b""
        if len(raw) > MAX_BODY_BYTES:
            raise InvalidRequest(f"request body is larger than {MAX_BODY_BYTES} bytes", code="payload_too_large")
        try:
            payload = json.loads(raw or b"{}")
        except ValueError as exc:
            raise InvalidRequest("request body is not valid JSON", code="invalid_json") from exc
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
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
