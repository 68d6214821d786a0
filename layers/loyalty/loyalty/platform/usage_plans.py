"""Per-merchant throttling and quotas with API Gateway usage plans.

Merchants authenticate with our own API keys (hashed in DynamoDB), so API Gateway's keys are only
the usage plan's counters: each merchant gets one, whose value is derived from the merchant id
with a secret key, and the merchant authorizer names it (``usageIdentifierKey``) for every
request. Nothing to store, and a merchant over its plan gets API Gateway's 429 in our shape.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache

from botocore.exceptions import ClientError

from loyalty.platform.aws import client


def usage_key(merchant_id: str, secret: bytes) -> str:
    return hmac.new(secret, f"usage-plan:{merchant_id}".encode(), hashlib.sha256).hexdigest()


@cache
def plan_id(name: str) -> str:
    for page in client("apigateway").get_paginator("get_usage_plans").paginate():
        for plan in page["items"]:
            if plan["name"] == name:
                return str(plan["id"])
    raise LookupError(f"no usage plan named {name}")


def register_merchant(usage_plan_name: str, merchant_id: str, secret: bytes) -> None:
    """Create the merchant's key in the usage plan (idempotent: a retry finds it there)."""
    apigateway = client("apigateway")
    try:
        key = apigateway.create_api_key(name=merchant_id, value=usage_key(merchant_id, secret), enabled=True)
        apigateway.create_usage_plan_key(usagePlanId=plan_id(usage_plan_name), keyId=key["id"], keyType="API_KEY")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConflictException":
            raise
