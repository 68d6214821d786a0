"""People of the shop sign in with their own accounts: the owner invites them (Cognito e-mails a
temporary password, which the local stack's dev inbox shows), the first sign-in asks for a
password of their own, and the role decides what the app shows, as the API decides what it answers."""

from __future__ import annotations

import itertools
import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import App, api
from tests.support.local_stack import DEMO_KEY, RunningStack
from tests.support.staff import NEW_PASSWORD, temporary_password

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
_people = itertools.count(1)


def invite(local: RunningStack, role: str) -> tuple[str, str]:
    """A new person with ``role`` in the demo shop: their e-mail and temporary password."""
    email = f"{role}-{next(_people)}@demo-coffee.example"
    api(local, "POST", "/v1/staff", DEMO_KEY, {"email": email, "role": role, "name": f"Анна ({role})"})
    inbox = requests.get(f"{local.api}/_local/inbox", params={"channel": "email"}, timeout=10).json()["messages"]
    return email, temporary_password(inbox, email)


def first_sign_in(app: App, email: str, password: str) -> None:
    app.open("connect")
    page = app.page
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Пароль", exact=True).fill(password)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Задайте свой пароль")).to_be_visible()
    page.get_by_label("Новый пароль").fill("alllowercase12")
    page.get_by_role("button", name="Сохранить и войти").click()
    expect(page.get_by_text("Пароль не подходит", exact=False)).to_be_visible()  # the pool's policy, in place
    page.get_by_label("Новый пароль").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Сохранить и войти").click()
    page.get_by_role("button", name="Выйти").wait_for()


def test_a_manager_signs_in_with_an_invitation_and_a_wrong_password_is_refused_in_place(
    app: App, local: RunningStack
) -> None:
    email, temporary = invite(local, "manager")
    app.open("connect")
    app.page.get_by_label("E-mail").fill(email)
    app.page.get_by_label("Пароль", exact=True).fill("Not-the-password-1")
    app.page.get_by_role("button", name="Войти").click()
    expect(app.page.get_by_text("Неверный e-mail или пароль.")).to_be_visible()
    app.screenshot("staff-sign-in")
    assert app.serious_accessibility_violations() == []

    first_sign_in(app, email, temporary)
    expect(app.page).to_have_url(re.compile(r"/app/overview$"))
    expect(app.page.get_by_text("Анна (manager)")).to_be_visible()
    app.page.reload()  # the session survives a reload
    expect(app.page.get_by_role("navigation").get_by_role("link", name="Программа")).to_be_visible()
    app.page.get_by_role("button", name="Выйти").click()
    expect(app.page).to_have_url(re.compile(r"/app/connect$"))


def test_a_cashier_lands_at_the_till_and_sees_only_the_till_and_members(app: App, local: RunningStack) -> None:
    email, temporary = invite(local, "cashier")
    first_sign_in(app, email, temporary)
    expect(app.page).to_have_url(re.compile(r"/app/till$"))
    navigation = app.page.get_by_role("navigation")
    expect(navigation.get_by_role("link")).to_have_count(2)
    app.open("program")
    expect(app.page).to_have_url(re.compile(r"/app/till$"))
