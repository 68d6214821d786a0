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
