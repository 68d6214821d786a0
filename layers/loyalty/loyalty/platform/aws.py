"""AWS clients: one botocore session per container, and one client per service made from it,
shared by every caller (botocore clients are thread-safe).

A session loads botocore's endpoint data once, and each further client costs a few milliseconds;
a session per client (what ``boto3.session.Session().client`` and PynamoDB's default do) reloads
it each time. Only botocore is imported: boto3 adds nothing we use and ~25 ms to every cold start.

Endpoints come from the standard ``AWS_ENDPOINT_URL*`` variables, which the local stack points at
its moto server; nothing here knows whether it runs in AWS.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import botocore.session
from botocore.config import Config

CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


def in_lambda() -> bool:
    return "AWS_LAMBDA_FUNCTION_NAME" in os.environ


@cache
def session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def client(service: str) -> Any:
    return session().create_client(service, config=CLIENT_CONFIG)
