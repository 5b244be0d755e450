"""The admin's page, its assets, and the redirect to the page's address with its slash."""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Callable, Mapping
from typing import Any

from pyramid import httpexceptions
from pyramid.exceptions import ConfigurationError
from pyramid.response import FileResponse, Response

__all__ = ["CONTENT_SECURITY_POLICY", "AdminAssets", "admin_redirect", "asset_view", "home_view"]

BUNDLED = pathlib.Path(__file__).parent / "build"

#: The page loads its own scripts, styles and images and calls the API of this origin; nothing
#: inline, nothing evaluated, never framed. Images may also be ``data:`` URLs (icons in CSS).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

#: Vite names every file under ``assets/`` after a hash of its content: they never change.
ASSETS_MAX_AGE = 365 * 24 * 3600


@dataclasses.dataclass(frozen=True)
class AdminAssets:
    """The folder of an admin build: ``index.html``, ``assets/``, and ``VERSION`` (optional)."""

    folder: pathlib.Path
    index_html: bytes
    version: str

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> AdminAssets:
        """The build named by ``admin_assets_path`` (the bundled one when empty); ConfigurationError
        naming the setting when it has no ``index.html``."""
        configured = str(settings.get("admin_assets_path") or "")
        folder = pathlib.Path(configured) if configured else BUNDLED
        try:
            index_html = (folder / "index.html").read_bytes()
        except OSError as error:
            where = f"Setting 'kinto.admin_assets_path = {configured}'" if configured else "The bundled admin"
            raise ConfigurationError(f"{where}: cannot read {folder / 'index.html'} ({error.strerror})") from error
        version_file = folder / "VERSION"
        version = version_file.read_text(encoding="utf-8").strip() if version_file.is_file() else ""
        return cls(folder=folder, index_html=index_html, version=version)


def admin_redirect(request: Any) -> Any:
    """``/v1/admin`` → ``/v1/admin/``: the page's relative asset URLs need the slash."""
    location = request.route_url("admin_home")
    if request.query_string:
        location += "?" + request.query_string
    raise httpexceptions.HTTPTemporaryRedirect(location=location)


def home_view(assets: AdminAssets) -> Callable[[Any], Response]:
    """The page (``/admin/`` and ``/admin/index.html``), read once at start-up, with the policy that lets it run."""

    def view(request: Any) -> Response:
        response = Response(body=assets.index_html, content_type="text/html", charset="utf-8")
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["Referrer-Policy"] = "no-referrer"
        # A new build replaces the page: browsers check it each time (its assets are cached).
        response.headers["Cache-Control"] = "no-cache"
        return response

    return view


def asset_view(assets: AdminAssets) -> Callable[[Any], Response]:
    """A file of the build's ``assets/`` folder (the route's pattern allows one plain file name, no path)."""
    folder = assets.folder / "assets"

    def view(request: Any) -> Response:
        path = folder / request.matchdict["filename"]
        if not path.is_file():
            raise httpexceptions.HTTPNotFound()
        response = FileResponse(str(path), request=request)
        response.headers["Cache-Control"] = f"public, max-age={ASSETS_MAX_AGE}, immutable"
        return response

    return view
