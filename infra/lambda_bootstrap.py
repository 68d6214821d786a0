"""What Lambda's python3.12 runtime does at a cold start, run by infra.lambda_probe in a fresh
Python 3.12: put the function's folder and the layer on sys.path, import the handler module, then
call the handler with each event. It writes the timings to the result file the request names.

Before it imports the handler it has loaded only what the runtime's own bootstrap has (json,
logging, os, sys, time, traceback), so an import is timed as it is in Lambda: standard library and
layer alike count when the handler's import pulls them in.

    python3.12 -I -S -B infra/lambda_bootstrap.py REQUEST.json
"""

import gc
import importlib
import json
import logging  # noqa: F401 - loaded by the runtime's bootstrap before any handler
import os
import sys
import time
import traceback  # noqa: F401 - as above


class LambdaContext:
    """The Lambda context object's attributes that Powertools reads."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        region = os.environ.get("AWS_REGION", "eu-central-1")
        self.invoked_function_arn = f"arn:aws:lambda:{region}:123456789012:function:{function_name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = os.urandom(16).hex()
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "probe"
        self._deadline = time.monotonic() + 10

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def main(request_path: str) -> None:
    with open(request_path, encoding="utf-8") as handle:
        request = json.load(handle)
    sys.path[0:0] = request["paths"]
    started, started_cpu = time.perf_counter(), time.process_time()
    module = importlib.import_module(request["module"])
    imported, imported_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    modules = len(sys.modules)
    collecting = gc.isenabled()
    calls: list[dict[str, object]] = []
    if request["handler"]:
        handler = getattr(module, request["handler"])
        if not callable(handler):
            raise SystemExit(f"{request['module']}.{request['handler']} is not callable")
        for event in request["events"]:
            # The runtime sets each invocation's trace header before it calls the handler.
            os.environ["_X_AMZN_TRACE_ID"] = f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()};Sampled=1"
            context = LambdaContext(os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "probe"))
            started, started_cpu = time.perf_counter(), time.process_time()
            response = handler(event, context)
            calls.append(
                {
                    "seconds": time.perf_counter() - started,
                    "cpu_seconds": time.process_time() - started_cpu,
                    "status": response.get("statusCode") if isinstance(response, dict) else None,
                    "body": response.get("body") if isinstance(response, dict) else None,
                }
            )
    result = {
        "import_seconds": imported,
        "import_cpu_seconds": imported_cpu,
        "modules": modules,
        "collecting_after_import": collecting,
        "calls": calls,
    }
    with open(request["result"], "w", encoding="utf-8") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main(sys.argv[1])
