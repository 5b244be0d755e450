"""``kinto.core.Service``: a Cornice service with the core's defaults."""

from __future__ import annotations

from typing import Any

from cornice import Service as CorniceService

from kinto.core.errors import json_error_handler

__all__ = ["Service", "json_error_handler"]


class Service(CorniceService):
    """A Cornice service whose errors use the core's JSON format.

    CORS is handled by the core for every response, so Cornice's own CORS
    machinery is off by default.
    """

    default_error_handler = staticmethod(json_error_handler)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("error_handler", json_error_handler)
        kwargs.setdefault("cors_enabled", False)
        kwargs["depth"] = kwargs.get("depth", 1) + 1  # venusian must see the caller's module, not ours
        super().__init__(*args, **kwargs)
