"""``/buckets/default``: every user's personal bucket, under one name for all.

Enabled by ``kinto.includes = kinto.plugins.default_bucket``, as in Kinto; kinto.js and
kinto-http use it when given no bucket. Every method on ``/buckets/default`` and on
everything below it is served by the caller's own bucket, whose id is derived from the
user id (``request.default_bucket_id``, also shown as ``user.bucket`` at the root). The
bucket, and the collection a path names, are created on first use, by any method and in
batch requests too, owned by the caller (``write``) whatever ``bucket_create_principals``
says, and announced with ``ResourceChanged`` (action ``create``) like any creation.

Anonymous callers get a 401 (errno 104), and a read-only server a 405, as from Kinto.

Settings: ``default_bucket_hmac_secret``, the HMAC key of bucket ids. Kinto 26.5 uses an
empty key when it is not set (its ``userid_hmac_secret`` fallback never applies), and so
does this plugin, so that the users of a Kinto database find their buckets again;
``kinto init`` writes a random one.
"""

from __future__ import annotations

import uuid
from typing import Any

from kinto.core import get_user_info as core_user_info
from kinto.core.authentication import hmac_digest
from kinto.core.initialization import load_default_settings
from pyramid.security import NO_PERMISSION_REQUIRED

from kinto.plugins.default_bucket.views import BUCKET_ROUTE, SUBPATH_ROUTE, default_bucket

__all__ = ["DEFAULT_SETTINGS", "default_bucket_id", "get_user_info", "includeme"]

DOCS = "https://kinto.readthedocs.io/en/latest/api/1.x/buckets.html#personal-bucket-default"

DEFAULT_SETTINGS: dict[str, Any] = {
    "default_bucket_hmac_secret": "",
}

#: What each setting of ``DEFAULT_SETTINGS`` does (the documentation's settings table).
SETTING_DESCRIPTIONS: dict[str, str] = {
    "default_bucket_hmac_secret": "the key personal bucket ids (`/buckets/default`) are derived with; empty as in Kinto, random in `kinto init`",
}


def default_bucket_id(request: Any) -> str:
    """The id of the caller's personal bucket: a UUID made of the HMAC of their prefixed user id."""
    secret = str(request.registry.settings.get("default_bucket_hmac_secret") or "")
    digest = hmac_digest(secret, request.prefixed_userid)
    return str(uuid.UUID(digest[:32]))


def get_user_info(request: Any) -> dict[str, Any]:
    """The root's ``user``, with ``bucket``: the id of the caller's personal bucket."""
    return {**core_user_info(request), "bucket": request.default_bucket_id}


def includeme(config: Any) -> None:
    load_default_settings(config, DEFAULT_SETTINGS)
    config.add_api_capability(
        "default_bucket",
        description="The default bucket is an alias for a personal bucket where collections are created implicitly.",
        url=DOCS,
    )
    config.add_request_method(default_bucket_id, "default_bucket_id", reify=True)
    config.add_request_method(get_user_info, "get_user_info")
    # Added before the server's bucket routes (kinto.includes come first): these win.
    config.add_route(SUBPATH_ROUTE, "/buckets/default/{subpath:.*}")
    config.add_route(BUCKET_ROUTE, "/buckets/default")
    for route in (BUCKET_ROUTE, SUBPATH_ROUTE):
        config.add_view(default_bucket, route_name=route, permission=NO_PERMISSION_REQUIRED)
