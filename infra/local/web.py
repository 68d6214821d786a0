"""The merchant web app as the local stack serves it, on the API's port under /app/.

The built files of web/dist (``make web``), index.html for any other path under /app/ (the app
routes in the browser: /app/till, /app/members/mbr_..., ...), and config.json made from the
stack's own settings, as a deploy step writes it in AWS. Chalice's router cannot take greedy
paths, so the gateway hands /app requests here before routing (gateway.LoyaltyRequestHandler).
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
PREFIX = "/app"

# Vite puts content-hashed files under assets/: they never change, so browsers may keep them.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # The till reads QR codes with the camera; nothing else may use it.
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
}

NOT_BUILT = """<!doctype html><html lang="ru"><meta charset="utf-8"><title>Приложение не собрано</title>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>Веб-приложение ещё не собрано</h1>
<p>Нужны Node.js 20 и npm 11; затем <code>make web</code> (или перезапустите <code>make run</code>).</p>
<p lang="en">The web app has not been built. It needs Node.js 20 and npm 11: run <code>make web</code>
(or restart <code>make run</code>).</p></body></html>"""


@dataclass(frozen=True)
class StaticReply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


TEXTUAL = ("javascript", "json", "svg+xml")


def _content_type(path: Path) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    if guessed is None:
        return "application/octet-stream"
    textual = guessed.startswith("text/") or guessed.endswith(TEXTUAL)
    return f"{guessed}; charset=utf-8" if textual else guessed


class WebApp:
    """Answers GET and HEAD under /app/. ``api_url`` is the stack's own URL, used when a request
    names no Host (config.json points the app at the API it was served by)."""

    def __init__(self, api_url: str, root: Path = WEB_DIST) -> None:
        self.api_url = api_url
        self.root = root.resolve()

    @staticmethod
    def handles(raw_path: str) -> bool:
        path = urlsplit(raw_path).path
        return path == PREFIX or path.startswith(PREFIX + "/")

    def config(self, host: str | None) -> dict[str, object]:
        return {
            # The app's own origin: calls stay same-origin whether it was opened as 127.0.0.1 or localhost.
            "apiBaseUrl": f"http://{host}" if host else self.api_url,
            "environment": "local",
            "staffPool": None,  # staff accounts (Cognito on moto) will be announced here
        }

    def reply(self, method: str, raw_path: str, host: str | None = None) -> StaticReply:
        path = urlsplit(raw_path).path
        if method not in ("GET", "HEAD"):
            return self._text(405, "method not allowed", {"Allow": "GET, HEAD"})
        if path == PREFIX:
            return StaticReply(301, {"Location": PREFIX + "/", **SECURITY_HEADERS})
        relative = unquote(path[len(PREFIX) + 1 :])
        if relative == "config.json":
            body = json.dumps(self.config(host)).encode()
            return StaticReply(200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, body)
        return self._built_file(relative)

    def _built_file(self, relative: str) -> StaticReply:
        index = self.root / "index.html"
        if not index.is_file():
            headers = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
            return StaticReply(503, headers, NOT_BUILT.encode())
        target = (self.root / relative).resolve()
        if relative and target.is_relative_to(self.root) and target.is_file():
            cache = IMMUTABLE if target.parent.name == "assets" else REVALIDATE
            return self._file(target, cache)
        if "." in relative.rsplit("/", 1)[-1]:
            # A missing file (an old asset, a typo) is a 404, never the app's HTML under a .js name.
            return self._text(404, "not found")
        return self._file(index, REVALIDATE)

    @staticmethod
    def _file(path: Path, cache: str) -> StaticReply:
        headers = {"Content-Type": _content_type(path), "Cache-Control": cache, **SECURITY_HEADERS}
        return StaticReply(200, headers, path.read_bytes())

    @staticmethod
    def _text(status: int, message: str, extra: dict[str, str] | None = None) -> StaticReply:
        return StaticReply(status, {"Content-Type": "text/plain; charset=utf-8", **(extra or {})}, message.encode())
