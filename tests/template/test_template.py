"""template.yaml stays valid and in step with the code: SAM translation, cfn-lint, routes, queues."""

from __future__ import annotations

import copy
import importlib
import json
import os
from typing import Any

import cfnlint.api
import pytest
from samtranslator.public.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform

from infra.local.scheduler import rate_seconds
from infra.template import TEMPLATE_PATH, load_template, resources_of_type

TEMPLATE = load_template()
FUNCTIONS = resources_of_type(TEMPLATE, "AWS::Serverless::Function")
QUEUES = resources_of_type(TEMPLATE, "AWS::SQS::Queue")


class _NoManagedPolicies:
    def load(self, *args: Any, **kwargs: Any) -> dict[str, str]:
        return {}


def translated() -> dict[str, Any]:
    template = copy.deepcopy(TEMPLATE)
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://placeholder-bucket/{name}.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    try:
        return dict(transform(template, {}, _NoManagedPolicies()))
    except InvalidDocumentException as exc:
        pytest.fail("SAM translator rejected template.yaml: " + "; ".join(c.message for c in exc.causes))


def _lint(text: str, ignore: tuple[str, ...] = ()) -> list[str]:
    config = cfnlint.api.ManualArgs(regions=["eu-central-1"], ignore_checks=list(ignore))
    return [str(match) for match in cfnlint.api.lint(text, config=config)]


def test_sam_translator_accepts_the_template() -> None:
    output = translated()
    assert "AWS::Serverless::Function" not in {r["Type"] for r in output["Resources"].values()}


def test_cfn_lint_accepts_the_template_and_its_translation() -> None:
    assert _lint(TEMPLATE_PATH.read_text(encoding="utf-8")) == []
    # Artifacts of SAM's generated usage plan: a DependsOn a Ref already implies (W3005), and a Sub
    # whose parameter SAM resolved to its default (W1020). The raw template is linted in full.
    assert _lint(json.dumps(translated()), ignore=("W3005", "W1020")) == []


def _api_events() -> set[tuple[str, str, str, str | None]]:
    events = set()
    for name, resource in FUNCTIONS.items():
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "Api":
                props = event["Properties"]
                authorizer = props.get("Auth", {}).get("Authorizer")
                events.add(
                    (
                        name,
                        props["Path"],
                        props["Method"].upper(),
                        None if authorizer == "NONE" else authorizer,
                    )
                )
    return events


def _chalice_routes() -> set[tuple[str, str, str, str | None]]:
    routes = set()
    for name, resource in FUNCTIONS.items():
        props = resource["Properties"]
        if props["Handler"] != "app.app":
            continue
        module = importlib.import_module(f"{props['CodeUri'].strip('/').replace('/', '.')}.app")
        for path, methods in module.app.routes.items():
            for method, entry in methods.items():
                routes.add((name, path, method, entry.authorizer.name if entry.authorizer else None))
    return routes


def test_every_chalice_route_has_its_twin_api_event_and_back() -> None:
    routes, events = _chalice_routes(), _api_events()
    assert routes - events == set(), "routes without an Api event in template.yaml"
    assert events - routes == set(), "Api events without a Chalice route"


def test_every_handler_exists() -> None:
    for name, resource in FUNCTIONS.items():
        props = resource["Properties"]
        module_name, _, attribute = props["Handler"].rpartition(".")
        module = importlib.import_module(f"{props['CodeUri'].strip('/').replace('/', '.')}.{module_name}")
        assert callable(getattr(module, attribute)), name


def _timeout(function: dict[str, Any]) -> int:
    return int(function["Properties"].get("Timeout", TEMPLATE["Globals"]["Function"]["Timeout"]))


def test_queue_consumers_report_partial_failures_with_a_dlq_and_six_times_the_timeout() -> None:
    consumers = 0
    for name, function in FUNCTIONS.items():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            consumers += 1
            props = event["Properties"]
            assert props.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], name
            queue = QUEUES[props["Queue"]["Fn::GetAtt"][0]]["Properties"]
            assert queue["VisibilityTimeout"] >= 6 * _timeout(function), name
            redrive = queue["RedrivePolicy"]
            env = function["Properties"].get("Environment", {}).get("Variables", {})
            queue_id = props["Queue"]["Fn::GetAtt"][0]
            [prefix] = [k.removesuffix("_QUEUE_URL") for k, v in env.items() if v == {"Ref": queue_id}]
            assert env[f"{prefix}_MAX_RECEIVE_COUNT"] == redrive["maxReceiveCount"], f"{name}: handler and redrive"
            assert f"{prefix}_DLQ_URL" in env, f"{name}: no dead-letter queue to send failures to, with reasons"
    assert consumers >= 1


def test_every_dead_letter_queue_has_an_alarm() -> None:
    dlqs = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in QUEUES.values()
        if "RedrivePolicy" in q.get("Properties", {})
    }
    alarmed = {
        dimension["Value"]["Fn::GetAtt"][0]
        for alarm in resources_of_type(TEMPLATE, "AWS::CloudWatch::Alarm").values()
        for dimension in alarm["Properties"].get("Dimensions", [])
        if dimension["Name"] == "QueueName"
    }
    assert dlqs, "no dead-letter queues?"
    assert dlqs <= alarmed


def test_tables_are_on_demand_with_point_in_time_recovery() -> None:
    tables = resources_of_type(TEMPLATE, "AWS::DynamoDB::Table")
    assert tables
    for name, table in tables.items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
        assert table.get("DeletionPolicy") == "Retain", name


def test_schedules_are_named_rates_the_local_scheduler_can_run() -> None:
    for function in FUNCTIONS.values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "Schedule":
                assert rate_seconds(event["Properties"]["Schedule"]) > 0
                assert "Name" in event["Properties"]


def test_functions_get_only_the_policies_they_declare() -> None:
    for name, function in FUNCTIONS.items():
        policies = function["Properties"].get("Policies", [])
        assert policies, f"{name} has no explicit least-privilege policies"
        for policy in policies:
            assert isinstance(policy, dict), f"{name}: managed policy {policy!r} is too broad"


# ---- least privilege ---------------------------------------------------------------------------------
DYNAMODB_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
# Who may write API keys (KEY#, APIKEY#): the owner's keys function, the admin's first key, and the
# authorizer's last-use time on the key's record.
KEY_WRITERS = {"KeysFunction", "AdminFunction", "MerchantKeyAuthorizerFunction"}


def _statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in function["Properties"].get("Policies", [])
        if isinstance(policy, dict) and "Statement" in policy
        for statement in policy["Statement"]
    ]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _on_table(statement: dict[str, Any], table: str) -> bool:
    return any(table in json.dumps(resource) for resource in _listed(statement["Resource"]))


def test_no_function_may_scan_or_use_a_wildcard_dynamodb_action() -> None:
    for name, function in FUNCTIONS.items():
        for policy in function["Properties"].get("Policies", []):
            template_name = next(iter(policy)) if isinstance(policy, dict) else str(policy)
            assert not template_name.startswith("DynamoDB"), f"{name}: {template_name} grants Scan; list the actions"
        for statement in _statements(function):
            for action in _listed(statement["Action"]):
                if str(action).lower().startswith("dynamodb:"):
                    assert "*" not in action, f"{name}: wildcard {action}"
                    assert action not in ("dynamodb:Scan", "dynamodb:PartiQLSelect"), f"{name}: {action}"
            assert statement.get("Resource") != "*" or not any(
                str(action).startswith("dynamodb:") for action in _listed(statement["Action"])
            ), f"{name}: DynamoDB on every resource"


def test_only_the_functions_that_handle_keys_can_write_them() -> None:
    for name, function in FUNCTIONS.items():
        for statement in _statements(function):
            writes = DYNAMODB_WRITES & set(_listed(statement["Action"]))
            if not writes or not _on_table(statement, "CredentialsTable"):
                continue
            prefixes = statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
            assert prefixes, f"{name}: writes to the credentials table must be limited to its own items"
            if {"KEY#*", "APIKEY#*"} & set(prefixes):
                assert name in KEY_WRITERS, f"{name} can write API keys"
            if "APIKEY#*" in prefixes:
                assert name != "MerchantKeyAuthorizerFunction", "the authorizer only records a key's last use"


def test_functions_read_only_the_credentials_they_check() -> None:
    readers = {
        name: prefixes
        for name, function in FUNCTIONS.items()
        for statement in _statements(function)
        if "dynamodb:GetItem" in _listed(statement["Action"]) and _on_table(statement, "CredentialsTable")
        for prefixes in [statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")]
    }
    assert readers["AccrueQueueFunction"] == ["PARTNER#*"]  # partner keys only: no API key, no staff
    assert readers["MerchantKeyAuthorizerFunction"] == ["APIKEY#*", "STAFF#*"]
    assert all(prefixes for prefixes in readers.values()), readers


def test_sns_publish_on_every_resource_only_where_sms_is_sent() -> None:
    for name, function in FUNCTIONS.items():
        for statement in _statements(function):
            if "sns:Publish" in _listed(statement["Action"]) and statement["Resource"] == "*":
                assert name in ("NotifyFunction", "NotifyDeferredFunction"), name


def test_the_readme_states_the_authorizer_caches_the_template_sets() -> None:
    """Issue 11 item 13: what the README promises about revocation is what API Gateway does."""
    [api] = resources_of_type(TEMPLATE, "AWS::Serverless::Api").values()
    authorizers = api["Properties"]["Auth"]["Authorizers"]
    merchant = authorizers["MerchantKey"]
    assert merchant["FunctionPayloadType"] == "REQUEST"
    assert merchant["Identity"] == {"ReauthorizeEvery": 0}  # no identity source, no cache
    readme = (TEMPLATE_PATH.parent / "README.md").read_text(encoding="utf-8")
    assert "no cache (`ReauthorizeEvery: 0`)" in readme
    for name in ("MemberToken", "AdminToken"):
        seconds = authorizers[name]["Identity"]["ReauthorizeEvery"]
        assert f"within {seconds} s" in readme, f"the README must say {name} answers are cached {seconds} s"
