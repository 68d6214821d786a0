"""The local stack's serving of the web app: files, the SPA fallback, config.json, and what it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.local.web import IMMUTABLE, REVALIDATE, WebApp


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>app</title>", encoding="utf-8")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)", encoding="utf-8")
    (tmp_path / "favicon.svg").write_text("<svg/>", encoding="utf-8")
    (tmp_path.parent / "secret.txt").write_text("not for the browser", encoding="utf-8")
    return tmp_path


def test_only_paths_under_app_are_handled() -> None:
    assert WebApp.handles("/app")
    assert WebApp.handles("/app/")
    assert WebApp.handles("/app/members/mbr_1?tab=history")
    assert not WebApp.handles("/apple")
    assert not WebApp.handles("/v1/members")


def test_hashed_assets_are_cached_for_good_and_other_files_revalidated(dist: Path) -> None:
    web = WebApp("http://127.0.0.1:8000", dist)
    asset = web.reply("GET", "/app/assets/index-abc123.js")
    assert asset.status == 200
    assert asset.body == b"console.log(1)"
    assert asset.headers["Cache-Control"] == IMMUTABLE
    assert asset.headers["Content-Type"].startswith(("text/javascript", "application/javascript"))
    icon = web.reply("GET", "/app/favicon.svg")
    assert icon.headers["Cache-Control"] == REVALIDATE
    assert icon.headers["Content-Type"] == "image/svg+xml; charset=utf-8"


def test_app_routes_get_index_html_but_missing_files_a_404(dist: Path) -> None:
    web = WebApp("http://127.0.0.1:8000", dist)
    for path in ("/app/", "/app/till", "/app/members/mbr_1", "/app/members/mbr_1?tab=history"):
        reply = web.reply("GET", path)
        assert reply.status == 200, path
        assert reply.body.startswith(b"<!doctype html>"), path
        assert reply.headers["Cache-Control"] == REVALIDATE
    assert web.reply("GET", "/app/assets/index-old999.js").status == 404
    assert web.reply("GET", "/app").status == 301
    assert web.reply("GET", "/app").headers["Location"] == "/app/"


def test_nothing_outside_the_built_folder_is_served(dist: Path) -> None:
    web = WebApp("http://127.0.0.1:8000", dist)
    for path in ("/app/../secret.txt", "/app/%2e%2e/secret.txt", "/app/assets/%2e%2e/%2e%2e/secret.txt"):
        reply = web.reply("GET", path)
        assert b"not for the browser" not in reply.body, path


def test_config_points_the_app_at_the_origin_it_was_opened_from(dist: Path) -> None:
    web = WebApp("http://127.0.0.1:8123", dist)
    config = json.loads(web.reply("GET", "/app/config.json", host="localhost:8123").body)
    assert config == {"apiBaseUrl": "http://localhost:8123", "environment": "local", "staffPool": None}
    assert json.loads(web.reply("GET", "/app/config.json").body)["apiBaseUrl"] == "http://127.0.0.1:8123"
    assert web.reply("GET", "/app/config.json").headers["Cache-Control"] == "no-store"


def test_an_unbuilt_app_says_how_to_build_it_and_writes_are_refused(tmp_path: Path) -> None:
    web = WebApp("http://127.0.0.1:8000", tmp_path / "missing")
    reply = web.reply("GET", "/app/till")
    assert reply.status == 503
    assert b"make web" in reply.body
    assert web.reply("POST", "/app/").status == 405
    assert web.reply("HEAD", "/app/config.json").status == 200
