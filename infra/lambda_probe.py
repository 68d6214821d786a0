"""A function's cold start the way Lambda's python3.12 runtime sees it, in a fresh interpreter whose
sys.path holds nothing but the function's code and the layer (no site-packages, no project).

``probe`` runs infra/lambda_bootstrap.py under Python 3.12 with ``-I -S -B``: isolated, no site,
and no bytecode written (/opt and /var/task are read-only in Lambda). That script imports the
handler module, timing it, then calls the handler with each given event, timing each call's CPU.
tests/build uses it to import every handler from the built layer; bench/coldstart to measure
import time and the first requests.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REGION_DEFAULT = "eu-central-1"
BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")


@dataclass(frozen=True)
class ProbeResult:
    import_seconds: float
    import_cpu_seconds: float
    modules: int
    collecting_after_import: bool  # the garbage collector on again once the handler module has loaded
    calls: list[dict[str, Any]] = field(default_factory=list)
    importtime: str = ""  # python -X importtime's report, when asked for


def lambda_environment(
    function_name: str, task_root: Path, function_env: dict[str, str], extra: dict[str, str]
) -> dict[str, str]:
    """What Lambda sets for a function (tracing on, as template.yaml's Tracing: Active), its own
    variables from the template, and ``extra`` (endpoints and credentials of a local AWS)."""
    region = extra.get("AWS_REGION", REGION_DEFAULT)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(task_root),
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "probe",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        **function_env,
        **extra,
    }
    for disabled in ("POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_METRICS_DISABLED"):
        env.pop(disabled, None)  # Lambda runs with tracing and metrics on
    return env


def probe(
    python: str,
    paths: list[Path],
    module: str,
    env: dict[str, str],
    *,
    handler: str | None = None,
    events: list[dict[str, Any]] | None = None,
    importtime: bool = False,
    timeout: float = 120,
) -> ProbeResult:
    """Imports ``module`` (and calls ``module.handler`` with each event) in a fresh ``python``."""
    with tempfile.TemporaryDirectory(prefix="lambda-probe-") as scratch:
        request_path, result_path = Path(scratch, "request.json"), Path(scratch, "result.json")
        request = {
            "paths": [str(path) for path in paths],
            "module": module,
            "handler": handler,
            "events": events or [],
            "result": str(result_path),
        }
        request_path.write_text(json.dumps(request), encoding="utf-8")
        flags = ["-X", "importtime"] if importtime else []
        completed = subprocess.run(
            [python, "-I", "-S", "-B", *flags, str(BOOTSTRAP), str(request_path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0 or not result_path.exists():
            raise RuntimeError(f"{module} failed in a Lambda-like interpreter:\n{completed.stderr[-4000:]}")
        result = json.loads(result_path.read_text(encoding="utf-8"))
    return ProbeResult(
        import_seconds=result["import_seconds"],
        import_cpu_seconds=result["import_cpu_seconds"],
        modules=result["modules"],
        collecting_after_import=result["collecting_after_import"],
        calls=result["calls"],
        importtime=completed.stderr if importtime else "",
    )
