"""boto3 clients, created once per container and shared (boto3 clients are thread-safe).

Endpoints come from the standard ``AWS_ENDPOINT_URL*`` variables, which the local stack points at
its moto server; nothing here knows whether it runs in AWS.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


@cache
def client(service: str) -> Any:
    return boto3.session.Session().client(service, config=_CLIENT_CONFIG)
