"""The local stack's output: log lines carry the template's service name and the level asked for,
though loyalty's logger is built when the stack's own modules are imported, before the stack
starts; and the metrics nobody publishes locally neither print nor warn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json
from infra.local.stack import set_log_level
from loyalty.platform.observability import logger
levels = {}
for level in ("ERROR", "INFO"):
    set_log_level(level)
    levels[level] = logger.log_level
logger.info("probe line")
print(json.dumps({"service": logger.service, "levels": levels}))
"""

METRICS_PROBE = """
import os
os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
from infra.local.invoke import FakeLambdaContext
from infra.local.stack import quiet_metrics
from loyalty.platform.observability import metrics, observed_handler

quiet_metrics()

@observed_handler
def handler(event, context):
    for n in range(150):
        metrics.add_metric(name="Seen", unit="Count", value=1)
    return "handled"

print(handler({}, FakeLambdaContext("probe", 10, "eu-central-1")))
"""


def _run(probe: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("POWERTOOLS_")}
    return subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )


def test_local_logger_has_the_template_service_and_the_asked_level() -> None:
    done = _run(PROBE)
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer == {"service": "loyalty", "levels": {"ERROR": 40, "INFO": 20}}
    line = json.loads(next(line for line in done.stdout.splitlines() if "probe line" in line))
    assert line["service"] == "loyalty" and line["level"] == "INFO"


def test_local_metrics_neither_print_nor_warn() -> None:
    done = _run(METRICS_PROBE)
    assert done.stdout.strip().splitlines() == ["handled"], done.stdout
    assert "metrics" not in done.stderr.lower(), done.stderr


CONTEXT_PROBE = """
import threading
from infra.local.invoke import FakeLambdaContext
from infra.local.stack import log_context_per_thread, set_log_level
from loyalty.platform.observability import logger, observed_handler

set_log_level("INFO")
log_context_per_thread()
first_running, second_logged = threading.Event(), threading.Event()

@observed_handler
def first(event, context):
    first_running.set()
    second_logged.wait(10)  # the second function was invoked meanwhile, on its own thread
    logger.info("from first")

@observed_handler
def second(event, context):
    logger.info("from second")
    second_logged.set()

def invoke(handler, name, wait=None):
    if wait is not None:
        wait.wait(10)
    handler({}, FakeLambdaContext(name, 10, "eu-central-1"))

threads = [
    threading.Thread(target=invoke, args=(first, "FirstFunction")),
    threading.Thread(target=invoke, args=(second, "SecondFunction", first_running)),
]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(20)
"""


def test_each_local_function_logs_under_its_own_name_while_others_run() -> None:
    done = _run(CONTEXT_PROBE)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    names = {line["message"]: line["function_name"] for line in lines}
    assert names == {"from first": "FirstFunction", "from second": "SecondFunction"}, done.stdout
