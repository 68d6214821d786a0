"""template.yaml's IAM policies checked against what the functions really call.

Every AWS call the tests make in this process is recorded with the template function it belongs
to, found from the Python stack: the handler or Chalice view of ``functions/<name>/app.py`` it
runs under, the authorizer it runs in, or (for the audit entry a route writes after its view)
the view the route wrapper holds. A DynamoDB or Cognito call is then checked against that
function's ``Statement`` policies, as IAM would: action, resource (table, index or user pool) and
the ``dynamodb:LeadingKeys`` condition. A function that calls what its policy does not allow
would fail in AWS with AccessDenied; here the test that made the call fails.
"""

from __future__ import annotations

import fnmatch
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from botocore.client import BaseClient

from infra.local.provision import Resolver, Stack
from infra.template import resources_of_type

CHECKED_SERVICES = {"dynamodb": "dynamodb", "cognito-idp": "cognito-idp"}
AUTHORIZERS = {"merchant_key", "admin_token", "member_token"}
# Cognito's operations for a user's own session are not signed with IAM credentials: no policy.
UNSIGNED_COGNITO = {"InitiateAuth", "RespondToAuthChallenge", "ForgotPassword", "ConfirmForgotPassword"}
TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@dataclass(frozen=True)
class Call:
    function: str
    action: str  # e.g. dynamodb:GetItem
    resource: str  # an ARN
    leading_key: str | None  # the partition key value, for DynamoDB item operations


@dataclass(frozen=True)
class Grant:
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    leading_keys: tuple[str, ...] | None  # None: no LeadingKeys condition

    def allows(self, call: Call) -> bool:
        if not any(fnmatch.fnmatchcase(call.action, action) for action in self.actions):
            return False
        if not any(fnmatch.fnmatchcase(call.resource, resource) for resource in self.resources):
            return False
        if self.leading_keys is None:
            return True
        return call.leading_key is not None and any(
            fnmatch.fnmatchcase(call.leading_key, pattern) for pattern in self.leading_keys
        )


def _as_tuple(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in (value if isinstance(value, list) else [value]))


def grants(stack: Stack) -> dict[str, list[Grant]]:
    """Each function's Allow statements, resolved against the provisioned stack."""
    resolver = Resolver(stack)
    found: dict[str, list[Grant]] = {}
    for name, resource in resources_of_type(stack.template, "AWS::Serverless::Function").items():
        statements = [
            statement
            for policy in resource["Properties"].get("Policies", [])
            if isinstance(policy, dict) and "Statement" in policy
            for statement in policy["Statement"]
        ]
        found[name] = [
            Grant(
                _as_tuple(statement["Action"]),
                _as_tuple(resolver.resolve(statement["Resource"])),
                _leading_keys(statement.get("Condition")),
            )
            for statement in statements
            if statement.get("Effect") == "Allow"
        ]
    return found


def _leading_keys(condition: dict[str, Any] | None) -> tuple[str, ...] | None:
    if not condition:
        return None
    return _as_tuple(condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"])


# ---- which function is calling ----------------------------------------------------------------------
def handlers(stack: Stack) -> dict[tuple[str, str], str]:
    """(module, handler or "app") -> function logical id."""
    found = {}
    for name, resource in resources_of_type(stack.template, "AWS::Serverless::Function").items():
        props = resource["Properties"]
        module = f"{props['CodeUri'].strip('/').replace('/', '.')}.app"
        found[(module, props["Handler"].rpartition(".")[2])] = name
    return found


def _function_of(frame: FrameType | None, known: dict[tuple[str, str], str]) -> str | None:
    """The outermost function frame of ``functions/*/app.py`` decides (a queue handler calls its
    helpers, a view is called by Chalice); an authorizer or a route wrapper if none."""
    found: str | None = None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        name = frame.f_code.co_name
        if module.startswith("functions."):
            found = known.get((module, name)) or known.get((module, "app")) or found
        elif name in AUTHORIZERS and module.startswith("loyalty.http"):
            found = found or known.get(("functions.authorizer.app", name))
        elif name == "guarded" and module == "loyalty.http.blueprint":
            view = frame.f_locals.get("view")
            found = found or known.get((getattr(view, "__module__", ""), "app"))
        frame = frame.f_back
    return found


# ---- what it calls -----------------------------------------------------------------------------------
def _pk(key: dict[str, Any] | None) -> str | None:
    value = (key or {}).get("pk", {})
    return str(value["S"]) if isinstance(value, dict) and "S" in value else None


def dynamodb_calls(function: str, operation: str, params: dict[str, Any], arn_of: dict[str, str]) -> list[Call]:
    def table_arn(table: str, index: str | None = None) -> str:
        arn = arn_of.get(table, f"unknown-table:{table}")
        return f"{arn}/index/{index}" if index else arn

    if operation == "TransactWriteItems":
        return [
            Call(
                function,
                f"dynamodb:{TRANSACT_ACTIONS[kind]}",
                table_arn(op["TableName"]),
                _pk(op.get("Key") or op.get("Item")),
            )
            for item in params["TransactItems"]
            for kind, op in item.items()
        ]
    if operation == "TransactGetItems":
        return [
            Call(function, "dynamodb:GetItem", table_arn(item["Get"]["TableName"]), _pk(item["Get"]["Key"]))
            for item in params["TransactItems"]
        ]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [Call(function, f"dynamodb:{operation}", table_arn(table), None) for table in params["RequestItems"]]
    key = params.get("Key") or params.get("Item")
    return [Call(function, f"dynamodb:{operation}", table_arn(params["TableName"], params.get("IndexName")), _pk(key))]


def cognito_calls(function: str, operation: str, params: dict[str, Any], pool_arns: dict[str, str]) -> list[Call]:
    if operation in UNSIGNED_COGNITO:
        return []
    pool = params.get("UserPoolId", "")
    return [Call(function, f"cognito-idp:{operation}", pool_arns.get(pool, f"unknown-pool:{pool}"), None)]


class Recorder:
    """Records the calls of the functions while installed (one at a time per process)."""

    def __init__(self, stack: Stack) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._known = handlers(stack)
        tables = resources_of_type(stack.template, "AWS::DynamoDB::Table")
        self._tables = {stack.refs[name]: stack.attributes[(name, "Arn")] for name in tables}
        pools = resources_of_type(stack.template, "AWS::Cognito::UserPool")
        self._pools = {stack.refs[name]: stack.attributes[(name, "Arn")] for name in pools}

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        if service not in CHECKED_SERVICES:
            return
        function = _function_of(sys._getframe(2), self._known)
        if function is None:
            return  # the test's own setup and checks
        if service == "dynamodb":
            found = dynamodb_calls(function, operation, params, self._tables)
        else:
            found = cognito_calls(function, operation, params, self._pools)
        with self._lock:
            self.calls.extend(found)


@contextmanager
def recording(stack: Stack) -> Iterator[Recorder]:
    recorder = Recorder(stack)
    original = BaseClient._make_api_call

    def recorded(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        recorder.record(client.meta.service_model.endpoint_prefix, operation_name, api_params)
        return original(client, operation_name, api_params)

    BaseClient._make_api_call = recorded  # type: ignore[method-assign]
    try:
        yield recorder
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def denied(stack: Stack, calls: list[Call]) -> list[str]:
    """The calls no statement of their function allows, as IAM would refuse them."""
    allowed = grants(stack)
    refused = {
        f"{call.function}: {call.action} on {call.resource.rsplit(':', 1)[-1]}"
        + (f" (key {call.leading_key.split('#', 1)[0]}#...)" if call.leading_key else "")
        for call in calls
        if not any(grant.allows(call) for grant in allowed.get(call.function, []))
    }
    return sorted(refused)
