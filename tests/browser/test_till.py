"""The till, as a cashier uses it: find the shopper (scanner, phone, app QR code), ring up the
check, spend points, coupons, gift cards, refunds; what the screen says equals what the API says."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import App, api, app_qr_payload, number, shop_key
from tests.support.local_stack import RunningStack, Shop

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def member_with_points(local: RunningStack, shop: Shop, phone: str, spent_kopecks: int) -> dict[str, Any]:
    key = shop_key(shop)
    member = api(local, "POST", "/v1/members", key, {"phone": phone, "name": "Анна"})
    api(
        local,
        "POST",
        "/v1/purchases",
        key,
        {"transaction_id": f"seed-{phone[-4:]}", "member_id": member["member_id"], "amount_kopecks": spent_kopecks},
    )
    return dict(api(local, "GET", f"/v1/members/{member['member_id']}", key))


def test_a_cashier_finds_a_member_by_card_records_a_purchase_and_spends_points(
    app: App, local: RunningStack, shop: Shop
) -> None:
    key = shop_key(shop)
    member = member_with_points(local, shop, "+79161110001", 500_000)  # 5000 ₽: 50 points
    assert member["balance"] == 50
    app.connect(key, till_only=True)
    page = app.page
    # A keyboard-wedge scanner types the card's digits and presses Enter into the focused field.
    lookup = page.get_by_test_id("member-lookup")
    expect(lookup).to_be_focused()
    page.keyboard.type(member["card_number"] + "\n")
    expect(page.get_by_test_id("member-name")).to_have_text("Анна")
    expect(page.get_by_test_id("member-balance")).to_have_text(number(50))

    page.get_by_test_id("check-amount").fill("1000")
    # The quote: 30 % of 1000 ₽ is 300 ₽, but the balance covers only 50 points (1 point = 1 ₽).
    expect(page.get_by_test_id("quote")).to_contain_text("Можно списать до 50 баллов")
    page.get_by_role("button", name="Максимум").click()
    expect(page.get_by_test_id("points-to-spend")).to_have_value("50")
    expect(page.get_by_test_id("to-pay")).to_contain_text("950")
    app.screenshot("till-check")
    page.get_by_test_id("check-submit").click()

    result = page.get_by_test_id("check-result")
    expect(result).to_contain_text("Списано 50 баллов")
    expect(result).to_contain_text("Начислено баллов: 9")  # 950 ₽ paid: 9 points at 1 per 100 ₽
    app.screenshot("till-done")
    after = api(local, "GET", f"/v1/members/{member['member_id']}", key)
    assert after["balance"] == 9
    expect(page.get_by_test_id("member-balance")).to_have_text(number(after["balance"]))
    expect(page.get_by_test_id("member-spendable")).to_have_text(number(after["spendable"]))
    history = api(local, "GET", f"/v1/members/{member['member_id']}/transactions", key)["entries"]
    assert sorted(entry["points"] for entry in history if entry["points"]) == [-50, 9, 50]


def test_points_held_at_the_till_are_confirmed_once_paid_or_given_back(
    app: App, local: RunningStack, shop: Shop
) -> None:
    key = shop_key(shop)
    member = member_with_points(local, shop, "+79161110002", 1_000_000)  # 100 points
    app.connect(key, till_only=True)
    page = app.page
    # The phone number finds the member too, typed as people say it.
    page.get_by_test_id("member-lookup").fill("8 916 111-00-02")
    page.get_by_role("button", name="Найти").click()
    expect(page.get_by_test_id("member-balance")).to_have_text(number(100))

    page.get_by_test_id("check-amount").fill("500")
    expect(page.get_by_test_id("quote")).to_contain_text("до 100 баллов")
    page.get_by_test_id("points-to-spend").fill("40")
    page.get_by_text("Резерв до оплаты").click()
    page.get_by_test_id("check-submit").click()
    expect(page.get_by_test_id("hold")).to_contain_text("40 баллов")
    held = api(local, "GET", f"/v1/members/{member['member_id']}", key)
    assert held["spendable"] == 60
    expect(page.get_by_test_id("member-spendable")).to_have_text(number(60))
    page.get_by_role("button", name="Отменить резерв").click()
    expect(page.get_by_test_id("member-spendable")).to_have_text(number(100))

    # The same check again, this time paid: the hold is confirmed and the purchase recorded.
    expect(page.get_by_test_id("check-submit")).to_be_enabled()
    page.get_by_test_id("check-submit").click()
    page.get_by_role("button", name="Оплата прошла").click()
    expect(page.get_by_test_id("check-result")).to_contain_text("Списано 40 баллов")
    after = api(local, "GET", f"/v1/members/{member['member_id']}", key)
    assert after["balance"] == 100 - 40 + 4  # 460 ₽ paid earns 4
    expect(page.get_by_test_id("member-balance")).to_have_text(number(after["balance"]))


def test_the_member_apps_qr_code_finds_the_member(app: App, local: RunningStack, shop: Shop) -> None:
    key = shop_key(shop)
    phone = "+79161110003"
    member = member_with_points(local, shop, phone, 100_000)
    payload = app_qr_payload(local, shop, phone)  # what the member app shows
    app.connect(key, till_only=True)
    # A 2D scanner reads the QR code as a keyboard wedge: the signed payload, then Enter.
    app.page.get_by_test_id("member-lookup").fill(payload)
    app.page.keyboard.press("Enter")
    expect(app.page.get_by_test_id("member-balance")).to_have_text(number(member["balance"]))


def test_a_coupon_is_used_once_at_the_till(app: App, local: RunningStack, shop: Shop) -> None:
    key = shop_key(shop)
    member = member_with_points(local, shop, "+79161110004", 300_000)
    api(local, "POST", "/v1/rewards", key, {"reward_id": "latte", "name": "Латте", "cost_points": 20})
    coupon = api(
        local, "POST", "/v1/coupons", key, {"claim_id": "c-1", "member_id": member["member_id"], "reward_id": "latte"}
    )
    app.connect(key, till_only=True)
    page = app.page
    page.get_by_role("tab", name="Купон").click()
    page.get_by_label("Код купона").fill(coupon["code"].lower())  # typed in lower case: still found
    page.get_by_role("button", name="Проверить").click()
    expect(page.get_by_test_id("coupon")).to_contain_text("Латте")
    expect(page.get_by_test_id("coupon")).to_contain_text("Действует")
    page.get_by_role("button", name="Погасить купон").click()
    expect(page.get_by_test_id("coupon")).to_contain_text("Использован")
    assert api(local, "GET", f"/v1/coupons/{coupon['code']}", key)["status"] == "used"
    app.screenshot("till-coupon")


def test_a_refund_takes_the_purchases_points_back(app: App, local: RunningStack, shop: Shop) -> None:
    key = shop_key(shop)
    member = member_with_points(local, shop, "+79161110005", 200_000)  # seed-0005: 20 points
    app.connect(key, till_only=True)
    page = app.page
    page.get_by_role("tab", name="Возврат").click()
    page.get_by_label("Номер покупки").fill("seed-0005")
    page.get_by_label("Сумма возврата").fill("1000")
    page.get_by_role("button", name="Оформить возврат").click()
    expect(page.get_by_role("status")).to_contain_text("Снято баллов: 10")
    assert api(local, "GET", f"/v1/members/{member['member_id']}", key)["balance"] == 10
    app.screenshot("till-refund")
