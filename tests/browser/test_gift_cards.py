"""A gift card ordered on the gift-cards screen, followed to delivery, then spent at the till."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import App, api, shop_key
from tests.support.local_stack import RunningStack, Shop

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_an_order_is_followed_to_delivery_and_its_card_spent_at_the_till(
    app: App, local: RunningStack, shop: Shop
) -> None:
    key = shop_key(shop)
    app.connect(key)
    page = app.page
    page.get_by_role("link", name="Подарочные карты").click()
    expect(page.get_by_text("Зимняя сказка")).to_be_visible()  # SevenDar's catalog, with pictures
    page.get_by_role("button", name="Новый заказ").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Номинал").fill("2000")
    dialog.get_by_label("Имя").fill("Вера")
    dialog.get_by_label("Эл. почта").fill("vera@example.ru")
    dialog.get_by_label("Номер платежа").fill("pay-778")
    app.screenshot("gift-card-order")
    dialog.get_by_role("button", name="Оформить заказ").click()
    order = page.get_by_test_id("gift-card-order")
    expect(order).to_contain_text("Создан")
    # The stand-in moves the order along every half second; the screen follows it to the end.
    expect(order).to_contain_text("Доставлен", timeout=30_000)
    app.screenshot("gift-cards")

    orders = requests.get(f"{local.sevendar}/_standin/orders", timeout=5).json()["orders"]
    code = next(o["printed_codes"][0] for o in orders if o["status"] == "delivered" and o.get("printed_codes"))
    page.get_by_role("link", name="Касса").click()
    page.get_by_role("tab", name="Подарочная карта").click()
    page.get_by_label("Код подарочной карты").fill(code)
    page.get_by_role("button", name="Проверить").click()
    expect(page.get_by_text(re.compile(r"Остаток: 2\s?000\s₽"))).to_be_visible()
    page.get_by_label("Оплатить картой").fill("750")
    page.get_by_role("button", name="Списать с карты").click()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"Списано 750\s₽, остаток 1\s?250\s₽"))
    assert api(local, "GET", f"/v1/gift-cards/{code}", key)["balance_kopecks"] == 125_000
