"""``POST /__flush__``: empty every backend (storage, permissions, cache) at once.

Enabled by ``kinto.includes = kinto.plugins.flush`` (Kinto 26.5's way), or by
``kinto.flush_endpoint_enabled = true`` (earlier Kinto versions' setting,
still honoured by the server). Meant for test servers: anybody may call it.
After the backends are emptied, ``kinto.core.events.ServerFlushed`` is
announced, so that plugins holding data elsewhere (an index, a history) can
empty it too. The answer is ``202`` with an empty object, as Kinto's.
"""

from __future__ import annotations

from typing import Any

from kinto.core.events import ServerFlushed
from kinto.core.service import Service
from pyramid.security import NO_PERMISSION_REQUIRED

__all__ = ["flush", "includeme"]

flush = Service(name="flush", path="/__flush__", description="Empty every backend of the server")


@flush.post(permission=NO_PERMISSION_REQUIRED)
def flush_backends(request: Any) -> dict[str, Any]:
    registry = request.registry
    for kind in ("storage", "permission", "cache"):
        backend = getattr(registry, kind, None)
        if backend is not None:
            backend.flush()
    registry.notify(ServerFlushed(request))
    request.response.status = 202
    return {}


def includeme(config: Any) -> None:
    config.add_api_capability(
        "flush_endpoint",
        description="POST /__flush__ empties every backend of the server.",
        url="https://kinto.readthedocs.io/en/latest/api/1.x/flush.html",
    )
    config.add_cornice_service(flush)
