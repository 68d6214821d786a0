"""Member care: find a member, their history, a reward given for points, a review bonus, consents;
each change is checked against the API."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import App, api, number, shop_key
from tests.support.local_stack import RunningStack, Shop

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_a_manager_looks_after_a_member(app: App, local: RunningStack, shop: Shop) -> None:
    key = shop_key(shop)
    program = api(local, "GET", "/v1/program", key)
    program["program"]["bonuses"]["review_points"] = 25
    api(local, "PUT", "/v1/program", key, {"program": program["program"]})
    member = api(local, "POST", "/v1/members", key, {"phone": "+79164440001", "name": "Ирина"})
    api(
        local,
        "POST",
        "/v1/purchases",
        key,
        {"transaction_id": "m-1", "member_id": member["member_id"], "amount_kopecks": 600_000},
    )
    api(local, "POST", "/v1/rewards", key, {"reward_id": "cake", "name": "Пирожное", "cost_points": 40})

    app.connect(key)
    page = app.page
    page.get_by_role("link", name="Участники").click()
    page.get_by_test_id("members-search").fill("8 916 444 00 01")
    page.get_by_role("button", name="Найти").click()
    page.get_by_role("link", name="Ирина").click()
    expect(page.get_by_test_id("member-balance")).to_have_text(number(60))
    expect(page.get_by_test_id("history")).to_contain_text("m-1")

    page.get_by_role("button", name="Выдать награду").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Награда").click()
    page.get_by_role("option", name=re.compile("Пирожное")).click()
    dialog.get_by_role("button", name="Выдать купон за баллы").click()
    expect(dialog.get_by_role("status")).to_contain_text("Код купона:")
    code = (dialog.get_by_role("status").text_content() or "").rsplit(":", 1)[-1].strip()
    assert api(local, "GET", f"/v1/coupons/{code}", key)["status"] == "issued"
    dialog.get_by_role("button").first.click()  # close
    expect(page.get_by_test_id("member-balance")).to_have_text(number(20))

    page.get_by_role("button", name="Бонус за отзыв").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Номер отзыва или анкеты").fill("review-77")
    dialog.get_by_role("button", name="Начислить бонус").click()
    expect(dialog.get_by_role("status")).to_contain_text("Начислено 25 баллов")
    dialog.get_by_role("button").first.click()
    assert api(local, "GET", f"/v1/members/{member['member_id']}", key)["balance"] == 45
    expect(page.get_by_test_id("member-balance")).to_have_text(number(45))

    page.get_by_role("tab", name="Согласия").click()
    marketing = page.get_by_label("Рекламные рассылки")
    was = marketing.is_checked()
    marketing.click()
    expect(marketing).to_be_checked(checked=not was)
    consents = api(local, "GET", f"/v1/members/{member['member_id']}/consents", key)
    assert consents["marketing"] is (not was)
    app.screenshot("member-care")


def test_a_manager_finds_a_member_corrects_the_name_and_adjusts_points_with_a_reason(
    app: App, local: RunningStack, shop: Shop
) -> None:
    key = shop_key(shop)
    member = api(
        local, "POST", "/v1/members", key, {"phone": "+79165550001", "name": "Свтелана", "email": "sveta@example.ru"}
    )
    api(local, "POST", "/v1/members", key, {"phone": "+79165550002", "name": "Пётр"})
    member_id = member["member_id"]

    app.connect(key)
    page = app.page
    app.open("members")
    # The list (newest first) shows both; a status filter leaves out the active ones.
    listing = page.get_by_test_id("member-list")
    expect(listing.get_by_role("row")).to_have_count(3)
    problems = app.serious_accessibility_violations()
    app.screenshot("members-list")
    page.get_by_role("combobox", name="Статус").click()
    page.get_by_role("option", name="Заблокирован").click()
    expect(page.get_by_text("Под эти условия никто не подходит.")).to_be_visible()

    page.get_by_test_id("members-search").fill("sveta@example.ru")
    page.get_by_role("button", name="Найти").click()
    page.get_by_role("link", name="Свтелана").click()

    page.get_by_role("button", name="Изменить").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Эл. почта").fill("not-an-email")
    dialog.get_by_role("button", name="Сохранить").click()
    # The API's validation error stands next to the field it is about.
    expect(dialog.get_by_label("Эл. почта")).to_have_attribute("aria-invalid", "true")
    dialog.get_by_label("Эл. почта").fill("sveta@example.ru")
    dialog.get_by_label("Имя").fill("Светлана")
    dialog.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_test_id("member-name")).to_have_text("Светлана")
    assert api(local, "GET", f"/v1/members/{member_id}", key)["name"] == "Светлана"

    page.get_by_role("button", name="Баллы вручную").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Баллы").fill("120")
    dialog.get_by_role("button", name="Провести").click()
    expect(dialog.get_by_text("Укажите причину")).to_be_visible()  # no reason, nothing sent
    dialog.get_by_label("Причина").fill("Компенсация за пролитый кофе")
    dialog.get_by_role("button", name="Провести").click()
    expect(dialog.get_by_role("status")).to_contain_text("баланс 120")
    dialog.get_by_role("button").first.click()  # close
    balance = api(local, "GET", f"/v1/members/{member_id}", key)["balance"]
    assert balance == 120
    expect(page.get_by_test_id("member-balance")).to_have_text(number(balance))
    expect(page.get_by_test_id("history")).to_contain_text("+120")

    page.get_by_role("tab", name="Карты").click()
    expect(page.get_by_test_id("member-cards")).to_contain_text(member["card_number"])
    problems += app.serious_accessibility_violations()
    app.screenshot("member-page")
    assert problems == [], problems
