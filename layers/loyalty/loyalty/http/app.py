"""Builds each function's Chalice app: its blueprints, the authorizers, Powertools middleware,
and our error shape for the errors Chalice produces itself."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Chalice, ConvertToMiddleware, Response

from loyalty.http.auth import auth
from loyalty.http.errors import from_chalice_body
from loyalty.platform.observability import observed_handler


def error_shape_middleware(app: Chalice) -> Any:
    """Chalice's own error answers in our shape; a 405 says which methods the route takes."""

    def middleware(event: Any, get_response: Any) -> Response:
        response: Response = get_response(event)
        if response.status_code >= 400:
            response = from_chalice_body(response.status_code, response.body) or response
        if response.status_code == 405:
            resource = (getattr(event, "context", None) or {}).get("resourcePath")
            methods = sorted(app.routes.get(resource, {})) if resource else []
            if methods:
                response.headers = {**(response.headers or {}), "Allow": ", ".join(methods)}
        return response

    return middleware


def create_app(name: str, *blueprints: Blueprint) -> Chalice:
    app = Chalice(app_name=name)
    app.register_blueprint(auth)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.register_middleware(ConvertToMiddleware(observed_handler))
    app.register_middleware(error_shape_middleware(app), "http")
    return app
