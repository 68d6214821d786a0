"""Routes that exist only in the local stack: health, the dev inbox, running jobs as of a time, the
clock, the API document with its interactive docs, and the webhook receiver (infra/local/receiver.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Request, Response
from loyalty.clock import clock_offset, parse_instant, set_local_clock, utcnow
from loyalty.errors import InvalidRequest, NotFound
from loyalty.http.blueprint import ApiBlueprint, reply

from infra.local.api_docs import docs_page, served_document
from infra.local.inbox import sent_messages
from infra.local.provision import REGION
from infra.local.receiver import add_receiver_routes

if TYPE_CHECKING:
    from infra.local.stack import LocalStack


def use_clock(request: Request) -> dict[str, Any]:
    """Set (PUT), reset (DELETE) or read (GET) the stack's clock; its reading afterwards."""
    if request.method == "PUT":
        body = request.json_body if request.raw_body else None
        raw = body.get("now") if isinstance(body, dict) else None
        if not isinstance(raw, str):
            raise InvalidRequest('give the time as {"now": "<ISO-8601>"}', details={"field": "now"})
        set_local_clock(parse_instant(raw, field="now"))
    elif request.method == "DELETE":
        set_local_clock(None)
    offset = clock_offset().total_seconds()
    return {"now": utcnow().isoformat(), "offset_seconds": offset, "real_time": offset == 0}


def add_clock_route(bp: ApiBlueprint) -> None:
    @bp.route("/_local/clock", methods=["GET", "PUT", "DELETE"])
    def clock() -> Response:
        """PUT {"now": ISO-8601}: the stack's one clock reads that instant and runs on from it in
        real time, for every request, worker, stream consumer and job; DELETE: real time again."""
        return reply(200, use_clock(bp.current_request))


def local_blueprint(stack: LocalStack) -> ApiBlueprint:
    bp = ApiBlueprint(__name__)

    @bp.route("/health", methods=["GET"])
    def health() -> Response:
        report = stack.health()
        return reply(200 if report["status"] == "ok" else 503, report)

    @bp.route("/_local/inbox", methods=["GET"])
    def inbox() -> Response:
        messages = sent_messages(REGION) + stack.webhook_receiver.messages()
        channel, to = bp.query("channel"), bp.query("to")
        selected = [
            m for m in messages if (channel is None or m["channel"] == channel) and (to is None or m["to"] == to)
        ]
        return reply(200, {"messages": selected, "count": len(selected)})

    @bp.route(
        "/_local/jobs/{name}",
        methods=["POST"],
        content_types=["application/json", "text/plain", "application/x-www-form-urlencoded"],
    )
    def run_job(name: str) -> Response:
        raw_now = bp.query("now")
        now = parse_instant(raw_now, field="now") if raw_now else None
        try:
            result: Any = stack.run_job(name, now)
        except KeyError as exc:
            jobs = sorted(stack.scheduler.jobs) if stack.scheduler else []
            raise NotFound(f"no job {name!r}; jobs: {', '.join(jobs)}", code="unknown_job") from exc
        if result is not None and not isinstance(result, dict):
            raise InvalidRequest("job returned an unexpected result")
        return reply(200, {"job": name, "now": now.isoformat() if now else None, "result": result})

    add_clock_route(bp)

    @bp.route("/openapi.json", methods=["GET"])
    def openapi_document() -> Response:
        return reply(200, served_document(stack.api_url))

    @bp.route("/docs", methods=["GET"])
    def api_docs() -> Response:
        return Response(body=docs_page(), status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})

    add_receiver_routes(bp, stack.webhook_receiver)
    return bp
