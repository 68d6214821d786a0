"""What each HTTP route says about itself for the API document (infra/openapi.py builds OpenAPI
from it): summary, request body, query, success answer and the errors it may give. Chalice never
sees any of it; ``ApiBlueprint.route`` fills the registry when a view is decorated."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from loyalty.domain.access import Access


@dataclass(frozen=True)
class RouteDoc:
    path: str
    method: str  # upper case, as Chalice keys its routes
    operation_id: str  # the view's name: unique across the API (infra/openapi.py checks)
    summary: str
    description: str | None = None
    request: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    # Statuses of this route besides those infra/openapi.py adds: 400, 429, 500 everywhere, 401 and
    # 403 with an authorizer, 413 and 415 with a body, 404 with path parameters.
    errors: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    # A replay of the same client id answers as the first time, with ``Idempotent-Replayed: true``.
    idempotent: bool = False
    # Merchant routes: the staff roles and API-key scopes that may call (``loyalty.http.access``).
    access: Access | None = None


ROUTE_DOCS: dict[tuple[str, str], RouteDoc] = {}


def document(doc: RouteDoc) -> None:
    ROUTE_DOCS[(doc.path, doc.method)] = doc
