"""The local stack serves its API document and docs page, and answers as the document says.

Schemathesis fuzzes every operation of the document the stack serves at /openapi.json, with valid
credentials (the admin token, the demo merchant's key): no answer may be a 5xx, and each must be
one the document promises (status code, content type, body schema).

The run is bounded to about two minutes on two cores: a fixed seed (a failure reproduces), at most
MAX_EXAMPLES generated cases per operation without shrinking (each failure comes with its curl),
the coverage phase's boundary and unexpected-method cases except for the two operations that take
a whole program (its schema alone would double the run; they are still fuzzed), no stateful phase.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, StopReason, events

from infra.openapi import DOCUMENT_PATH
from tests.support.local_stack import ADMIN_TOKEN, DEMO_KEY, RunningStack, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-fuzz")]

SEED = 20261125
MAX_EXAMPLES = 15
STATEFUL_STEPS = 10
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",  # what the document calls invalid is refused
    "unsupported_method",  # a method a path does not take: 405 with Allow
)
WHOLE_PROGRAM_PATHS = r"^/v1/(program|admin/merchants)$"


@pytest.fixture(scope="module")
def local() -> Iterator[RunningStack]:
    with running_stack() as stack:
        yield stack


def test_docs_page_is_one_self_contained_html_page(local: RunningStack) -> None:
    page = requests.get(f"{local.api}/docs", timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "openapi.json" in page.text
    external = re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page.text)
    assert external == [], "the docs page must work offline: no assets from elsewhere"


def test_served_document_is_the_committed_one_with_this_stack_as_server(local: RunningStack) -> None:
    served = requests.get(f"{local.api}/openapi.json", timeout=10)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "application/json"
    document = served.json()
    assert document.pop("servers") == [{"url": local.api, "description": "this local stack"}]
    committed = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    committed.pop("servers")
    assert document == committed, "run `python -m infra.openapi` and commit openapi.json"


def test_any_method_gets_a_json_answer_not_the_http_servers_501(local: RunningStack) -> None:
    for method in ("TRACE", "QUERY", "BREW"):
        reply = requests.request(method, f"{local.api}/v1/program", headers={"X-Api-Key": DEMO_KEY}, timeout=10)
        assert reply.status_code == 405, method
        assert reply.json()["error"]["code"] == "method_not_allowed"


@dataclass
class FuzzRun:
    requests_by_operation: Counter[str] = field(default_factory=Counter)
    requests_by_phase: Counter[str] = field(default_factory=Counter)
    failures: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    stop_reason: StopReason | None = None

    def record(self, event: events.ScenarioFinished) -> None:
        recorder = event.recorder
        self.requests_by_operation[recorder.label] += len(recorder.interactions)
        self.requests_by_phase[event.phase.name.lower()] += len(recorder.interactions)
        for nodes in recorder.checks.values():
            for node in nodes:
                if node.status == Status.FAILURE and node.failure_info is not None:
                    failure = node.failure_info.failure
                    example = f"{failure.message}\n{node.failure_info.code_sample}".strip()
                    self.failures.setdefault((recorder.label, node.name, failure.title), []).append(example)

    def report(self) -> str:
        return "\n\n".join(
            f"{label} - {check}: {title} ({len(examples)}x), e.g.\n{examples[0]}"
            for (label, check, title), examples in sorted(self.failures.items())
        )


def fuzz_config(api: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "base-url": api,
            "generation": {"max-examples": MAX_EXAMPLES, "no-shrink": True, "database": "none", "mode": "all"},
            "phases": {"stateful": {"enabled": True, "max-steps": STATEFUL_STEPS}},
            "operations": [{"include-path-regex": WHOLE_PROGRAM_PATHS, "phases": {"coverage": {"enabled": False}}}],
            "checks": {"enabled": False, **{check: {"enabled": True} for check in CHECKS}},
            "auth": {"openapi": {"MerchantKey": {"api_key": DEMO_KEY}, "AdminToken": {"bearer": ADMIN_TOKEN}}},
        }
    )


def fuzz(api: str) -> tuple[FuzzRun, set[str]]:
    schema = schemathesis.openapi.from_url(f"{api}/openapi.json", config=fuzz_config(api))
    operations = {result.ok().label for result in schema.get_all_operations()}
    run = FuzzRun()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            run.record(event)
        elif isinstance(event, events.NonFatalError):
            run.errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            run.errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            run.stop_reason = event.stop_reason
    return run, operations


def test_every_operation_answers_as_its_document_says(local: RunningStack) -> None:
    started = time.monotonic()
    run, operations = fuzz(local.api)
    fuzzed = {label for label, count in run.requests_by_operation.items() if count}
    phases = ", ".join(f"{phase} {count}" for phase, count in sorted(run.requests_by_phase.items()))
    print(
        f"\nfuzzed {len(fuzzed)} of {len(operations)} operations with {run.requests_by_phase.total()} generated "
        f"requests ({phases}) in {time.monotonic() - started:.0f}s"
    )
    assert run.errors == []
    assert run.stop_reason == StopReason.COMPLETED
    assert sorted(operations - fuzzed) == [], "operations never called"
    if run.failures:
        pytest.fail("answers the document does not promise:\n\n" + run.report(), pytrace=False)
