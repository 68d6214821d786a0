"""The owner's access screen: a key per till created (its secret shown once) and revoked, a person
invited with a role, and every change of it in the audit log, as the API holds them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import App, api, shop_key
from tests.support.local_stack import RunningStack, Shop

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_an_owner_issues_and_revokes_a_till_key_invites_a_cashier_and_reads_the_audit_log(
    app: App, local: RunningStack, shop: Shop
) -> None:
    key = shop_key(shop)
    app.connect(key)
    app.open("access")
    page = app.page
    page.get_by_role("button", name="Новый ключ").click()
    page.get_by_label("Название").fill("Касса 2")
    page.get_by_role("button", name="Создать").click()
    secret = page.get_by_test_id("key-secret").inner_text().strip()
    assert secret.startswith("lk_")
    page.get_by_role("button", name="Готово").click()
    [till] = [k for k in api(local, "GET", "/v1/keys", key)["keys"] if k["name"] == "Касса 2"]
    assert till["scope"] == "till"
    assert api(local, "GET", "/v1/members", secret, phone="+79160000999") == {"members": []}  # a till route: it works
    row = page.get_by_test_id(f"key-{till['key_id']}")
    row.get_by_role("button", name="Отозвать").click()
    expect(row.get_by_text("Отозван")).to_be_visible()
    app.screenshot("access-keys")
    assert app.serious_accessibility_violations() == []

    page.get_by_role("tab", name="Сотрудники").click()
    page.get_by_role("button", name="Пригласить").click()
    page.get_by_label("E-mail").fill("kassa2@demo-coffee.example")
    page.get_by_role("button", name="Отправить приглашение").click()
    expect(page.get_by_text("kassa2@demo-coffee.example")).to_be_visible()
    [person] = api(local, "GET", "/v1/staff", key)["staff"]
    assert (person["role"], person["status"]) == ("cashier", "invited")

    page.get_by_role("tab", name="Журнал действий").click()
    log = page.get_by_test_id("audit-log")
    expect(log.get_by_text("POST /v1/keys/{key_id}/revoke")).to_be_visible()
    expect(log.get_by_text("POST /v1/staff", exact=True)).to_be_visible()
    app.screenshot("access-audit")
