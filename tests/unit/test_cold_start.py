"""The garbage collector during a Lambda's cold start (``loyalty.platform.cold_start``): off from
the first ``import loyalty`` until the runtime is bootstrapped, then on with what was loaded frozen;
never touched outside Lambda. Each case runs in a fresh interpreter, as the module acts at import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LAYER = Path(__file__).resolve().parents[2] / "layers" / "loyalty"

CHECK = """
import gc, json
import loyalty
while_loading = gc.isenabled()
from loyalty.platform import cold_start
cold_start.loaded()
after = (gc.isenabled(), gc.get_freeze_count() > 0)
cold_start.loaded()  # a second bootstrap (tests) changes nothing
again = (gc.isenabled(), gc.get_freeze_count() > 0)
print(json.dumps({"while_loading": while_loading, "after": after, "again": again}))
"""


def states(**env: str) -> dict[str, object]:
    clean = {key: value for key, value in os.environ.items() if key != "AWS_LAMBDA_FUNCTION_NAME"}
    done = subprocess.run(
        [sys.executable, "-c", CHECK],
        env={**clean, "PYTHONPATH": str(LAYER), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout))


def test_in_lambda_the_collector_is_off_while_loading_then_on_with_what_was_loaded_frozen() -> None:
    assert states(AWS_LAMBDA_FUNCTION_NAME="AccrueApiFunction") == {
        "while_loading": False,
        "after": [True, True],
        "again": [True, True],
    }


def test_outside_lambda_the_collector_is_left_alone() -> None:
    assert states() == {"while_loading": True, "after": [True, False], "again": [True, False]}
