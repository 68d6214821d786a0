"""The program editor: the API's validation errors appear next to the field; a good edit saves."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import App, api, shop_key
from tests.support.local_stack import RunningStack, Shop

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_a_manager_sees_the_apis_validation_error_in_place_then_saves(
    app: App, local: RunningStack, shop: Shop
) -> None:
    key = shop_key(shop)
    before = api(local, "GET", "/v1/program", key)
    app.connect(key)
    page = app.page
    page.get_by_role("link", name="Программа").click()
    cap = page.get_by_label("Можно оплатить баллами до")
    cap.fill("150")
    page.get_by_test_id("program-save").click()

    # The API's own message ("less than or equal to 100"), in Russian, under the field itself.
    expect(page.get_by_test_id("program-invalid")).to_be_visible()
    expect(cap).to_have_attribute("aria-invalid", "true")
    described_by = (cap.get_attribute("aria-describedby") or "").split()
    error = page.locator(",".join(f"[id='{element}']" for element in described_by)).filter(has_text="Не больше 100")
    expect(error).to_have_count(1)  # the field itself names its error, for screen readers too
    assert api(local, "GET", "/v1/program", key) == before  # nothing was saved
    app.screenshot("program-invalid")

    # A rule about the whole tier ladder lands on the tiers section.
    page.get_by_label("Уровни включены").check()
    page.get_by_label("Порог, сумма покупок").first.fill("100")
    cap.fill("40")
    page.get_by_test_id("program-save").click()
    expect(page.get_by_role("region", name="Уровни")).to_contain_text(
        "Первый уровень — стартовый: его порог должен быть 0"
    )
    page.get_by_label("Порог, сумма покупок").first.fill("0")
    page.get_by_test_id("program-save").click()
    expect(page.get_by_text(f"Программа сохранена: версия {before['version'] + 1}")).to_be_visible()
    expect(cap).not_to_have_attribute("aria-invalid", "true")
    saved = api(local, "GET", "/v1/program", key)
    assert saved["version"] == before["version"] + 1
    assert saved["program"]["redemption_cap_percent"] == 40
    assert [level["threshold"] for level in saved["program"]["tiers"]["levels"]] == [0, 1_000_000, 3_000_000]


def test_the_preview_prices_a_sample_purchase_under_the_program_being_edited(
    app: App, local: RunningStack, shop: Shop
) -> None:
    key = shop_key(shop)
    app.connect(key)
    page = app.page
    page.get_by_role("link", name="Программа").click()
    preview = page.get_by_role("region", name="Сколько начислится")
    preview.get_by_label("Сумма покупки").fill("2 500")
    saved = api(local, "POST", "/v1/program/earn-preview", key, {"amount_kopecks": 250_000})
    expect(page.get_by_test_id("earn-preview-points")).to_have_text(str(saved["points"]))

    # Not saved yet: the preview follows the editor, the API's program stays as it was.
    page.get_by_label("Баллов", exact=True).fill("5")
    draft = api(local, "GET", "/v1/program", key)["program"]
    draft["earn_rate"]["points"] = 5
    edited = api(local, "POST", "/v1/program/earn-preview", key, {"amount_kopecks": 250_000, "program": draft})
    assert edited["points"] == 5 * saved["points"]
    expect(page.get_by_test_id("earn-preview-points")).to_have_text(str(edited["points"]))
    expect(preview).to_contain_text("Базовое начисление")
    assert api(local, "GET", "/v1/program", key)["version"] == 1
    assert app.serious_accessibility_violations() == []
    app.screenshot("program-earn-preview")
