"""Imports and exports in the browser: the file goes straight to S3 by its presigned URL (so the
files bucket's CORS rules are exercised), and the job's progress is followed to the end."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import App, api, shop_key
from tests.support.local_stack import RunningStack, Shop

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

MEMBERS_CSV = (
    "Телефон;Имя;Дата рождения\n"
    "+79167770001;Анна;17.05.1990\n"
    "не телефон;Борис;\n"
    "+79167770003;Вера;1991-02-30\n"
    "+79167770004;Глеб;\n"
).encode()


def test_an_import_shows_its_progress_to_the_end_and_its_row_errors_then_an_export_downloads(
    app: App, local: RunningStack, shop: Shop
) -> None:
    key = shop_key(shop)
    app.connect(key)
    page = app.page
    page.get_by_role("link", name="Импорт и экспорт").click()
    with page.expect_file_chooser() as chooser:
        page.get_by_label("Файл CSV").click()
    chooser.value.set_files(files=[{"name": "members.csv", "mimeType": "text/csv", "buffer": MEMBERS_CSV}])
    expect(page.get_by_label("Файл CSV")).to_contain_text("members.csv")
    page.get_by_role("button", name="Загрузить и начать").click()

    progress = page.get_by_test_id("import-progress")
    expect(progress).to_contain_text("Завершено", timeout=30_000)
    expect(progress).to_contain_text("Готово: 2 · ошибок: 2 · всего строк: 4")
    errors = page.get_by_test_id("import-errors")
    expect(errors.get_by_role("row")).to_have_count(3)  # the header and two refused lines
    expect(errors.get_by_role("row").nth(1)).to_contain_text("3")
    expect(errors.get_by_role("row").nth(2)).to_contain_text("4")
    found = api(local, "GET", "/v1/members", key, phone="+79167770004")["members"]
    assert [member["name"] for member in found] == ["Глеб"]
    problems = app.serious_accessibility_violations()
    app.screenshot("data-import")

    page.get_by_role("button", name="Подготовить файл").click()
    download = page.get_by_test_id("export-download")
    expect(download).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("export-progress")).to_contain_text("Завершено")
    href = download.get_attribute("href") or ""
    exported = requests.get(href, timeout=10)
    assert exported.status_code == 200
    assert len(re.findall(r"^.*7770\d\d.*$", exported.content.decode("utf-8-sig"), re.MULTILINE)) == 2
    assert problems == [], problems
