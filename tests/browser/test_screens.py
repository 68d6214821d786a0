"""Every screen at desktop and phone widths (test-artifacts/screenshots/), and axe-core's WCAG
checks of the main ones: no serious or critical violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import App, api, dump, shop_key
from tests.support.local_stack import RunningStack, Shop

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def a_busy_shop(local: RunningStack, shop: Shop) -> dict[str, object]:
    key = shop_key(shop)
    member = api(
        local, "POST", "/v1/members", key, {"phone": "+79163330001", "name": "Ольга", "email": "olga@example.ru"}
    )
    for n, amount in enumerate((120_000, 45_000, 310_000), start=1):
        api(
            local,
            "POST",
            "/v1/purchases",
            key,
            {"transaction_id": f"busy-{n}", "member_id": member["member_id"], "amount_kopecks": amount},
        )
    api(
        local,
        "POST",
        "/v1/rewards",
        key,
        {"reward_id": "latte", "name": "Латте", "cost_points": 30, "description": "Любой размер"},
    )
    api(local, "POST", "/v1/rewards", key, {"reward_id": "croissant", "name": "Круассан", "cost_points": 20})
    return dict(member)


def test_every_screen_is_accessible_and_photographed(app: App, local: RunningStack, shop: Shop) -> None:
    member = a_busy_shop(local, shop)
    key = shop_key(shop)
    page = app.page
    problems: dict[str, list[str]] = {}

    app.open("connect")
    expect(page.get_by_role("button", name="Войти")).to_be_visible()
    problems["connect"] = app.serious_accessibility_violations()
    app.screenshot("connect")

    app.connect(key)
    expect(page.get_by_test_id("kpi-members_total")).to_have_text("1")
    problems["overview"] = app.serious_accessibility_violations()

    app.open("till")
    page.get_by_test_id("member-lookup").fill(str(member["card_number"]))
    page.keyboard.press("Enter")
    page.get_by_test_id("check-amount").fill("800")
    expect(page.get_by_test_id("quote")).to_be_visible()
    problems["till"] = app.serious_accessibility_violations()
    app.screenshot("till")

    app.open("members")
    page.get_by_test_id("members-search").fill("+7 916 333-00-01")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Ольга").click()
    expect(page.get_by_test_id("history")).to_be_visible()
    problems["member"] = app.serious_accessibility_violations()
    app.screenshot("member")
    page.get_by_role("tab", name="Согласия").click()
    expect(page.get_by_label("Рекламные рассылки")).to_be_visible()
    app.screenshot("member-consents")

    for screen, ready in (
        ("members", "Новый участник"),
        ("program", "Сохранить программу"),
        ("rewards", "Новая награда"),
        ("gift-cards", "Новый заказ"),
    ):
        app.open(screen)
        expect(page.get_by_role("button", name=ready)).to_be_visible()
        problems[screen] = app.serious_accessibility_violations()
        app.screenshot(screen)

    # The pointer resting on the current screen's link (a mouse left where it was last clicked).
    page.get_by_role("navigation").get_by_role("link", name="Подарочные карты").hover()
    problems["navigation, the pointer on the current screen's link"] = app.serious_accessibility_violations()

    app.open("notifications")
    expect(page.get_by_test_id("template-preview")).not_to_have_text("…")
    problems["notifications"] = app.serious_accessibility_violations()
    app.screenshot("notifications-templates")
    page.get_by_role("tab", name="Настройки").click()
    expect(page.get_by_label("Имя отправителя SMS")).to_be_visible()
    app.screenshot("notifications-settings")
    page.get_by_role("tab", name="Рассылки").click()
    app.screenshot("notifications-campaigns")

    failing = {screen: found for screen, found in problems.items() if found}
    assert failing == {}, dump(failing)


def test_a_template_previews_live_and_an_unknown_placeholder_is_caught_before_saving(app: App, shop: Shop) -> None:
    app.connect(shop_key(shop))
    page = app.page
    app.open("notifications")
    body = page.get_by_test_id("template-body")
    body.fill("{name}, +{points} баллов! Баланс {balance}")
    expect(page.get_by_test_id("template-preview")).not_to_contain_text("{name}")
    expect(page.get_by_test_id("template-preview")).to_contain_text("баллов! Баланс")
    body.fill("Привет, {nickname}")
    expect(page.get_by_text("{nickname} is not known")).to_be_visible()
    expect(page.get_by_role("button", name="Сохранить")).to_be_disabled()


def test_a_campaign_shows_its_progress_to_the_end(app: App, local: RunningStack, shop: Shop) -> None:
    a_busy_shop(local, shop)
    app.connect(shop_key(shop))
    page = app.page
    app.open("notifications")
    page.get_by_role("tab", name="Рассылки").click()
    page.get_by_label("Текст рассылки").fill("Двойные баллы в выходные!")
    page.get_by_role("button", name="Запустить рассылку").click()
    progress = page.get_by_test_id("campaign-progress")
    expect(progress).to_contain_text("Рассылка завершена", timeout=30_000)
    expect(progress).to_contain_text("Просмотрено участников: 1")
