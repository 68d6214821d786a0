"""What a merchant route declares with ``access=`` on ``ApiBlueprint.route``, and the caller the
merchant authorizer hands to the view (see ``loyalty.domain.access`` for the levels).

    @bp.route("/v1/things", methods=["POST"], authorizer=merchant_key, access=MANAGE, summary=...)

``TILL``: cashiers and till keys and up; ``MANAGE``: managers and integration keys and up;
``OWNER``: owners and full keys; ``STAFF``: any signed-in person, no key (their own session).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyalty.domain.access import MANAGE, OWNER, STAFF, TILL, Access, Principal, Role, Scope

__all__ = ["MANAGE", "OWNER", "STAFF", "TILL", "Access", "context_of", "principal_from"]


def context_of(principal: Principal) -> dict[str, str]:
    """The authorizer's context for API Gateway (string values only)."""
    return {
        "principal": "merchant",
        "merchant_id": principal.merchant_id,
        "credential": principal.kind,
        "actor_id": principal.actor_id,
        "role": principal.role.value if principal.role else "",
        "scope": principal.scope.value if principal.scope else "",
    }


def principal_from(context: Mapping[str, Any]) -> Principal | None:
    """The caller the merchant authorizer let through (None for any other authorizer)."""
    if context.get("principal") != "merchant" or not context.get("merchant_id"):
        return None
    kind = context.get("credential")
    if kind == "staff" and context.get("role"):
        return Principal(str(context["merchant_id"]), "staff", str(context["actor_id"]), role=Role(context["role"]))
    if kind == "key" and context.get("scope"):
        return Principal(str(context["merchant_id"]), "key", str(context["actor_id"]), scope=Scope(context["scope"]))
    return None
