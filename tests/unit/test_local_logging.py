"""The local stack's log lines carry the template's service name and the level asked for, though
loyalty's logger is built when the stack's own modules are imported, before the stack starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, logging
from infra.local.stack import set_log_level
from loyalty.platform.observability import logger
levels = {}
for level in ("ERROR", "INFO"):
    set_log_level(level)
    levels[level] = logger.log_level
logger.info("probe line")
print(json.dumps({"service": logger.service, "levels": levels}))
"""


def test_local_logger_has_the_template_service_and_the_asked_level() -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("POWERTOOLS_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer == {"service": "loyalty", "levels": {"ERROR": 40, "INFO": 20}}
    line = json.loads(next(line for line in done.stdout.splitlines() if "probe line" in line))
    assert line["service"] == "loyalty" and line["level"] == "INFO"
