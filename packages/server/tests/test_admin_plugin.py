"""kinto.plugins.admin: the admin's page and assets at ``/v1/admin/``, with their types and headers (no Node needed).

The browser tests of the admin itself are packages/admin/tests (``nox -s admin``).
"""

from __future__ import annotations

import pathlib
import re

import pytest
import webtest
from pyramid.exceptions import ConfigurationError

from .conftest import ALICE, build_app

BUNDLED = pathlib.Path(__file__).parents[1] / "src" / "kinto" / "plugins" / "admin" / "build"
MEMORY = {f"kinto.{kind}_backend": f"kinto.core.{kind}.memory" for kind in ("storage", "permission", "cache")}


@pytest.fixture
def app() -> webtest.TestApp:
    return build_app({**MEMORY, "kinto.includes": "kinto.plugins.admin"})


def asset_urls(page: str) -> list[str]:
    """The scripts and style sheets the page loads (relative to /v1/admin/)."""
    return re.findall(r'(?:src|href)="\./(assets/[^"]+)"', page)


def test_the_page_is_served_with_a_policy_that_allows_its_own_files_only(app: webtest.TestApp) -> None:
    response = app.get("/v1/admin/")

    assert response.content_type == "text/html"
    assert response.charset == "utf-8"
    assert response.body == (BUNDLED / "index.html").read_bytes()
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_has_no_inline_script_or_style(app: webtest.TestApp) -> None:
    page = app.get("/v1/admin/").text

    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert "<style" not in page
    assert " style=" not in page


def test_every_asset_the_page_loads_is_served_with_its_type_and_cached_for_good(app: webtest.TestApp) -> None:
    urls = asset_urls(app.get("/v1/admin/").text)
    assert any(url.endswith(".js") for url in urls) and any(url.endswith(".css") for url in urls)

    for url in urls:
        response = app.get(f"/v1/admin/{url}")
        expected = "text/javascript" if url.endswith(".js") else "text/css"
        assert response.content_type in (expected, "application/javascript"), url
        assert response.body == (BUNDLED / url).read_bytes()
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_needs_no_login_even_where_the_api_does(app: webtest.TestApp) -> None:
    app.get("/v1/buckets", status=401)  # the API asks anonymous callers to log in

    assert app.get("/v1/admin/").status_code == 200
    assert app.get("/v1/admin/", headers=ALICE).status_code == 200


def test_the_address_without_its_slash_and_index_html_lead_to_the_page(app: webtest.TestApp) -> None:
    redirect = app.get("/v1/admin", status=307)
    assert redirect.headers["Location"] == "http://localhost/v1/admin/"
    assert app.get("/v1/admin?x=1", status=307).headers["Location"] == "http://localhost/v1/admin/?x=1"

    assert app.get("/v1/admin/index.html").body == app.get("/v1/admin/").body


@pytest.mark.parametrize(
    "path",
    [
        "/v1/admin/assets/missing.js",
        "/v1/admin/assets/",
        "/v1/admin/missing",
        "/v1/admin/VERSION",
        "/v1/admin/assets/..%2f..%2f__init__.py",
        "/v1/admin/assets/.hidden",
        "/v1/admin/assets/a/b.js",
    ],
)
def test_anything_else_is_a_json_404(app: webtest.TestApp, path: str) -> None:
    response = app.get(path, status=404)

    assert response.json["code"] == 404
    assert response.json["errno"] == 111


def test_the_api_keeps_its_strict_policy(app: webtest.TestApp) -> None:
    response = app.get("/v1/")

    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_the_capability_names_the_admin_and_its_version(app: webtest.TestApp) -> None:
    capability = app.get("/v1/").json["capabilities"]["admin"]

    assert capability["version"] == (BUNDLED / "VERSION").read_text().strip()
    assert capability["description"] == "Serves the admin console."


def test_served_only_where_the_plugin_is_included(app: webtest.TestApp) -> None:
    without = build_app(MEMORY)

    without.get("/v1/admin/", status=404)
    assert "admin" not in without.get("/v1/").json["capabilities"]
    assert app.get("/v1/admin/").status_code == 200


def test_admin_assets_path_serves_another_build(tmp_path: pathlib.Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text('<!doctype html><script type="module" src="./assets/app-1.js"></script>')
    (tmp_path / "assets" / "app-1.js").write_text("console.log('other build')")
    (tmp_path / "VERSION").write_text("9.9.9\n")
    app = build_app({**MEMORY, "kinto.includes": "kinto.plugins.admin", "kinto.admin_assets_path": str(tmp_path)})

    assert "app-1.js" in app.get("/v1/admin/").text
    assert app.get("/v1/admin/assets/app-1.js").text == "console.log('other build')"
    assert app.get("/v1/").json["capabilities"]["admin"]["version"] == "9.9.9"


def test_admin_assets_path_without_a_page_is_refused_naming_the_setting(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ConfigurationError, match=r"kinto.admin_assets_path = .*index.html"):
        build_app({**MEMORY, "kinto.includes": "kinto.plugins.admin", "kinto.admin_assets_path": str(tmp_path)})
