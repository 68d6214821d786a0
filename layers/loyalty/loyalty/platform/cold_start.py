"""A Lambda's cold start without the garbage collector.

Loading a function creates a few hundred thousand objects (modules, classes, botocore's and
pydantic's models) that live as long as the container. With the collector on, loading them runs
about 125 young collections, and the first request then pays for a full collection that walks them
all: about 30 ms of CPU, half of what that request costs (``make bench``'s cold-start table). So,
in Lambda only, the collector is off from the first ``import loyalty`` until the runtime is
bootstrapped (``loaded``); then what was loaded is frozen (``gc.freeze``: kept out of every later
collection, as it would never be freed anyway) and collection resumes for what requests create.
"""

from __future__ import annotations

import gc
import os

_loading = "AWS_LAMBDA_FUNCTION_NAME" in os.environ and gc.isenabled()
if _loading:
    gc.disable()


def loaded() -> None:
    """The function has loaded: freeze what it loaded and collect garbage again (once; no-op outside Lambda)."""
    global _loading  # noqa: PLW0603 - the one cold start of this process
    if _loading:
        _loading = False
        gc.freeze()
        gc.enable()
