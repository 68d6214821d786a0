"""Who may call what on a merchant's routes: staff roles and API-key scopes (pure).

People sign in as staff with a role; machines call with an API key that has a scope. Each level
includes the one below it:

- till (staff: owner, manager, cashier; keys: till, integration, full): purchases, refunds,
  quotes, redemptions and holds, coupons and gift cards at the till, member look-up, enrollment;
- manage (staff: owner, manager; keys: integration, full): the program, rewards, campaigns,
  members, notifications, reports;
- owner (staff: owner; keys: full): staff, API keys, partner credentials, the audit log, exports.

A route declares its level with ``access=`` on ``ApiBlueprint.route`` (``loyalty.http.access``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    CASHIER = "cashier"


class Scope(StrEnum):
    TILL = "till"
    INTEGRATION = "integration"
    FULL = "full"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a merchant's API key or one of its staff."""

    merchant_id: str
    kind: Literal["key", "staff"]
    actor_id: str  # the key's id or the staff member's id (never a secret, never an email)
    role: Role | None = None  # staff only
    scope: Scope | None = None  # keys only

    def describe(self) -> str:
        if self.kind == "staff":
            return f"staff with role {self.role}"
        return f"an API key with scope {self.scope}"


@dataclass(frozen=True)
class Access:
    """The staff roles and key scopes that may call a route."""

    name: str
    roles: frozenset[Role]
    scopes: frozenset[Scope]

    def allows(self, principal: Principal) -> bool:
        if principal.kind == "staff":
            return principal.role in self.roles
        return principal.scope in self.scopes

    def sorted_roles(self) -> list[str]:
        return [role.value for role in Role if role in self.roles]

    def sorted_scopes(self) -> list[str]:
        return [scope.value for scope in Scope if scope in self.scopes]

    def describe(self) -> str:
        """One sentence for the API document and for refusals."""
        roles = ", ".join(self.sorted_roles()) or "no staff"
        scopes = ", ".join(self.sorted_scopes())
        keys = f"API keys with scope {scopes}" if scopes else "no API key (staff only)"
        return f"staff with role {roles}; {keys}"


TILL = Access("till", frozenset(Role), frozenset(Scope))
MANAGE = Access("manage", frozenset({Role.OWNER, Role.MANAGER}), frozenset({Scope.INTEGRATION, Scope.FULL}))
OWNER = Access("owner", frozenset({Role.OWNER}), frozenset({Scope.FULL}))
STAFF = Access("staff", frozenset(Role), frozenset())  # a person's own session (who am I, sign out)
