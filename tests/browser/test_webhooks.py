"""The webhooks screen: an endpoint subscribed, pinged and its delivery log read, then paused;
each step checked against the API."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import App, api, shop_key
from tests.support.local_stack import RunningStack, Shop

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_a_developer_subscribes_an_endpoint_pings_it_reads_the_log_and_pauses_it(
    app: App, local: RunningStack, shop: Shop
) -> None:
    key = shop_key(shop)
    url = f"{local.api}/_local/webhook-receiver/browser-crm"
    app.connect(key)
    page = app.page
    page.get_by_role("link", name="Вебхуки").click()
    page.get_by_role("button", name="Новый адрес").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Адрес (URL)").fill(url)
    dialog.get_by_label("Описание").fill("CRM магазина")
    dialog.get_by_role("button", name="Создать").click()
    expect(dialog.get_by_test_id("webhook-secret")).to_contain_text("whsec_")
    dialog.get_by_role("button", name="Готово").click()

    [endpoint] = api(local, "GET", "/v1/webhook-endpoints", key)["endpoints"]
    assert endpoint["url"] == url and endpoint["event_types"] is None
    panel = page.get_by_test_id("webhook-endpoint")
    panel.get_by_role("button", name="Отправить тест").click()
    log = panel.get_by_test_id("webhook-log")
    expect(log).to_contain_text("webhook.test")
    expect(log).to_contain_text("Доставлено", timeout=20_000)
    [delivery] = api(local, "GET", f"/v1/webhook-endpoints/{endpoint['endpoint_id']}/deliveries", key)["deliveries"]
    assert delivery["status"] == "delivered"
    expect(log).to_contain_text(f"№{delivery['attempts'][-1]['number']}: {delivery['attempts'][-1]['status_code']}")
    problems = app.serious_accessibility_violations()
    app.screenshot("webhooks")

    panel.get_by_label("Включён").uncheck()
    panel.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_role("table", name="Адреса")).to_contain_text("Отключён")
    assert api(local, "GET", f"/v1/webhook-endpoints/{endpoint['endpoint_id']}", key)["enabled"] is False
    assert problems == [], problems
