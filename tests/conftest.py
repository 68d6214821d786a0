"""Test wiring. Every test process gets its own moto server on a free port; each test that needs
AWS gets the template's resources freshly created on it (``stack`` fixture)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from infra.local import moto_patches
from infra.local.provision import REGION, Stack, provision, push_platform_parameters
from infra.local.stack import aws_environment, sevendar_parameters
from infra.sevendar.standin import SevenDarStandIn

ADMIN_TOKEN = "test-admin-token"

# Function modules read their configuration at import (cold start): make it resolvable first.
logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's access log
moto_patches.apply()
_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
_server.start()
_host, _port = _server.get_host_and_port()
MOTO_ENDPOINT = f"http://{_host}:{_port}"
# One SevenDar stand-in per test process; orders move only when a test says so (step 0).
SEVENDAR = SevenDarStandIn(port=0, step_seconds=0)
SEVENDAR.start()
os.environ.update(aws_environment(MOTO_ENDPOINT, "WARNING"))
os.environ["POWERTOOLS_SERVICE_NAME"] = "loyalty-test"
os.environ["POWERTOOLS_METRICS_NAMESPACE"] = "LoyaltyTest"
os.environ["WEBHOOK_URL_POLICY"] = "local"  # tests' webhook receivers listen on 127.0.0.1


def _fresh_stack() -> Stack:
    requests.post(f"{MOTO_ENDPOINT}/moto-api/reset", timeout=10)
    SEVENDAR.reset()
    session = boto3.session.Session(region_name=REGION)
    stack = provision(
        session,
        parameters={
            "NamePrefix": "",
            **push_platform_parameters(session),
            **sevendar_parameters(SEVENDAR),
            "PublicBaseUrl": "http://127.0.0.1:9",
        },
        secret_values={"AdminSecret": {"admin_token": ADMIN_TOKEN}},
        queue_visibility_timeout=1,
    )
    os.environ.update(stack.environment())
    _clear_caches()
    return stack


def _clear_caches() -> None:
    from loyalty.platform import cognito, usage_plans
    from loyalty.platform.observability import metrics
    from loyalty.platform.secrets import secrets
    from loyalty.services.member_lookup import lookups
    from loyalty.services.merchants import programs

    from infra.local import cognito_mail

    secrets.clear()
    # Metrics are disabled in tests, so never flushed: Powertools would raise at a metric's 100th value.
    metrics.clear_metrics()
    programs.invalidate_all()
    lookups.clear()  # moto's reset forgot every card and phone
    usage_plans.plan_id.cache_clear()  # moto's reset made a new plan
    cognito.user_pool.cache_clear()  # and a new staff user pool
    cognito_mail.clear()
    import sys

    gift_cards_app = sys.modules.get("functions.gift_cards.app")
    if gift_cards_app is not None:
        gift_cards_app.sevendar.cache_clear()
        gift_cards_app.sevendar_for_orders.cache_clear()


_fresh_stack()  # environment for function modules imported at collection time


@pytest.fixture
def stack() -> Iterator[Stack]:
    yield _fresh_stack()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    SEVENDAR.stop()
    _server.stop()
