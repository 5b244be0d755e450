"""The web admin, served at ``/v1/admin/`` (Kinto's plugin name and address).

Enabled as Kinto's is enabled::

    kinto.includes = kinto.plugins.admin
    # Optional: serve another build of an admin instead of the bundled one.
    kinto.admin_assets_path = /path/to/a/build/folder

The bundled build comes from ``packages/admin`` of this repository (``npm run build``
there writes it into ``build/`` beside this module); it ships inside the server's
wheel, so serving it needs no Node. The admin talks to the API of the server that
serves it, from the same origin. ``/v1/admin`` redirects to ``/v1/admin/``. The
page itself is answered with a Content-Security-Policy that lets it load its own
scripts, styles and images and call the API (``'self'`` only: no inline script,
no ``eval``); the hashed assets under ``assets/`` are cached for a year.
"""

from __future__ import annotations

from typing import Any

from kinto.core.initialization import load_default_settings
from pyramid.security import NO_PERMISSION_REQUIRED

from kinto.plugins.admin.views import AdminAssets, admin_redirect, asset_view, home_view

__all__ = ["DEFAULT_SETTINGS", "includeme"]

DEFAULT_SETTINGS: dict[str, Any] = {
    # Kinto's setting: a folder holding another admin build (its index.html and assets); empty
    # for the bundled one.
    "admin_assets_path": "",
}

#: What each setting of ``DEFAULT_SETTINGS`` does (the documentation's settings table).
SETTING_DESCRIPTIONS: dict[str, str] = {
    "admin_assets_path": "a folder holding another build of the admin (its `index.html` and assets); empty: the bundled one",
}

DOCS = "https://kinto.readthedocs.io/en/latest/configuration/settings.html#plugins"


def includeme(config: Any) -> None:
    load_default_settings(config, DEFAULT_SETTINGS)
    assets = AdminAssets.from_settings(config.get_settings())
    config.add_api_capability("admin", description="Serves the admin console.", url=DOCS, version=assets.version)
    config.add_route("admin_redirect", "/admin")
    config.add_route("admin_home", "/admin/")
    config.add_route("admin_index", "/admin/index.html")
    # One plain file name: no sub-folder, no dot first (so no ``..``). Vite's build has no other files.
    config.add_route("admin_asset", r"/admin/assets/{filename:[A-Za-z0-9_-][A-Za-z0-9_.-]*}")
    home = home_view(assets)
    config.add_view(admin_redirect, route_name="admin_redirect", permission=NO_PERMISSION_REQUIRED)
    config.add_view(home, route_name="admin_home", permission=NO_PERMISSION_REQUIRED)
    config.add_view(home, route_name="admin_index", permission=NO_PERMISSION_REQUIRED)
    config.add_view(asset_view(assets), route_name="admin_asset", permission=NO_PERMISSION_REQUIRED)
