"""kinto.server: the Kinto HTTP API v1 on kinto.core, and the ``kinto`` command.

``main(global_config, **settings)`` is the WSGI application factory (also the
PasteDeploy ``egg:kinto-server#main``): it sets kinto.core up with this
server's defaults, then adds buckets, collections, groups, records and the
permissions endpoint.
"""

from __future__ import annotations

import warnings
from importlib import metadata
from typing import Any

# Pyramid's modules import pkg_resources, which setuptools 81+ flags on every start: not something a user
# of `kinto` can act on (it turned the one-line start-up errors of `kinto start` into three lines).
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning, module=r"pyramid\.")

from pyramid.config import Configurator
from pyramid.settings import asbool

__all__ = ["DEFAULT_SETTINGS", "HTTP_API_VERSION", "__version__", "main"]

try:
    __version__ = metadata.version("kinto-server")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0.0.0"

#: The version of Kinto's HTTP API this server implements (clients read it at ``GET /v1/``).
HTTP_API_VERSION = "1.23"

#: This server's defaults, on top of kinto.core's (same names as Kinto's settings).
DEFAULT_SETTINGS: dict[str, Any] = {
    "project_name": "kinto",
    "project_docs": "https://kinto.readthedocs.io/",
    "http_api_version": HTTP_API_VERSION,
    "retry_after_seconds": 3,
    "bucket_create_principals": "system.Authenticated",
    "indexed_fields_principals": "system.Authenticated",
    "indexed_fields_max": 100,
    # Off by default as in Kinto, so that an ini carried over keeps accepting the records it
    # accepted (collections often hold a schema for admin forms only); `kinto init` turns it on.
    "experimental_collection_schema_validation": False,
    # Off as in Kinto: an ini carried over serves what it served. `kinto init` (and `kinto start`
    # without an ini) turn it on, for the Python client's get_permissions().
    "experimental_permissions_endpoint": False,
    "bucket_id_generator": "kinto.server.ids.NameGenerator",
    "collection_id_generator": "kinto.server.ids.NameGenerator",
    "group_id_generator": "kinto.server.ids.NameGenerator",
    "record_id_generator": "kinto.server.ids.RelaxedUUID",
    # Applied by serving processes: `kinto start` (kinto.server.wsgi.load_app) and applications a
    # paste loader builds from an ini (uWSGI, `gunicorn --paste`, pserve); not by `main(settings)`.
    "gc_freeze": True,
}

#: What each setting of ``DEFAULT_SETTINGS`` does (the documentation's settings table).
SETTING_DESCRIPTIONS: dict[str, str] = {
    "project_name": "the name in `GET /v1/`",
    "project_docs": "the documentation URL in `GET /v1/` and in error answers",
    "http_api_version": "the Kinto HTTP API version this server implements",
    "retry_after_seconds": "the `Retry-After` of 503 answers",
    "bucket_create_principals": "principals who may create buckets",
    "indexed_fields_principals": "principals who may add fields to a collection's `indexed_fields` "
    "(removing or re-declaring them needs only `write`)",
    "indexed_fields_max": "declared indexes the whole store may hold, every collection's `indexed_fields` "
    "(each costs every write of its collection); 0 refuses new declarations",
    "experimental_collection_schema_validation": "validate records against their collection's `schema` (`kinto init` turns it on)",
    "experimental_permissions_endpoint": "serve `GET /v1/permissions` (`kinto init` turns it on)",
    "bucket_id_generator": "ids drawn for buckets created by `POST`",
    "collection_id_generator": "ids drawn for collections created by `POST`",
    "group_id_generator": "ids drawn for groups created by `POST`",
    "record_id_generator": "ids drawn for records created by `POST` (UUID4; client ids may be any name)",
    "gc_freeze": "served by `kinto start` or from an ini by a paste loader (uWSGI, `gunicorn --paste`): the start-up heap, then each 20,000 survivors of a full garbage "
    "collection, are frozen out of later ones, so that full-collection pauses do not grow with what the "
    "memory backends hold (`false`: CPython's defaults)",
}


def main(global_config: dict[str, Any] | None = None, **settings: Any) -> Any:
    """Build the Kinto WSGI application from ``settings`` (an ini's ``[app:main]``).

    A paste loader (uWSGI's ``paste =``, ``gunicorn --paste``, pserve) passes the ini's path in
    ``global_config["__file__"]``: such an application is served, and gets the serving process's
    garbage collector policy (``kinto.server.garbage_collection``), as under ``kinto start``.
    """
    config = Configurator(settings=settings)
    include_server(config)
    app = config.make_wsgi_app()
    if global_config and "__file__" in global_config:
        from kinto.server import garbage_collection

        garbage_collection.apply(app.registry.settings)
    return app


def include_server(config: Any) -> None:
    """Set kinto.core and the Kinto API up on ``config`` (what ``main`` does before building the app)."""
    import kinto.core

    kinto.core.initialize(config, __version__, project_name="kinto", default_settings=DEFAULT_SETTINGS)
    config.include("kinto.server.views")
    if asbool(config.registry.settings.get("flush_endpoint_enabled")):
        # The setting of Kinto versions before kinto.plugins.flush was its own plugin.
        config.include("kinto.plugins.flush")
    config.commit()
