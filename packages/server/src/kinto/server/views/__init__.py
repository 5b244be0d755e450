"""The Kinto API: buckets, collections, groups, records and the permissions endpoint."""

from __future__ import annotations

from typing import Any

from kinto.server.views.validation import schema_validation_enabled

DOCS = "https://kinto.readthedocs.io/en/latest/api/1.x/"


def includeme(config: Any) -> None:
    """Register the Kinto resources and their capabilities on ``config``."""
    settings = config.get_settings()
    ignored = []
    if schema_validation_enabled(settings):
        config.add_api_capability(
            "schema",
            description="Records are validated against the JSON Schema of their collection.",
            url=DOCS + "collections.html#collection-json-schema",
        )
    if settings["experimental_permissions_endpoint"] and config.registry.permission is not None:
        config.add_api_capability(
            "permissions_endpoint",
            description="GET /permissions lists the objects the caller holds permissions on.",
            url=DOCS + "permissions.html#list-every-permissions",
        )
    else:
        ignored.append("kinto.server.views.permissions")
    config.scan("kinto.server.views", ignore=ignored)
    config.include("kinto.server.indexes")
