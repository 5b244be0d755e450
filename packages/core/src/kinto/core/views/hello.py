"""``GET /v1/``: what this server is and what it can do.

The ``user`` field of an identified caller is ``get_user_info(request)``: its id and
principals. A plugin adds to it as Kinto's do, by replacing the request method
(``config.add_request_method(my_user_info, "get_user_info")``, calling this
``get_user_info`` for the common part), as ``kinto.plugins.default_bucket`` adds ``bucket``.
A plugin whose users have a profile (``kinto.plugins.openid``) adds the request method
``get_user_profile``, shown under ``profile``, as in Kinto.
"""

from __future__ import annotations

from typing import Any

from pyramid.security import NO_PERMISSION_REQUIRED

from kinto.core.registry import api_capabilities
from kinto.core.service import Service
from kinto.core.settings import PUBLIC_SETTINGS

__all__ = ["get_user_info", "hello"]

hello = Service(name="hello", path="/", description="Welcome")


def get_user_info(request: Any) -> dict[str, Any]:
    """What the root says of the identified caller: ``{"id": ..., "principals": [...]}`` (and ``profile``)."""
    info: dict[str, Any] = {"id": request.prefixed_userid, "principals": request.prefixed_principals}
    profile = getattr(request, "get_user_profile", None)
    if profile is not None:
        info["profile"] = profile()
    return info


@hello.get(permission=NO_PERMISSION_REQUIRED)
def get_hello(request: Any) -> dict[str, Any]:
    settings = request.registry.settings
    data: dict[str, Any] = {
        "project_name": settings["project_name"],
        "project_version": settings["project_version"],
        "http_api_version": settings["http_api_version"],
        "project_docs": settings["project_docs"],
        "url": request.route_url(hello.name),
        "settings": {name: settings[name] for name in PUBLIC_SETTINGS if name in settings},
        "capabilities": api_capabilities(request.registry),
    }
    if settings["eos"]:
        data["eos"] = settings["eos"]
    userid = request.prefixed_userid
    if userid:
        user_info = getattr(request, "get_user_info", None)
        data["user"] = user_info() if user_info is not None else get_user_info(request)
    _cache_headers(request, settings, identified=bool(userid))
    return data


def _cache_headers(request: Any, settings: dict[str, Any], identified: bool) -> None:
    """Only a read-only server's anonymous root may be cached (for ``root_cache_expires_seconds``).

    Elsewhere the root says whether the server is read-only, and a cached copy
    would keep saying it for a day after the switch; an identified user's root
    lists their principals, which no shared cache may keep (Kinto 26.5.0
    caches it too in read-only mode: not here).
    """
    if identified:
        request.response.headers["Cache-Control"] = "no-cache, no-store"
        return
    seconds = settings["root_cache_expires_seconds"]
    if settings["readonly"] and seconds >= 0:
        request.response.cache_expires(seconds)
