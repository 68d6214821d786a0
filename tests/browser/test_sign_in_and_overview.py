"""Signing in with a merchant key, what each role sees, and the overview's figures against the API."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import App, api, number, roubles
from tests.support.local_stack import DEMO_KEY, RunningStack

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_a_wrong_key_is_refused_in_place_and_the_right_one_opens_the_overview(app: App) -> None:
    app.open()
    expect(app.page).to_have_url(re.compile(r"/app/connect$"))
    app.page.get_by_role("tab", name="Ключ устройства").click()
    app.page.get_by_label("Ключ API магазина").fill("lk_not_a_key")
    app.page.get_by_role("button", name="Войти").click()
    expect(app.page.get_by_text("Ключ не принят")).to_be_visible()
    app.screenshot("sign-in-refused")

    app.page.get_by_label("Ключ API магазина").fill(DEMO_KEY)
    app.page.get_by_role("button", name="Войти").click()
    expect(app.page).to_have_url(re.compile(r"/app/overview$"))
    expect(app.page.get_by_role("heading", name="Обзор")).to_be_visible()
    # The session survives a reload ("remember on this device" is the default).
    app.page.reload()
    expect(app.page.get_by_role("heading", name="Обзор")).to_be_visible()
    app.page.get_by_role("button", name="Выйти").click()
    expect(app.page).to_have_url(re.compile(r"/app/connect$"))


def test_the_overview_shows_the_demo_shops_figures_as_the_api_reports_them(app: App, local: RunningStack) -> None:
    report = api(local, "GET", "/v1/reports/kpis", DEMO_KEY)
    latest = report["months"][-1]
    app.connect()
    page = app.page
    expect(page.get_by_role("heading", name=f"Последний месяц: {latest['month']}")).to_be_visible()

    def money(kopecks: int | None) -> re.Pattern[str] | str:
        return "—" if kopecks is None else roubles(kopecks)

    def percent(ratio: float | None) -> re.Pattern[str] | str:
        return "—" if ratio is None else re.compile(rf"^{round(ratio * 100, 1):g}".replace(".", ",") + r"\s?%$")

    for field in ("members_new", "members_active", "members_total", "purchases_members", "purchases_anonymous"):
        expect(page.get_by_test_id(f"kpi-{field}")).to_have_text(number(latest[field]))
    expect(page.get_by_test_id("kpi-points_outstanding")).to_have_text(number(latest["points_outstanding"]))
    for field in ("aov_members_kopecks", "aov_anonymous_kopecks", "liability_kopecks", "program_cost_kopecks"):
        expect(page.get_by_test_id(f"kpi-{field}")).to_have_text(money(latest[field]))
    expect(page.get_by_test_id("kpi-engagement_rate")).to_have_text(percent(latest["engagement_rate"]))
    expect(page.get_by_test_id("kpi-retention_rate")).to_have_text(percent(latest["retention_rate"]))
    # The monthly charts, the before/after table (with the months it was built from) and cohorts.
    expect(page.get_by_role("figure", name="Средний чек: участники и остальные")).to_be_visible()
    expect(page.get_by_role("figure", name="До программы и после")).to_contain_text("Через 3 месяца")
    expect(page.get_by_test_id("baseline-note")).to_contain_text(report["months"][0]["month"][:4])
    expect(page.get_by_role("table", name="Удержание по когортам")).to_contain_text(report["cohorts"][-1]["month"])
    expect(page.get_by_role("figure", name="Подарочные карты")).to_be_visible()
    assert app.serious_accessibility_violations() == []
    app.screenshot("overview")


def test_a_till_device_sees_only_the_till_and_members(app: App) -> None:
    app.connect(till_only=True)
    page = app.page
    expect(page).to_have_url(re.compile(r"/app/till$"))
    navigation = page.get_by_role("navigation")
    expect(navigation.get_by_role("link")).to_have_count(2)
    expect(navigation.get_by_role("link", name="Касса")).to_be_visible()
    expect(navigation.get_by_role("link", name="Участники")).to_be_visible()
    app.open("program")
    expect(page).to_have_url(re.compile(r"/app/till$"))


def test_english_is_one_click_away_and_stays_chosen(app: App) -> None:
    app.connect()
    app.page.get_by_text("EN", exact=True).click()
    expect(app.page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(app.page.locator("html")).to_have_attribute("lang", "en")
    app.page.reload()
    expect(app.page.get_by_role("heading", name="Overview")).to_be_visible()
    app.page.get_by_text("RU", exact=True).click()
    expect(app.page.get_by_role("heading", name="Обзор")).to_be_visible()
