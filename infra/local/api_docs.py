"""The API document and its interactive docs page as the local stack serves them: GET /openapi.json
and GET /docs (one self-contained page: no CDN, so it works offline)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from infra.openapi import build_document, function_apps
from infra.template import load_template

DOCS_PAGE = Path(__file__).with_name("docs_page.html")


@functools.cache
def _generated() -> dict[str, Any]:
    # The stack has imported every function already, so this documents the code it runs.
    return build_document(function_apps(load_template()))


def served_document(api_url: str) -> dict[str, Any]:
    """The generated document, with this stack as its server (its port may not be the default)."""
    return {**_generated(), "servers": [{"url": api_url, "description": "this local stack"}]}


def docs_page() -> str:
    return DOCS_PAGE.read_text(encoding="utf-8")
