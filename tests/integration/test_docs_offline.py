"""The sandbox's API docs render with no network: Swagger UI and ReDoc come from the package."""

from __future__ import annotations

import re

import pytest

PAGES = {
    "/docs": ["/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"],
    "/redoc": ["/docs-assets/redoc.standalone.js"],
}


@pytest.mark.parametrize("page", PAGES)
def test_the_docs_pages_load_nothing_from_elsewhere(http, page):
    html = http.get(page)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    external = re.findall(r"""(?:src|href)=["']?(https?://[^"' >]+)""", html.text)
    assert external == [], f"{page} loads {external}"
    assert "fonts.googleapis.com" not in html.text
    for asset in PAGES[page]:
        assert asset in html.text
        served = http.get(asset)
        assert served.status_code == 200 and len(served.content) > 100_000, asset


def test_the_api_docs_name_venues_as_users_know_them(http):
    spec = http.get("/openapi.json").text
    assert re.findall(r"seed 00\d|RSA-keyed", spec, flags=re.I) == []
    assert "Kalshi" in spec and "Lighter" in spec
