"""Who may call what: the three levels of merchant routes, for staff roles and key scopes."""

from __future__ import annotations

import pytest
from loyalty.domain.access import MANAGE, OWNER, STAFF, TILL, Access, Principal, Role, Scope
from loyalty.domain.partner_messages import is_signed_by, signature


def staff(role: Role) -> Principal:
    return Principal("mch_1", "staff", "stf_1", role=role)


def key(scope: Scope) -> Principal:
    return Principal("mch_1", "key", "key_1", scope=scope)


@pytest.mark.parametrize(
    ("access", "allowed"),
    [
        (TILL, {Role.OWNER, Role.MANAGER, Role.CASHIER, Scope.TILL, Scope.INTEGRATION, Scope.FULL}),
        (MANAGE, {Role.OWNER, Role.MANAGER, Scope.INTEGRATION, Scope.FULL}),
        (OWNER, {Role.OWNER, Scope.FULL}),
        (STAFF, {Role.OWNER, Role.MANAGER, Role.CASHIER}),
    ],
)
def test_each_level_lets_in_exactly_its_roles_and_scopes(access: Access, allowed: set[Role | Scope]) -> None:
    for role in Role:
        assert access.allows(staff(role)) == (role in allowed), (access.name, role)
    for scope in Scope:
        assert access.allows(key(scope)) == (scope in allowed), (access.name, scope)


def test_levels_describe_themselves_for_people() -> None:
    assert MANAGE.describe() == "staff with role owner, manager; API keys with scope integration, full"
    assert STAFF.describe() == "staff with role owner, manager, cashier; no API key (staff only)"
    assert key(Scope.TILL).describe() == "an API key with scope till"


def test_partner_signatures_are_hmac_sha256_of_the_body_in_hex() -> None:
    # RFC 4231, test case 2: the key as UTF-8, the digest in lower-case hex
    expected = "v1=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert signature("Jefe", "what do ya want for nothing?") == expected
    assert is_signed_by("Jefe", "what do ya want for nothing?", expected)
    assert not is_signed_by("Jefe", "what do ya want for nothing!", expected)
    assert not is_signed_by("jefe", "what do ya want for nothing?", expected)
