"""Staff accounts on Amazon Cognito (moto): invitation by e-mail, first sign-in with a new password,
roles on every merchant route, role changes, removal, sign-out, password reset, owners."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from infra.local import cognito_mail
from infra.local.provision import REGION, Stack
from tests.integration.conftest import create_merchant, new_phone
from tests.support.api import GatewayClient
from tests.support.staff import NEW_PASSWORD, first_sign_in, reset_code, temporary_password

_emails = itertools.count(1)


def new_email(role: str = "staff") -> str:
    return f"{role}-{next(_emails)}@zerno.example"


@pytest.fixture
def staff_api(merchant: dict[str, Any]) -> GatewayClient:
    from functions.staff.app import app

    return GatewayClient(app, {"X-Api-Key": merchant["api_key"]})


@pytest.fixture
def staff_auth(stack: Stack) -> GatewayClient:
    from functions.staff_auth.app import app

    return GatewayClient(app)


def poster(client: GatewayClient) -> Callable[[str, dict[str, Any]], tuple[int, Any]]:
    def post(path: str, body: dict[str, Any]) -> tuple[int, Any]:
        reply = client.post(path, body=body)
        return reply.status, reply.body

    return post


def join(staff_api: GatewayClient, staff_auth: GatewayClient, role: str, email: str | None = None) -> dict[str, Any]:
    """Invite a person with ``role``, and sign them in the first time: their tokens and staff id."""
    email = email or new_email(role)
    invited = staff_api.post("/v1/staff", body={"email": email, "role": role, "name": "Анна"})
    assert invited.status == 201, invited.body
    tokens = first_sign_in(poster(staff_auth), email, temporary_password(cognito_mail.sent(), email))
    return {**tokens, "staff_id": invited.body["staff_id"], "email": email}


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def as_staff(app_module: str, tokens: dict[str, Any]) -> GatewayClient:
    module = __import__(f"functions.{app_module}.app", fromlist=["app"])
    return GatewayClient(module.app, bearer(tokens))


def test_an_invitation_is_emailed_and_the_first_sign_in_sets_a_password(
    staff_api: GatewayClient, staff_auth: GatewayClient, merchant: dict[str, Any]
) -> None:
    email = new_email()
    invited = staff_api.post("/v1/staff", body={"email": email, "role": "cashier"})
    assert invited.status == 201, invited.body
    assert invited.body["status"] == "invited" and invited.body["role"] == "cashier"
    [mail] = [m for m in cognito_mail.sent() if m["to"] == email]
    assert mail["subject"] == "Приглашение в кабинет программы лояльности"
    password = temporary_password([mail], email)
    wrong = staff_auth.post("/v1/staff/auth/sign-in", body={"email": email, "password": "not-it-at-all"})
    assert wrong.status == 401 and wrong.body["error"]["code"] == "invalid_credentials"
    tokens = first_sign_in(poster(staff_auth), email, password)
    me = as_staff("staff_auth", tokens).get("/v1/staff/me")
    assert me.status == 200, me.body
    assert me.body == {
        "staff_id": invited.body["staff_id"],
        "merchant_id": merchant["merchant_id"],
        "role": "cashier",
        "email": email,
        "name": None,
    }
    listed = staff_api.get("/v1/staff").body["staff"]
    assert [(s["email"], s["status"]) for s in listed] == [(email, "active")]
    again = staff_auth.post("/v1/staff/auth/sign-in", body={"email": email, "password": NEW_PASSWORD})
    assert again.status == 200 and again.body["status"] == "signed_in"


def test_an_unknown_email_is_answered_as_a_wrong_password(staff_auth: GatewayClient) -> None:
    reply = staff_auth.post("/v1/staff/auth/sign-in", body={"email": "nobody@zerno.example", "password": "x"})
    assert reply.status == 401
    assert reply.body["error"] == {"code": "invalid_credentials", "message": "wrong e-mail or password"}


def test_a_cashier_works_the_till_but_may_not_change_the_program(
    staff_api: GatewayClient, staff_auth: GatewayClient, merchant: dict[str, Any]
) -> None:
    cashier = join(staff_api, staff_auth, "cashier")
    members = as_staff("members", cashier)
    enrolled = members.post("/v1/members", body={"phone": new_phone()})
    assert enrolled.status == 201, enrolled.body
    purchase = as_staff("accrue", cashier).post(
        "/v1/purchases",
        body={"transaction_id": "till-1", "member_id": enrolled.body["member_id"], "amount_kopecks": 50_000},
    )
    assert purchase.status == 201, purchase.body
    program = as_staff("program", cashier)
    assert program.get("/v1/program").status == 403
    refused = program.put("/v1/program", body={"program": {}})
    assert refused.status == 403
    assert refused.body["error"]["code"] == "forbidden"
    assert refused.body["error"]["details"] == {"roles": ["owner", "manager"], "key_scopes": ["integration", "full"]}
    assert as_staff("keys", cashier).get("/v1/keys").status == 403


def test_a_role_change_and_a_removal_apply_from_the_next_request(
    staff_api: GatewayClient, staff_auth: GatewayClient
) -> None:
    person = join(staff_api, staff_auth, "cashier")
    reports = as_staff("reports", person)
    assert reports.get("/v1/reports/kpis").status == 403
    promoted = staff_api.put(
        "/v1/staff/{staff_id}/role", path_params={"staff_id": person["staff_id"]}, body={"role": "manager"}
    )
    assert promoted.status == 200 and promoted.body["role"] == "manager"
    assert reports.get("/v1/reports/kpis").status == 200  # the same token, the new role
    removed = staff_api.delete("/v1/staff/{staff_id}", path_params={"staff_id": person["staff_id"]})
    assert removed.status == 200 and removed.body["status"] == "removed"
    assert reports.get("/v1/reports/kpis").status == 401
    again = staff_auth.post("/v1/staff/auth/sign-in", body={"email": person["email"], "password": NEW_PASSWORD})
    assert again.status == 401
    # the address is free again: the person can be invited back
    back = staff_api.post("/v1/staff", body={"email": person["email"], "role": "cashier"})
    assert back.status == 201 and back.body["staff_id"] != person["staff_id"]


def test_signing_out_ends_every_session_of_the_account(staff_api: GatewayClient, staff_auth: GatewayClient) -> None:
    person = join(staff_api, staff_auth, "manager")
    program = as_staff("program", person)
    assert program.get("/v1/program").status == 200
    signed_out = as_staff("staff_auth", person).post("/v1/staff/auth/sign-out")
    assert signed_out.status == 200 and signed_out.body == {"signed_out": True}
    assert program.get("/v1/program").status == 401
    refreshed = staff_auth.post("/v1/staff/auth/refresh", body={"refresh_token": person["refresh_token"]})
    assert refreshed.status == 401
    time.sleep(1.1)  # tokens issued in the second of the sign-out are refused with it
    fresh = staff_auth.post("/v1/staff/auth/sign-in", body={"email": person["email"], "password": NEW_PASSWORD})
    assert fresh.status == 200
    assert as_staff("program", fresh.body).get("/v1/program").status == 200


def test_a_refresh_token_gives_a_working_access_token(staff_api: GatewayClient, staff_auth: GatewayClient) -> None:
    person = join(staff_api, staff_auth, "manager")
    refreshed = staff_auth.post("/v1/staff/auth/refresh", body={"refresh_token": person["refresh_token"]})
    assert refreshed.status == 200 and refreshed.body["status"] == "signed_in"
    assert as_staff("program", refreshed.body).get("/v1/program").status == 200


def test_a_forgotten_password_is_reset_with_the_emailed_code_and_old_sessions_end(
    staff_api: GatewayClient, staff_auth: GatewayClient
) -> None:
    person = join(staff_api, staff_auth, "manager")
    asked = staff_auth.post("/v1/staff/auth/forgot-password", body={"email": person["email"]})
    assert asked.status == 202 and asked.body == {"accepted": True}
    unknown = staff_auth.post("/v1/staff/auth/forgot-password", body={"email": "nobody@zerno.example"})
    assert unknown.status == 202 and unknown.body == asked.body  # nothing tells who has an account
    code = reset_code(cognito_mail.sent(), person["email"])
    reset = staff_auth.post(
        "/v1/staff/auth/reset-password",
        body={"email": person["email"], "code": code, "new_password": "Another-Pass-2027"},
    )
    assert reset.status == 200, reset.body
    assert as_staff("program", person).get("/v1/program").status == 401  # the old session has ended
    time.sleep(1.1)
    old = staff_auth.post("/v1/staff/auth/sign-in", body={"email": person["email"], "password": NEW_PASSWORD})
    assert old.status == 401
    new = staff_auth.post("/v1/staff/auth/sign-in", body={"email": person["email"], "password": "Another-Pass-2027"})
    assert new.status == 200 and as_staff("program", new.body).get("/v1/program").status == 200


def test_a_weak_new_password_is_refused_with_the_policy(staff_api: GatewayClient, staff_auth: GatewayClient) -> None:
    email = new_email()
    staff_api.post("/v1/staff", body={"email": email, "role": "cashier"})
    password = temporary_password(cognito_mail.sent(), email)
    challenge = staff_auth.post("/v1/staff/auth/sign-in", body={"email": email, "password": password}).body
    weak = staff_auth.post(
        "/v1/staff/auth/new-password",
        body={"email": email, "session": challenge["session"], "new_password": "alllowercase"},
    )
    assert weak.status == 400 and weak.body["error"]["code"] == "weak_password"


def test_an_email_has_one_account_and_an_invitation_can_be_sent_again(
    staff_api: GatewayClient, staff_auth: GatewayClient
) -> None:
    email = new_email()
    first = staff_api.post("/v1/staff", body={"email": email.upper(), "role": "cashier"})
    assert first.status == 201 and first.body["email"] == email
    again = staff_api.post("/v1/staff", body={"email": email, "role": "manager"})
    assert again.status == 409 and again.body["error"]["code"] == "staff_exists"
    resent = staff_api.post("/v1/staff/{staff_id}/invitation", path_params={"staff_id": first.body["staff_id"]})
    assert resent.status == 200
    invitations = [m for m in cognito_mail.sent() if m["to"] == email]
    assert len(invitations) == 2
    first_sign_in(poster(staff_auth), email, temporary_password(invitations, email))  # the newest one works
    active = staff_api.post("/v1/staff/{staff_id}/invitation", path_params={"staff_id": first.body["staff_id"]})
    assert active.status == 409 and active.body["error"]["code"] == "not_invited"


def test_the_last_owner_can_neither_leave_nor_stop_being_one(
    admin: GatewayClient, staff_auth: GatewayClient, stack: Stack
) -> None:
    from functions.staff.app import app

    email = new_email("owner")
    created = create_merchant(admin, "Ателье", owner_email=email)
    owner_id = created["owner"]["staff_id"]
    assert created["owner"]["role"] == "owner" and created["owner_error"] is None
    owner = first_sign_in(poster(staff_auth), email, temporary_password(cognito_mail.sent(), email))
    as_owner = GatewayClient(app, bearer(owner))
    demoted = as_owner.put("/v1/staff/{staff_id}/role", path_params={"staff_id": owner_id}, body={"role": "manager"})
    assert demoted.status == 409 and demoted.body["error"]["code"] == "last_owner"
    left = as_owner.delete("/v1/staff/{staff_id}", path_params={"staff_id": owner_id})
    assert left.status == 409
    second = as_owner.post("/v1/staff", body={"email": new_email("owner"), "role": "owner"})
    assert second.status == 201
    demoted = as_owner.put("/v1/staff/{staff_id}/role", path_params={"staff_id": owner_id}, body={"role": "manager"})
    assert demoted.status == 200  # another owner remains (invited)
    assert as_owner.get("/v1/staff").status == 403  # a manager now


def test_the_platform_admin_invites_an_owner_to_an_existing_merchant(
    admin: GatewayClient, merchant: dict[str, Any], staff_auth: GatewayClient
) -> None:
    email = new_email("owner")
    invited = admin.post(
        "/v1/admin/merchants/{merchant_id}/owners",
        path_params={"merchant_id": merchant["merchant_id"]},
        body={"email": email, "name": "Ольга"},
    )
    assert invited.status == 201 and invited.body["role"] == "owner"
    unknown = admin.post(
        "/v1/admin/merchants/{merchant_id}/owners", path_params={"merchant_id": "mch_nope"}, body={"email": new_email()}
    )
    assert unknown.status == 404
    owner = first_sign_in(poster(staff_auth), email, temporary_password(cognito_mail.sent(), email))
    assert as_staff("keys", owner).get("/v1/keys").status == 200
    taken = create_merchant(admin, "Вторая кофейня", owner_email=email)
    assert taken["owner"] is None and taken["owner_error"]["code"] == "staff_exists"


def test_staff_reach_only_their_own_merchant(
    admin: GatewayClient, staff_api: GatewayClient, staff_auth: GatewayClient
) -> None:
    from functions.staff.app import app

    other = create_merchant(admin, "Другая")
    theirs = GatewayClient(app, {"X-Api-Key": other["api_key"]}).post(
        "/v1/staff", body={"email": new_email(), "role": "cashier"}
    )
    owner = join(staff_api, staff_auth, "owner")
    stranger = as_staff("staff", owner).get("/v1/staff/{staff_id}", path_params={"staff_id": theirs.body["staff_id"]})
    assert stranger.status == 404
    assert [s["staff_id"] for s in as_staff("staff", owner).get("/v1/staff").body["staff"]] == [owner["staff_id"]]


def test_a_token_of_another_pool_client_or_a_forged_one_is_refused(
    staff_api: GatewayClient, staff_auth: GatewayClient, stack: Stack
) -> None:
    person = join(staff_api, staff_auth, "owner")
    header, payload, _ = person["access_token"].split(".")
    forged = {"access_token": f"{header}.{payload}.c2lnbmF0dXJl"}
    assert as_staff("program", forged).get("/v1/program").status == 401
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool = stack.refs["StaffUserPool"]
    other_client = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="other", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    foreign = cognito.initiate_auth(
        ClientId=other_client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": person["staff_id"], "PASSWORD": NEW_PASSWORD},
    )["AuthenticationResult"]
    assert as_staff("program", {"access_token": foreign["AccessToken"]}).get("/v1/program").status == 401
    id_token = {"access_token": person.get("id_token") or foreign["IdToken"]}
    assert as_staff("program", id_token).get("/v1/program").status == 401


def test_one_credential_at_a_time(
    merchant: dict[str, Any], staff_api: GatewayClient, staff_auth: GatewayClient
) -> None:
    person = join(staff_api, staff_auth, "owner")
    both = as_staff("program", person).get("/v1/program", headers={"X-Api-Key": merchant["api_key"]})
    assert both.status == 401


def test_an_unknown_or_expired_sign_in_session_is_a_401(staff_api: GatewayClient, staff_auth: GatewayClient) -> None:
    email = new_email()
    staff_api.post("/v1/staff", body={"email": email, "role": "cashier"})
    reply = staff_auth.post(
        "/v1/staff/auth/new-password",
        body={"email": email, "session": "not-a-session-of-this-pool", "new_password": NEW_PASSWORD},
    )
    assert reply.status == 401 and reply.body["error"]["code"] == "invalid_session"
    short = staff_auth.post(
        "/v1/staff/auth/new-password", body={"email": email, "session": "0", "new_password": NEW_PASSWORD}
    )
    assert short.status == 400
