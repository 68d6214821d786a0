"""Builds each function's Chalice app: its blueprints, the authorizers, Powertools middleware,
and our error shape for the errors Chalice produces itself."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Chalice, ConvertToMiddleware, Response

from loyalty.http.auth import auth
from loyalty.http.errors import from_chalice_body
from loyalty.platform.observability import logger, metrics, tracer


def error_shape_middleware(event: Any, get_response: Any) -> Response:
    response: Response = get_response(event)
    if response.status_code >= 400:
        normalised = from_chalice_body(response.status_code, response.body)
        if normalised is not None:
            return normalised
    return response


def create_app(name: str, *blueprints: Blueprint) -> Chalice:
    app = Chalice(app_name=name)
    app.register_blueprint(auth)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context))
    app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler))
    app.register_middleware(ConvertToMiddleware(metrics.log_metrics))
    app.register_middleware(error_shape_middleware, "http")
    return app
