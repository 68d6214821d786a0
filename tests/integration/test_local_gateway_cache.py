"""The local gateway keeps an authorizer's answer as API Gateway does: per identity source, for the
template's ``ReauthorizeEvery``; the merchant authorizer (no identity source, TTL 0) runs on every
request."""

from __future__ import annotations

import time
from typing import Any

import pytest
from chalice.config import Config
from chalice.local import LocalGatewayException

from infra.local.provision import load_template
from tests.integration.conftest import new_phone
from tests.integration.test_member_app import sign_in
from tests.support.api import GatewayClient


def test_the_cache_times_are_the_templates() -> None:
    from infra.local.gateway import AuthorizerCache

    template = load_template()
    cache = AuthorizerCache.from_template(template)
    assert (cache.ttl("MerchantKey"), cache.ttl("AdminToken"), cache.ttl("MemberToken")) == (0, 60, 60)
    short = AuthorizerCache.from_template(template, override_seconds=2)
    assert (short.ttl("MerchantKey"), short.ttl("AdminToken"), short.ttl("MemberToken")) == (0, 2, 2)


def status(gateway: Any, token: str) -> int:
    try:
        answer = gateway.handle_request("GET", "/v1/me", {"authorization": f"Bearer {token}"}, b"")
    except LocalGatewayException as refused:
        return int(refused.CODE)
    return int(answer["statusCode"])


def test_a_signed_out_access_token_works_until_the_cached_answer_expires(
    merchant: dict[str, Any], members_api: GatewayClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.auth.app import app as auth_app
    from functions.me.app import app as me_app
    from infra.local import gateway

    monkeypatch.setattr(gateway, "AUTHORIZER_CACHE", gateway.AuthorizerCache({"MemberToken": 1.0}))
    local = gateway.LoyaltyGateway(me_app, Config.create(chalice_stage="local", app_name="me", lambda_timeout=30))
    phone = new_phone()
    assert members_api.post("/v1/members", body={"phone": phone}).status == 201
    token = sign_in(merchant, phone)["access_token"]
    assert status(local, token) == 200  # the authorizer's answer is now cached for this token
    assert GatewayClient(auth_app, {"Authorization": f"Bearer {token}"}).post("/v1/auth/sign-out").status == 200
    assert status(local, token) == 200  # as in AWS: the cached answer still holds
    time.sleep(1.1)
    assert status(local, token) == 401  # asked again: signed out
