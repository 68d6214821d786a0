"""openapi.json is the HTTP API as the code describes it: committed up to date, listing every route
and nothing else, valid OpenAPI 3.1, with a summary and a success answer for each operation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chalice.app import AuthResponse, Chalice
from loyalty.http.docs import ROUTE_DOCS
from loyalty.http.request_auth import MerchantAuthorizer
from openapi_spec_validator import validate

import infra.openapi
from infra.openapi import AUTHORIZER_SCHEMES, DOCUMENT_PATH, build_document, function_apps, render, routes_of
from infra.template import load_template

REGENERATE = "run `python -m infra.openapi` and commit openapi.json"
APPS = function_apps(load_template())
ROUTE_ENTRIES = {route.key: route.entry for route in routes_of(APPS)}
ROUTES = set(ROUTE_ENTRIES)


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    if not DOCUMENT_PATH.exists():
        pytest.fail(f"openapi.json is missing: {REGENERATE}")
    document: dict[str, Any] = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    return document


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(path, method.upper()): op for path, item in document["paths"].items() for method, op in item.items()}


def test_the_committed_document_is_what_the_code_generates() -> None:
    committed_text = DOCUMENT_PATH.read_text(encoding="utf-8") if DOCUMENT_PATH.exists() else ""
    up_to_date = committed_text == render(build_document(APPS))
    assert up_to_date, f"openapi.json is not what the code generates: {REGENERATE}"


def test_every_route_is_in_the_document_and_every_operation_is_a_route(committed: dict[str, Any]) -> None:
    documented = set(operations(committed))
    assert sorted(ROUTES - documented) == [], f"routes missing from openapi.json: {REGENERATE}"
    assert sorted(documented - ROUTES) == [], "operations in openapi.json that no function app routes"
    assert sorted(set(ROUTE_DOCS) - ROUTES) == [], "route documentation for routes that no function app has"


def test_the_document_is_valid_openapi_3_1(committed: dict[str, Any]) -> None:
    assert committed["openapi"].startswith("3.1.")
    validate(committed)


def test_every_operation_has_a_summary_and_a_documented_success(committed: dict[str, Any]) -> None:
    undocumented = []
    for (path, method), op in sorted(operations(committed).items()):
        successes = [status for status in op["responses"] if status.startswith("2")]
        if not op.get("summary") or not successes:
            undocumented.append(f"{method} {path}")
    assert not undocumented, "give these @bp.route(...) summary= and response= (see loyalty.http.docs): " + ", ".join(
        undocumented
    )


def test_operations_are_secured_by_their_routes_authorizer(committed: dict[str, Any]) -> None:
    for (path, method), op in operations(committed).items():
        entry = ROUTE_ENTRIES[(path, method)]
        schemes = AUTHORIZER_SCHEMES.get(entry.authorizer.name, (entry.authorizer.name,)) if entry.authorizer else ()
        assert op["security"] == [{scheme: []} for scheme in schemes], f"{method} {path}"


def test_merchant_routes_take_an_api_key_or_a_staff_token(committed: dict[str, Any]) -> None:
    merchant_routes = [op for op in operations(committed).values() if {"MerchantKey": []} in op["security"]]
    assert merchant_routes
    assert all(op["security"] == [{"MerchantKey": []}, {"StaffToken": []}] for op in merchant_routes)
    assert committed["components"]["securitySchemes"]["StaffToken"]["scheme"] == "bearer"


def test_every_merchant_route_says_which_roles_and_key_scopes_may_call_it(committed: dict[str, Any]) -> None:
    undeclared = []
    for (path, method), op in sorted(operations(committed).items()):
        merchant_route = isinstance(ROUTE_ENTRIES[(path, method)].authorizer, MerchantAuthorizer)
        doc = ROUTE_DOCS.get((path, method))
        if not merchant_route:
            assert "x-roles" not in op, f"{method} {path}: roles on a route that is not a merchant's"
            continue
        if doc is None or doc.access is None or not op.get("x-roles"):
            undeclared.append(f"{method} {path}")
            continue
        assert set(op["x-roles"]) <= {"owner", "manager", "cashier"} and "owner" in op["x-roles"], path
        assert set(op["x-key-scopes"]) <= {"till", "integration", "full"}, path
        assert "**Who may call:**" in op["description"], path
    assert undeclared == [], "declare access= on these merchant routes: " + ", ".join(undeclared)


def test_the_back_office_levels_are_where_the_issue_puts_them(committed: dict[str, Any]) -> None:
    ops = operations(committed)
    till = (("POST", "/v1/purchases"), ("POST", "/v1/redemptions"), ("GET", "/v1/members"), ("POST", "/v1/coupons"))
    for method_path in till:
        assert ops[method_path[::-1]]["x-roles"] == ["owner", "manager", "cashier"], method_path
        assert ops[method_path[::-1]]["x-key-scopes"] == ["till", "integration", "full"], method_path
    for manage in (
        ("/v1/program", "PUT"),
        ("/v1/rewards", "POST"),
        ("/v1/campaigns", "POST"),
        ("/v1/reports/kpis", "GET"),
        ("/v1/members/list", "GET"),
        ("/v1/members/{member_id}/adjustments", "POST"),
        ("/v1/imports", "POST"),
        ("/v1/webhook-endpoints", "GET"),
    ):
        assert ops[manage]["x-roles"] == ["owner", "manager"], manage
        assert ops[manage]["x-key-scopes"] == ["integration", "full"], manage
    owners = (("/v1/keys", "POST"), ("/v1/staff", "POST"), ("/v1/audit", "GET"), ("/v1/partners", "POST"))
    for owner in (*owners, ("/v1/exports", "POST"), ("/v1/webhook-endpoints", "POST")):
        assert ops[owner]["x-roles"] == ["owner"], owner
        assert ops[owner]["x-key-scopes"] == ["full"], owner


def test_a_merchant_route_without_access_is_refused_when_it_is_declared() -> None:
    from loyalty.http.access import TILL
    from loyalty.http.auth import admin_token, merchant_key
    from loyalty.http.blueprint import ApiBlueprint

    bp = ApiBlueprint("example")
    with pytest.raises(TypeError, match="declares access="):
        bp.route("/v1/example", methods=["GET"], authorizer=merchant_key, summary="An example")
    with pytest.raises(TypeError, match="only a merchant route"):
        bp.route("/v1/example", methods=["GET"], authorizer=admin_token, access=TILL, summary="An example")


def test_a_member_token_route_is_documented_as_bearer() -> None:
    app = Chalice("member-app")

    @app.authorizer(name="MemberToken")
    def member_token(request: Any) -> AuthResponse:
        return AuthResponse(routes=["*"], principal_id="member")

    @app.route("/v1/me", methods=["GET"], authorizer=member_token)
    def me() -> dict[str, str]:
        return {}

    document = build_document({"MemberAppFunction": app}, docs={})
    assert document["paths"]["/v1/me"]["get"]["security"] == [{"MemberToken": []}]
    assert document["components"]["securitySchemes"]["MemberToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A member's token (the mobile app).",
    }


def test_check_fails_on_a_stale_file_and_passes_once_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n", encoding="utf-8")
    monkeypatch.setattr(infra.openapi, "DOCUMENT_PATH", stale)
    assert infra.openapi.main(["--check"]) == 1
    assert "python -m infra.openapi" in capsys.readouterr().err
    assert infra.openapi.main([]) == 0
    assert infra.openapi.main(["--check"]) == 0


def test_cross_field_rules_are_in_the_document_and_agree_with_the_validators(committed: dict[str, Any]) -> None:
    """A client's own validator (or a generated form) learns the rules the API enforces: which member
    reference, the delivery address, the payment's fields, one design."""
    from jsonschema import Draft202012Validator
    from loyalty.api.gift_cards import GiftCardOrderRequest
    from loyalty.api.purchases import PurchaseRequest
    from loyalty.api.redemptions import QuoteRequest
    from pydantic import ValidationError

    schemas = committed["components"]["schemas"]

    def agree(name: str, model: Any, body: dict[str, Any]) -> bool:
        schema = {**schemas[name], "components": committed["components"]}
        in_document = Draft202012Validator(schema).is_valid(body)
        try:
            model.model_validate_json(json.dumps(body))
            by_code = True
        except ValidationError:
            by_code = False
        assert in_document == by_code, (name, body, in_document, by_code)
        return by_code

    quote = {"amount_kopecks": 1000}
    assert not agree("QuoteRequest", QuoteRequest, quote)
    assert agree("QuoteRequest", QuoteRequest, {**quote, "phone": "+79161234567", "member_id": None})
    assert not agree("QuoteRequest", QuoteRequest, {**quote, "phone": "+79161234567", "card_number": "12345678"})
    purchase = {"transaction_id": "t-1", "amount_kopecks": 1000}
    assert agree("PurchaseRequest", PurchaseRequest, purchase)  # anonymous
    assert not agree("PurchaseRequest", PurchaseRequest, {**purchase, "member_id": "m", "card_number": "12345678"})
    order = {
        "order_id": "o-1",
        "design_id": "d-1",
        "nominal_kopecks": 100_000,
        "quantity": 1,
        "recipient": {"email": "anna@example.ru"},
    }
    money = {"method": "money", "reference": "pos-1"}
    assert agree(
        "GiftCardOrderRequest", GiftCardOrderRequest, {**order, "delivery": {"method": "email"}, "payment": money}
    )
    assert not agree(
        "GiftCardOrderRequest", GiftCardOrderRequest, {**order, "delivery": {"method": "post"}, "payment": money}
    )
    assert not agree(
        "GiftCardOrderRequest",
        GiftCardOrderRequest,
        {**order, "delivery": {"method": "email"}, "payment": {"method": "points", "reference": "x"}},
    )
    assert not agree(
        "GiftCardOrderRequest",
        GiftCardOrderRequest,
        {**order, "artwork_url": "https://x.example/a.png", "delivery": {"method": "email"}, "payment": money},
    )
    courier = {
        "method": "courier",
        "address": {"postal_code": "101000", "region": "Москва", "city": "Москва", "street": "Тверская", "house": "1"},
    }
    assert not agree("GiftCardOrderRequest", GiftCardOrderRequest, {**order, "delivery": courier, "payment": money})
    plastic = {**order, "kind": "loyalty_card", "nominal_kopecks": None, "delivery": {"method": "email"}}
    assert agree("GiftCardOrderRequest", GiftCardOrderRequest, {**plastic, "payment": money})
    points = {"method": "points", "member_id": "mem_1"}
    assert not agree("GiftCardOrderRequest", GiftCardOrderRequest, {**plastic, "payment": points})
    assert not agree(
        "GiftCardOrderRequest",
        GiftCardOrderRequest,
        {**order, "nominal_kopecks": None, "payment": money, "delivery": {"method": "email"}},
    )
