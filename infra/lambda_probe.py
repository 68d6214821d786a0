"""A function's cold start the way Lambda's python3.12 runtime sees it, in a fresh interpreter whose
sys.path holds nothing but the function's code and the layer (no site-packages, no project).

The parent side (``probe``) runs this file as a script under Python 3.12 with ``-I -S -B``:
isolated, no site, and no bytecode written (/opt and /var/task are read-only in Lambda). The
script imports the handler module, timing it, then calls the handler with each given event, timing
each call's CPU. tests/build uses it to import every handler from the built layer; bench/coldstart
to measure import time and the first request.

The script half uses the standard library only: the layer is all it may find.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REGION_DEFAULT = "eu-central-1"


@dataclass(frozen=True)
class ProbeResult:
    import_seconds: float
    import_cpu_seconds: float
    modules: int
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
            [python, "-I", "-S", "-B", *flags, __file__, str(request_path)],
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
        calls=result["calls"],
        importtime=completed.stderr if importtime else "",
    )


class _Context:
    """The Lambda context object's attributes that Powertools reads."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        region = os.environ.get("AWS_REGION", REGION_DEFAULT)
        self.invoked_function_arn = f"arn:aws:lambda:{region}:123456789012:function:{function_name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "probe"
        self._deadline = time.monotonic() + 10

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def _run(request_path: str) -> None:
    request = json.loads(Path(request_path).read_text(encoding="utf-8"))
    sys.path[0:0] = request["paths"]
    started, started_cpu = time.perf_counter(), time.process_time()
    module = importlib.import_module(request["module"])
    result: dict[str, Any] = {
        "import_seconds": time.perf_counter() - started,
        "import_cpu_seconds": time.process_time() - started_cpu,
        "modules": len(sys.modules),
        "calls": [],
    }
    if request["handler"]:
        handler = getattr(module, request["handler"])
        if not callable(handler):
            raise SystemExit(f"{request['module']}.{request['handler']} is not callable")
        for event in request["events"]:
            # The runtime sets the trace header of each invocation before calling the handler.
            os.environ["_X_AMZN_TRACE_ID"] = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=1"
            context = _Context(os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "probe"))
            started, started_cpu = time.perf_counter(), time.process_time()
            response = handler(event, context)
            result["calls"].append(
                {
                    "seconds": time.perf_counter() - started,
                    "cpu_seconds": time.process_time() - started_cpu,
                    "status": response.get("statusCode") if isinstance(response, dict) else None,
                    "body": response.get("body") if isinstance(response, dict) else None,
                }
            )
    Path(request["result"]).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    _run(sys.argv[1])
