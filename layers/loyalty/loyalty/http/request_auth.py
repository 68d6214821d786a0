"""Lambda REQUEST authorizers on Chalice: Chalice's own authorizers are TOKEN authorizers, which
see one configured header; a REQUEST authorizer sees every header, so one authorizer can accept
either of two credentials (API Gateway allows one authorizer per method)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chalice.app import AuthRequest, ChaliceAuthorizer


class HeadersAuthRequest(AuthRequest):
    """What a REQUEST authorizer is given: every header (names in lower case)."""

    def __init__(self, auth_type: str, headers: Mapping[str, Any], method_arn: str) -> None:
        super().__init__(auth_type, "", method_arn)
        self.headers = {str(name).lower(): str(value) for name, value in headers.items() if value is not None}


class RequestAuthorizer(ChaliceAuthorizer):
    payload_type = "REQUEST"

    def _transform_event(self, event: dict[str, Any]) -> AuthRequest:
        return HeadersAuthRequest(event.get("type", "REQUEST"), event.get("headers") or {}, event["methodArn"])


class MerchantAuthorizer(RequestAuthorizer):
    """The authorizer of merchant routes: every route it guards declares ``access=``."""


def request_authorizer(blueprint: Any, name: str) -> Callable[[Callable[..., Any]], MerchantAuthorizer]:
    """Register ``func`` on ``blueprint`` as the merchant REQUEST authorizer ``name`` (API Gateway
    does not cache its answers: ``ttl_seconds`` 0)."""

    def register(func: Callable[..., Any]) -> MerchantAuthorizer:
        wrapped = MerchantAuthorizer(name, func)
        blueprint._register_handler(
            "authorizer", name, func, wrapped, {"ttl_seconds": 0, "execution_role": None, "header": None}
        )
        return wrapped

    return register
