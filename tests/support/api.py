"""Calling a function's Chalice app the way API Gateway does: run the route's authorizer on the
credential header, refuse as the gateway would, then invoke the app with the authorizer context."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalice.app import Chalice, ChaliceAuthorizer
from chalice.local import LocalChalice
from loyalty.http.request_auth import RequestAuthorizer

from tests.support.events import api_event, context, request_event, token_event


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


class GatewayClient:
    def __init__(self, app: Chalice, headers: dict[str, str] | None = None) -> None:
        # Lambda runs one request per container at a time; tests that fire concurrent requests at
        # one app object need Chalice's thread-local current_request, as its local server uses.
        if not isinstance(app, LocalChalice):
            app.__class__ = LocalChalice
        self.app = app
        self.headers = dict(headers or {})

    def _route(self, method: str, resource: str) -> Any:
        return self.app.routes[resource][method]

    def call(
        self,
        method: str,
        resource: str,
        *,
        path_params: dict[str, str] | None = None,
        body: Any = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = {**self.headers, **(headers or {})}
        authorizer_context: dict[str, Any] | None = None
        route = self._route(method, resource)
        if isinstance(route.authorizer, ChaliceAuthorizer):
            if isinstance(route.authorizer, RequestAuthorizer):  # sees the whole request
                auth_event = request_event(method, resource, all_headers)
            else:
                header = route.authorizer.config.header
                token = next((v for k, v in all_headers.items() if k.lower() == header.lower()), None)
                if not token:
                    return Reply(401, {"error": {"code": "unauthorized"}}, {})
                auth_event = token_event(token, method, resource)
            try:
                policy = route.authorizer(auth_event, context("authorizer"))
            except Exception as exc:
                assert str(exc) == "Unauthorized", f"authorizer failed with {exc!r}, not the 401 message"
                return Reply(401, {"error": {"code": "unauthorized"}}, {})
            statements = policy["policyDocument"]["Statement"]
            if not any(s["Effect"] == "Allow" for s in statements):
                return Reply(403, {"error": {"code": "forbidden"}}, {})
            authorizer_context = {**policy["context"], "principalId": policy["principalId"]}
        event = api_event(
            method,
            resource,
            path_params=path_params,
            body=body,
            query=query,
            headers=all_headers,
            authorizer=authorizer_context,
        )
        response = self.app(event, context(self.app.app_name))
        raw = response.get("body")
        return Reply(response["statusCode"], json.loads(raw) if raw else None, response.get("headers", {}))

    def get(self, resource: str, **kwargs: Any) -> Reply:
        return self.call("GET", resource, **kwargs)

    def post(self, resource: str, **kwargs: Any) -> Reply:
        return self.call("POST", resource, **kwargs)

    def put(self, resource: str, **kwargs: Any) -> Reply:
        return self.call("PUT", resource, **kwargs)

    def patch(self, resource: str, **kwargs: Any) -> Reply:
        return self.call("PATCH", resource, **kwargs)

    def delete(self, resource: str, **kwargs: Any) -> Reply:
        return self.call("DELETE", resource, **kwargs)
