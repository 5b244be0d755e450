"""``GET /v1/``: what this server is and what it can do."""

from __future__ import annotations

from typing import Any

from pyramid.security import NO_PERMISSION_REQUIRED

from kinto.core.initialization import api_capabilities
from kinto.core.service import Service
from kinto.core.settings import PUBLIC_SETTINGS

hello = Service(name="hello", path="/", description="Welcome")


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
    if settings.get("eos"):
        data["eos"] = settings["eos"]
    userid = request.prefixed_userid
    if userid:
        data["user"] = {"id": userid, "principals": request.prefixed_principals}
    else:
        seconds = int(settings["root_cache_expires_seconds"])
        if seconds >= 0:
            request.response.cache_expires(seconds)
    return data
