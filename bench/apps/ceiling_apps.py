"""Factories (granian; gunicorn calls them) for the ceiling lines: what the HTTP stack costs with no application work.

Each answers ``GET /`` (any path for the raw callable) with the same small JSON object.
Runs in the harness's venv, with the Pyramid and Cornice versions our core installs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pyramid.config import Configurator

BODY = b'{"ok":true}'


def make_raw() -> Callable[..., Iterable[bytes]]:
    """A bare WSGI callable: the WSGI server's own limit."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
        return [BODY]

    return application


def make_pyramid() -> Any:
    """An empty Pyramid view rendered as JSON: the framework's routing, request and renderer."""
    config = Configurator()
    config.add_route("root", "/")
    config.add_view(lambda request: {"ok": True}, route_name="root", renderer="json")
    return config.make_wsgi_app()


def make_cornice() -> Any:
    """An empty Cornice service: the floor under any Cornice resource view."""
    from cornice import Service

    service = Service(name="ceiling", path="/", description="Empty service")

    @service.get()
    def get_ok(request: Any) -> dict[str, bool]:
        return {"ok": True}

    config = Configurator()
    config.include("cornice")
    config.add_cornice_service(service)
    return config.make_wsgi_app()
