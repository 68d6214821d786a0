"""The OpenAPI 3.1 document of the HTTP API, generated from the code; openapi.json is its output.

Routes come from the Chalice apps of the functions in template.yaml, what each route takes and
answers from its documentation (``loyalty.http.docs``), the schemas from the pydantic models.

    python -m infra.openapi          writes openapi.json at the repository root
    python -m infra.openapi --check  exits 1 when openapi.json is not what the code generates
"""

from __future__ import annotations

import argparse
import difflib
import http
import importlib
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chalice.app import Chalice, RouteEntry
from loyalty.api.common import ErrorResponse
from loyalty.http.docs import ROUTE_DOCS, RouteDoc
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from infra.template import ROOT, load_template, resources_of_type

DOCUMENT_PATH = ROOT / "openapi.json"
LOCAL_SERVER = "http://127.0.0.1:8000"
SCHEMA_REF = "#/components/schemas/{model}"
LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"

DESCRIPTION = """\
Loyalty for small businesses: tills, web shops and apps enroll members, record purchases and \
refunds, spend points, and manage the program, rewards and notifications.

**Credentials.** Merchant routes take either one of the merchant's API keys in `X-Api-Key` \
(machines: tills, web shops, integrations) or a staff member's access token as \
`Authorization: Bearer <token>` (people, signed in at `/v1/staff/auth/sign-in`). Platform \
administration takes the platform admin token, and member routes (the mobile app) a member's \
token, both as `Authorization: Bearer <token>`. A missing or wrong credential is a 401.

**Roles and scopes.** Each merchant route says who may call it (`x-roles`, `x-key-scopes` and its \
description): staff by role (owner, manager, cashier) and API keys by scope (till, integration, \
full). Anyone else gets a 403 `forbidden`.

**Units.** Money is in kopecks (integers: `125000` is 1 250 roubles), points are integers, times \
are ISO-8601 in UTC.

**Errors** always look like `{"error": {"code": "...", "message": "...", "details": ...}}`: `code` \
is stable and meant for programs, `details` (when present) names the offending fields. 400 invalid \
input, 401/403 credentials, 404 unknown (also another merchant's data), 409 conflicts and \
insufficient points, 422 rule violations, 429 throttling, 503 busy: retry.

**Idempotency.** Purchases, refunds, redemptions, coupon claims, memberships, bonus actions and \
campaigns carry the caller's own id and are applied once, forever: a retry with the same id and \
body gets the first answer again, with the header `Idempotent-Replayed: true`; the same id with \
another body is a 409 `idempotency_conflict`.
"""

# By the name of the Chalice authorizer that guards the route.
SECURITY_SCHEMES: dict[str, dict[str, str]] = {
    "MerchantKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Api-Key",
        "description": "One of the merchant's API keys (POST /v1/keys; the first one comes with the merchant).",
    },
    "StaffToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A staff member's access token (Amazon Cognito; POST /v1/staff/auth/sign-in).",
    },
    "AdminToken": {"type": "http", "scheme": "bearer", "description": "The platform admin token."},
    "MemberToken": {"type": "http", "scheme": "bearer", "description": "A member's token (the mobile app)."},
}

# The schemes an authorizer accepts, when it takes more than the one named after it.
AUTHORIZER_SCHEMES: dict[str, tuple[str, ...]] = {"MerchantKey": ("MerchantKey", "StaffToken")}

# Each error status is one shared response: (component name, what it means).
ERROR_RESPONSES: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "The input is malformed or invalid; `details` names the fields."),
    401: ("Unauthorized", "Missing or invalid credentials."),
    403: ("Forbidden", "These credentials may not do this."),
    404: ("NotFound", "Not found (also when it belongs to another merchant)."),
    409: ("Conflict", "Conflicts with the current state: an id reused with another body, too few points, ..."),
    413: ("PayloadTooLarge", "The body is larger than the gateway takes."),
    415: ("UnsupportedMediaType", "The body is not of a media type this route takes."),
    422: ("RuleViolation", "Well-formed, but the program's rules do not allow it."),
    429: ("TooManyRequests", "Throttled; retry later."),
    500: ("InternalError", "Something broke on our side; the message tells no more."),
    503: ("Unavailable", "Busy, or a dependency is down; retry."),
}
EVERY_ROUTE_ERRORS = (400, 429, 500)
AUTHENTICATED_ERRORS = (401, 403)
BODY_ERRORS = (413, 415)  # answered by the gateway and Chalice before the view runs

REPLAY_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true` when this answers a retry of an earlier identical request.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


@dataclass(frozen=True)
class Route:
    function: str  # the function's logical id in template.yaml
    path: str
    method: str
    entry: RouteEntry

    @property
    def key(self) -> tuple[str, str]:
        return (self.path, self.method)


# ---- what there is to document -------------------------------------------------------------------
def prepare_environment(template: Mapping[str, Any]) -> None:
    """Function modules read their configuration at import: outside the local stack and the tests,
    placeholders do (nothing is called at import)."""
    variables: dict[str, Any] = dict(
        template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    for resource in resources_of_type(dict(template), "AWS::Serverless::Function").values():
        variables.update(resource["Properties"].get("Environment", {}).get("Variables", {}))
    for name, value in variables.items():
        os.environ.setdefault(
            name, str(value) if not isinstance(value, dict) else f"openapi-placeholder-{name.lower()}"
        )


def function_apps(template: Mapping[str, Any]) -> dict[str, Chalice]:
    """The Chalice app of every function whose handler is one (importing it documents its routes)."""
    apps: dict[str, Chalice] = {}
    for name, resource in sorted(resources_of_type(dict(template), "AWS::Serverless::Function").items()):
        props = resource["Properties"]
        if props["Handler"] == "app.app":
            module = importlib.import_module(f"{props['CodeUri'].strip('/').replace('/', '.')}.app")
            apps[name] = module.app
    return apps


def routes_of(apps: Mapping[str, Chalice]) -> list[Route]:
    routes: dict[tuple[str, str], Route] = {}
    for function, app in apps.items():
        for path, methods in app.routes.items():
            for method, entry in methods.items():
                route = Route(function, path, method, entry)
                if route.key in routes:
                    raise ValueError(f"{method} {path} is in both {routes[route.key].function} and {function}")
                routes[route.key] = route
    return [routes[key] for key in sorted(routes)]


# ---- schemas ---------------------------------------------------------------------------------------
class ApiJsonSchema(GenerateJsonSchema):
    def time_schema(self, schema: core_schema.TimeSchema) -> JsonSchemaValue:
        # Our times of day are local wall-clock times ("22:00:00"); JSON Schema's "time" format
        # demands an offset, which the API would refuse.
        return {"type": "string", "pattern": LOCAL_TIME_PATTERN, "examples": ["22:00"]}


class Schemas:
    """Every model's JSON Schema, generated together so that shared models become one component
    (pydantic names a model's request and response forms apart when they differ)."""

    def __init__(self, docs: Iterable[RouteDoc]) -> None:
        docs = list(docs)
        wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorResponse, "serialization")]
        wanted += [(doc.request, "validation") for doc in docs if doc.request is not None]
        wanted += [(doc.query, "validation") for doc in docs if doc.query is not None]
        wanted += [(doc.response, "serialization") for doc in docs if doc.response is not None]
        self._refs, definitions = models_json_schema(
            list(dict.fromkeys(wanted)), ref_template=SCHEMA_REF, schema_generator=ApiJsonSchema
        )
        self._definitions: dict[str, Any] = definitions.get("$defs", {})
        # Query models become parameters, not schemas of their own (unless a body or an answer uses them).
        queries: set[tuple[type[BaseModel], JsonSchemaMode]] = {
            (doc.query, "validation") for doc in docs if doc.query is not None
        }
        others = {self._name(model, mode) for model, mode in wanted if (model, mode) not in queries}
        self._query_only = {self._name(model, mode) for model, mode in queries} - others

    def _name(self, model: type[BaseModel], mode: JsonSchemaMode) -> str:
        return str(self._refs[(model, mode)]["$ref"]).rsplit("/", 1)[-1]

    @property
    def components(self) -> dict[str, Any]:
        return {name: schema for name, schema in self._definitions.items() if name not in self._query_only}

    def ref(self, model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        return dict(self._refs[(model, mode)])

    def resolved(self, model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        return dict(self._definitions[self._name(model, mode)])


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a value: ``X | None`` is just X there."""
    branches = [branch for branch in schema.get("anyOf", []) if branch != {"type": "null"}]
    if len(branches) == 1 and len(schema["anyOf"]) == 2:
        schema = {**{k: v for k, v in schema.items() if k != "anyOf"}, **branches[0]}
    if "default" in schema and schema["default"] is None:
        schema = {k: v for k, v in schema.items() if k != "default"}
    return schema


# ---- operations ------------------------------------------------------------------------------------
def path_parameters(path: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", path)
    ]


def query_parameters(model: type[BaseModel], schemas: Schemas) -> list[dict[str, Any]]:
    schema = schemas.resolved(model, "validation")
    required = set(schema.get("required", []))
    parameters = []
    for name, field_schema in schema.get("properties", {}).items():
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in field_schema:
            parameter["description"] = field_schema["description"]
        parameter["schema"] = _without_null(
            {k: v for k, v in field_schema.items() if k not in ("title", "description")}
        )
        parameters.append(parameter)
    return parameters


def security_of(route: Route) -> list[dict[str, list[str]]]:
    authorizer = route.entry.authorizer
    if authorizer is None:
        return []
    if authorizer.name not in SECURITY_SCHEMES:
        raise ValueError(f"{route.method} {route.path}: no security scheme for authorizer {authorizer.name!r}")
    return [{scheme: []} for scheme in AUTHORIZER_SCHEMES.get(authorizer.name, (authorizer.name,))]


def describe_access(result: dict[str, Any], doc: RouteDoc) -> None:
    """Who may call a merchant route: as extensions for programs, and in words for people."""
    if doc.access is None:
        return
    result["x-roles"] = doc.access.sorted_roles()
    result["x-key-scopes"] = doc.access.sorted_scopes()
    who = f"**Who may call:** {doc.access.describe()}."
    result["description"] = f"{doc.description}\n\n{who}" if doc.description else who


def error_statuses(route: Route, doc: RouteDoc | None, has_body: bool) -> list[int]:
    statuses = set(EVERY_ROUTE_ERRORS) | set(doc.errors if doc else ())
    if route.entry.authorizer is not None:
        statuses |= set(AUTHENTICATED_ERRORS)
    if has_body:
        statuses |= set(BODY_ERRORS)
    if path_parameters(route.path):
        statuses.add(404)  # a path naming nothing, e.g. an id too long to be one
    return sorted(statuses)


def success_response(doc: RouteDoc, schemas: Schemas) -> dict[str, Any]:
    response: dict[str, Any] = {"description": http.HTTPStatus(doc.status).phrase}
    if doc.response is not None:
        response["content"] = {"application/json": {"schema": schemas.ref(doc.response, "serialization")}}
    if doc.idempotent:
        response["headers"] = REPLAY_HEADER
    return response


def operation(route: Route, doc: RouteDoc | None, schemas: Schemas) -> dict[str, Any]:
    """An undocumented route is still listed (tests/template/test_openapi.py asks for its summary)."""
    result: dict[str, Any] = {"operationId": doc.operation_id if doc else route.entry.view_name}
    parameters = path_parameters(route.path)
    responses: dict[str, Any] = {}
    if doc is not None:
        result["summary"] = doc.summary
        if doc.description:
            result["description"] = doc.description
        describe_access(result, doc)
        if doc.tags:
            result["tags"] = list(doc.tags)
        if doc.query is not None:
            parameters += query_parameters(doc.query, schemas)
        if doc.request is not None:
            body_schema = schemas.ref(doc.request, "validation")
            result["requestBody"] = {
                "required": True,
                "content": {content_type: {"schema": body_schema} for content_type in route.entry.content_types},
            }
        responses[str(doc.status)] = success_response(doc, schemas)
    for status in error_statuses(route, doc, "requestBody" in result):
        responses[str(status)] = {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}
    if parameters:
        result["parameters"] = parameters
    result["security"] = security_of(route)
    result["responses"] = responses
    return result


# ---- links between operations ------------------------------------------------------------------
def add_links(paths: dict[str, dict[str, Any]], docs: Mapping[tuple[str, str], RouteDoc], schemas: Schemas) -> None:
    """OpenAPI links from what an answer names to the operations that take it: the id a create
    answers with (``member_id``, ``transaction_id``, ``code``, ...) fills the path of every
    operation under the same credentials whose path names it, within the same resource (a
    coupon's ``code`` is not a gift card's) or anywhere for a member. Clients and stateful fuzzing
    follow them (create a member, then read, change and refund it)."""
    targets = [
        (path, method, op) for path, item in paths.items() for method, op in item.items() if path_parameters(path)
    ]
    for (path, method), doc in docs.items():
        if doc.response is None:
            continue
        source = paths[path][method.lower()]
        names = set(schemas.resolved(doc.response, "serialization").get("properties", {}))
        links = {
            op["operationId"]: {
                "operationId": op["operationId"],
                "parameters": {name: f"$response.body#/{name}" for name in re.findall(r"{(\w+)}", target_path)},
            }
            for target_path, target_method, op in targets
            if (target_path, target_method) != (path, method.lower())
            and op["security"] == source["security"]
            and set(re.findall(r"{(\w+)}", target_path)) <= names
            and (_resource(target_path) == _resource(path) or re.findall(r"{(\w+)}", target_path) == ["member_id"])
        }
        if links:
            source["responses"][str(doc.status)]["links"] = dict(sorted(links.items()))


def _resource(path: str) -> str:
    """/v1/coupons/{code}/redeem -> coupons"""
    return path.strip("/").split("/")[1]


# ---- the document ----------------------------------------------------------------------------------
def build_document(
    apps: Mapping[str, Chalice], docs: Mapping[tuple[str, str], RouteDoc] = ROUTE_DOCS
) -> dict[str, Any]:
    routes = routes_of(apps)
    documented = [docs[route.key] for route in routes if route.key in docs]
    schemas = Schemas(documented)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = operation(route, docs.get(route.key), schemas)
    add_links(paths, {route.key: docs[route.key] for route in routes if route.key in docs}, schemas)
    operation_ids = [op["operationId"] for item in paths.values() for op in item.values()]
    duplicates = sorted({name for name in operation_ids if operation_ids.count(name) > 1})
    if duplicates:
        raise ValueError(f"operation ids must be unique (they are the views' names): {', '.join(duplicates)}")
    used_schemes = {
        name for item in paths.values() for op in item.values() for entry in op["security"] for name in entry
    }
    error_schema = schemas.ref(ErrorResponse, "serialization")
    return {
        "openapi": "3.1.0",
        "info": {"title": "Loyalty platform API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": LOCAL_SERVER, "description": "the local stack (make run)"}],
        "tags": [{"name": tag} for tag in sorted({tag for doc in documented for tag in doc.tags})],
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "responses": {
                name: {"description": meaning, "content": {"application/json": {"schema": error_schema}}}
                for name, meaning in ERROR_RESPONSES.values()
            },
            "securitySchemes": {name: SECURITY_SCHEMES[name] for name in sorted(used_schemes)},
        },
    }


def render(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generate() -> str:
    """The document as the code describes it now, ready to compare with or write to openapi.json."""
    template = load_template()
    prepare_environment(template)
    return render(build_document(function_apps(template)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.openapi", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if openapi.json differs from the generated one")
    args = parser.parse_args(argv)
    generated = generate()
    name = DOCUMENT_PATH.name
    if not args.check:
        DOCUMENT_PATH.write_text(generated, encoding="utf-8")
        print(f"wrote {name}")
        return 0
    committed = DOCUMENT_PATH.read_text(encoding="utf-8") if DOCUMENT_PATH.exists() else ""
    if committed == generated:
        print(f"{name} is up to date")
        return 0
    diff = difflib.unified_diff(
        committed.splitlines(), generated.splitlines(), f"{name} (committed)", f"{name} (from the code)", lineterm=""
    )
    print(f"{name} is not what the code generates: run `python -m infra.openapi` and commit it", file=sys.stderr)
    print("\n".join(list(diff)[:80]), file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
