"""The till's camera reads the member app's QR code: Chromium's fake camera plays a video of the
code (made here with segno), ZXing decodes it in the page, and the member comes up."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import segno
from playwright.sync_api import Playwright, expect

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


def test_the_camera_reads_the_member_apps_qr_code(
    local: RunningStack, playwright: Playwright, shop: Shop, tmp_path: Path
) -> None:
    key = shop_key(shop)
    phone = "+79161110009"
    member = api(local, "POST", "/v1/members", key, {"phone": phone, "name": "Пётр"})
    video = tmp_path / "qr.y4m"
    video.write_bytes(b"")  # Chromium opens the file when the page asks for the camera, not at launch
    executable = shutil.which("chromium")
    assert executable is not None, "Debian's chromium is needed: apt-get install -y chromium"
    camera = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    browser = playwright.chromium.launch(executable_path=executable, args=[*CHROMIUM_ARGS, *camera])
    try:
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
    finally:
        browser.close()
