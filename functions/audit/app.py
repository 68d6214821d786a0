"""The audit log, read by the owner: who changed what, when and from where."""

from __future__ import annotations

from loyalty import runtime
from loyalty.api.audit import AuditPage, AuditQuery
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.http.access import OWNER
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, reply
from loyalty.services import audit

CONFIG = CoreConfig.from_env()
runtime.bootstrap(CONFIG)

bp = ApiBlueprint(__name__, tags=("Audit log",))


@bp.route(
    "/v1/audit",
    methods=["GET"],
    authorizer=merchant_key,
    access=OWNER,
    summary="Changes made with the merchant's keys and staff accounts, newest first, page by page",
    query=AuditQuery,
    response=AuditPage,
)
def get_audit() -> object:
    """Every change made with one of the merchant's API keys or staff accounts, and every change
    refused for the caller's role or scope: who (key or staff id, with its scope or role at the
    time), what (operation, route, ids it touched), when, and from where (IP address and user
    agent). Request bodies are not kept; coupon and gift-card codes are shortened. Entries are
    kept for a year. Filter by time (`from`, `to`, default the last 30 days) and by `actor`."""
    query = bp.query_model(AuditQuery)
    return reply(200, audit.page(bp.merchant_id(), query, utcnow(), runtime.current().cipher()))


app = create_app("audit", bp)
