"""The API Gateway Lambda authorizers (merchant: REQUEST; admin and member: TOKEN): each handler is
a Chalice authorizer object from the shared layer, the same one Chalice's local server runs."""

from __future__ import annotations

from loyalty import runtime
from loyalty.config import CoreConfig
from loyalty.http.auth import admin_token, merchant_key
from loyalty.http.member_auth import member_token
from loyalty.services import keys, staff  # noqa: F401 - what merchant_key calls, loaded at cold start

CONFIG = CoreConfig.from_env()
runtime.bootstrap(CONFIG)

__all__ = ["admin_token", "member_token", "merchant_key"]
