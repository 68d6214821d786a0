"""The till's camera reads the member app's QR code: Chromium's fake camera plays a video of the
code (made here with segno), ZXing decodes it in the page, and the member comes up."""

from __future__ import annotations

import random
import shutil
import string
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import segno
from playwright.sync_api import Browser, Playwright, expect

from tests.browser.conftest import CHROMIUM_ARGS, DESKTOP, App, api, app_qr_payload, number, shop_key
from tests.support.local_stack import RunningStack, Shop

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SIDE = 480  # pixels of the fake camera's square picture


def qr_video(text: str, path: Path) -> Path:
    """A still video (YUV4MPEG2, 4:2:0) of the QR code, black on white with its quiet zone."""
    rows = [list(row) for row in segno.make(text, error="m").matrix_iter(scale=1, border=4)]
    scale = (SIDE - 20) // len(rows)
    offset = (SIDE - scale * len(rows)) // 2
    luma = bytearray([235]) * (SIDE * SIDE)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (offset + y * scale + dy) * SIDE + offset + x * scale
                    luma[start : start + scale] = bytes([16]) * scale
    chroma = bytes([128]) * (SIDE * SIDE // 4)
    frame = b"FRAME\n" + bytes(luma) + chroma + chroma
    path.write_bytes(f"YUV4MPEG2 W{SIDE} H{SIDE} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * 5)
    return path


@contextmanager
def camera_browser(playwright: Playwright, video: Path) -> Iterator[Browser]:
    """Chromium whose camera plays `video`: the file is opened each time a page asks for the
    camera, not at launch, so a test can change what the camera sees between two scans."""
    video.write_bytes(b"")
    executable = shutil.which("chromium")
    assert executable is not None, "Debian's chromium is needed: apt-get install -y chromium"
    camera = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    browser = playwright.chromium.launch(executable_path=executable, args=[*CHROMIUM_ARGS, *camera])
    try:
        yield browser
    finally:
        browser.close()


def test_the_camera_reads_the_member_apps_qr_code(
    local: RunningStack, playwright: Playwright, shop: Shop, tmp_path: Path
) -> None:
    key = shop_key(shop)
    phone = "+79161110009"
    member = api(local, "POST", "/v1/members", key, {"phone": phone, "name": "Пётр"})
    video = tmp_path / "qr.y4m"
    with camera_browser(playwright, video) as browser:
        context = browser.new_context(viewport=DESKTOP, locale="ru-RU", permissions=["camera"])
        context.set_default_timeout(15_000)
        app = App(context.new_page(), local.api, [])
        app.connect(key, till_only=True)
        # The app's code is valid for a minute: made just before the camera opens, as a shopper
        # shows it at the till (a slow, loaded machine must not let it expire on the way).
        qr_video(app_qr_payload(local, shop, phone), video)
        app.page.get_by_role("button", name="Камера").click()
        # decoding frames in a loaded CI machine's headless Chromium can take well over expect's 5 s
        expect(app.page.get_by_test_id("member-name")).to_have_text("Пётр", timeout=45_000)
        expect(app.page.get_by_test_id("member-balance")).to_have_text(number(member["balance"]))
        expect(app.page.get_by_role("dialog")).to_have_count(0)  # the camera closed once it read the code


def app_like_codes(count: int) -> list[str]:
    """Texts shaped like the member app's code (a signed token of its length), fixed by a seed.
    ZXing's JavaScript port, the till's first decoder, missed about one in four of these for good."""
    rng = random.Random(15)
    alphabet = string.ascii_letters + string.digits + "-_"
    return [
        ".".join("".join(rng.choice(alphabet) for _ in range(n)) for n in (36, rng.randint(160, 176), 43))
        for _ in range(count)
    ]


def test_the_camera_reads_every_code_it_is_shown(
    local: RunningStack, playwright: Playwright, shop: Shop, tmp_path: Path
) -> None:
    video = tmp_path / "codes.y4m"
    with camera_browser(playwright, video) as browser:
        context = browser.new_context(viewport=DESKTOP, locale="ru-RU", permissions=["camera"])
        context.set_default_timeout(15_000)
        app = App(context.new_page(), local.api, [])
        app.connect(shop_key(shop), till_only=True)
        lookup = app.page.get_by_test_id("member-lookup")
        for code in app_like_codes(12):
            qr_video(code, video)
            app.page.get_by_role("button", name="Камера").click()
            # what the camera read goes into the look-up field (no member has these codes)
            expect(lookup).to_have_value(code, timeout=30_000)
            expect(app.page.get_by_role("dialog")).to_have_count(0)
