"""Browser tests: Debian's chromium driven by Playwright against the local stack on free ports.

One stack and one browser serve every test here (they share an xdist group, so one worker runs
them); each test gets a fresh browser context, so nothing it signs in to or stores leaks into the
next. Screenshots go to test-artifacts/screenshots/ (git-ignored) for anyone to look at.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.support.local_stack import DEMO_KEY, RunningStack, Shop, running_stack, wait_for

ROOT = Path(__file__).resolve().parents[2]
WEB_DIST = ROOT / "web" / "dist"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# Root needs --no-sandbox; the rest keep Chromium from calling home, which this machine's closed
# network refuses (many connections at every start otherwise).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--metrics-recording-only",
]


@pytest.fixture(scope="session")
def local() -> Iterator[RunningStack]:
    if not (WEB_DIST / "index.html").is_file():
        pytest.fail("the web app is not built: run `make web` (make test does it first)")
    with running_stack() as stack:
        yield stack


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: apt-get install -y chromium (.ci/run does it)")
    launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@dataclass
class App:
    """A browser tab on the web app, with what a test needs around it."""

    page: Page
    base: str
    errors: list[str]

    def open(self, path: str = "") -> None:
        self.page.goto(f"{self.base}/app/{path}")

    def connect(self, key: str = DEMO_KEY, till_only: bool = False) -> None:
        """Sign in as a device with the shop's API key (the second tab of the sign-in screen)."""
        self.open("connect")
        self.page.get_by_role("tab", name="Ключ устройства").click()
        self.page.get_by_label("Ключ API магазина").fill(key)
        if till_only:
            self.page.get_by_label("Это устройство — касса").check()
        self.page.get_by_role("button", name="Войти").click()
        self.page.get_by_role("button", name="Выйти").wait_for()

    def screenshot(self, name: str) -> Path:
        """The page at phone and desktop widths; returns the desktop file."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        original = self.page.viewport_size or DESKTOP
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            self.page.set_viewport_size(size)
            self.page.wait_for_timeout(250)  # charts and the navbar re-lay out on resize
            self.page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
        self.page.set_viewport_size(original)
        return SCREENSHOTS / f"{name}-desktop.png"

    def serious_accessibility_violations(self) -> list[str]:
        """axe-core's WCAG 2.x A/AA checks of the page as it is; serious and critical ones only."""
        self.page.add_script_tag(path=str(AXE))
        result: dict[str, Any] = self.page.evaluate(
            "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})"
        )
        return [
            f"{v['id']} ({v['impact']}): {v['help']}: {node['html'][:120]} ({node['failureSummary'][-160:]})"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
            for node in v["nodes"][:5]
        ]


@pytest.fixture
def app(local: RunningStack, browser: Browser) -> Iterator[App]:
    context = browser.new_context(viewport=DESKTOP, locale="ru-RU", timezone_id="Europe/Moscow")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # Nothing outside this machine: SevenDar's preview pictures and the like fail at once.
    page.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    yield App(page, local.api, errors)
    context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"


def api(local: RunningStack, method: str, path: str, key: str, body: Any = None, **params: str) -> Any:
    reply = requests.request(
        method, f"{local.api}{path}", json=body, params=params or None, headers={"X-Api-Key": key}, timeout=30
    )
    assert reply.status_code < 300, reply.text
    return reply.json()


@pytest.fixture
def shop(local: RunningStack) -> Shop:
    """A fresh merchant for one test: nothing another test did shows on its screens."""
    return Shop(local, "Кофейня «Зерно»")


def shop_key(shop: Shop) -> str:
    return shop.key["X-Api-Key"]


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)


def roubles(kopecks: int) -> re.Pattern[str]:
    """How the app writes an amount in Russian (1 650,5 ₽), whatever spaces Intl puts in."""
    whole, fraction = divmod(abs(kopecks), 100)
    groups = f"{whole:,}".split(",")
    text = r"\s?".join(groups)
    if fraction:
        text += "," + f"{fraction:02d}".rstrip("0")
    return re.compile(rf"^{'-' if kopecks < 0 else ''}{text}\s₽$")


def number(value: int) -> re.Pattern[str]:
    return re.compile("^" + r"\s?".join(f"{value:,}".split(",")) + "$")


def app_qr_payload(local: RunningStack, shop: Shop, phone: str) -> str:
    """What the member app shows: sign in by the SMS code from the dev inbox, then GET /v1/me/card."""
    requests.post(f"{local.api}/v1/auth/code", json={"merchant_id": shop.merchant_id, "phone": phone}, timeout=10)

    def code_from_inbox() -> str | None:
        inbox = requests.get(f"{local.api}/_local/inbox", params={"channel": "sms", "to": phone}, timeout=10).json()
        texts = [m["text"] for m in inbox["messages"] if m["kind"] == "sign_in_code"]
        found = re.search(r"\b(\d{6})\b", texts[-1]) if texts else None
        return found.group(1) if found else None

    code = wait_for(code_from_inbox, timeout=30)
    tokens = requests.post(
        f"{local.api}/v1/auth/token",
        json={"merchant_id": shop.merchant_id, "phone": phone, "code": code},
        timeout=10,
    ).json()
    card = requests.get(
        f"{local.api}/v1/me/card", headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10
    ).json()
    return str(card["qr_payload"])
