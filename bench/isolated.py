"""What the bench modules that measure in a process of their own share (``python -m bench.x``):
a Lambda's environment on moto in that process, the template's stack provisioned on it, and the
one JSON line they hand back to ``make bench``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moto import mock_aws

from infra.local import moto_patches

if TYPE_CHECKING:
    from loyalty.pii.cipher import PiiCipher

    from infra.local.provision import Stack


def environment() -> None:
    for inherited in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        os.environ.pop(inherited, None)
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "eu-central-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "POWERTOOLS_SERVICE_NAME": "bench",
            "POWERTOOLS_METRICS_NAMESPACE": "Bench",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        }
    )


def provisioned() -> tuple[Stack, PiiCipher]:
    """The template's resources on this process's moto, the runtime bootstrapped on them."""
    import boto3
    from loyalty import runtime
    from loyalty.config import CoreConfig

    from infra.local.provision import REGION, provision, push_platform_parameters

    session = boto3.session.Session(region_name=REGION)
    stack = provision(session, parameters={"NamePrefix": "", **push_platform_parameters(session)})
    os.environ.update(stack.environment())
    runtime.bootstrap(CoreConfig.from_env())
    return stack, runtime.current().cipher()


def serve(run: Callable[[], Any]) -> None:
    """A bench module's ``main``: measure on moto in this process and print the result as JSON."""
    environment()
    moto_patches.apply()
    with mock_aws():
        result = run()
    print(json.dumps(result))


def measured(module: str, *args: str) -> dict[str, Any]:
    """``python -m module args`` in a fresh process (its own moto and connections): its JSON."""
    done = subprocess.run(  # noqa: S603 - our own bench modules
        [sys.executable, "-m", module, *args], check=True, stdout=subprocess.PIPE, text=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))
