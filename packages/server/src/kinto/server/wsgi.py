"""Loading the application in a server's worker processes, from the environment.

``kinto start`` checks the configuration once, then hands the server (granian,
gunicorn) the factory ``kinto.server.wsgi:load_app``; each worker builds its
application from ``KINTO_INI`` (an ini path), or from the built-in SQLite
defaults in ``KINTO_DATA_FOLDER`` when ``KINTO_INI`` is empty. Other WSGI servers
can use it the same way, e.g. ``gunicorn 'kinto.server.wsgi:load_app()'``.
"""

from __future__ import annotations

import os
from typing import Any

from kinto.server import configuration

__all__ = [
    "DATA_FOLDER_VARIABLE",
    "GATEWAY_VARIABLE",
    "INI_VARIABLE",
    "load_app",
    "load_worker_app",
    "load_worker_gateway",
    "settings_from_environment",
]

INI_VARIABLE = "KINTO_INI"
DATA_FOLDER_VARIABLE = "KINTO_DATA_FOLDER"
#: The gateway's limits chosen by ``kinto start`` (JSON of ``GatewayLimits`` fields, see kinto.server.gateway).
GATEWAY_VARIABLE = "KINTO_GATEWAY_LIMITS"


def settings_from_environment() -> dict[str, Any]:
    """The settings ``KINTO_INI`` (or the built-in defaults in ``KINTO_DATA_FOLDER``) give."""
    ini_path = os.environ.get(INI_VARIABLE)
    if ini_path:
        return dict(configuration.read_ini(ini_path).settings)
    data_folder = os.environ.get(DATA_FOLDER_VARIABLE) or configuration.DATA_FOLDER
    return configuration.builtin_settings(data_folder)


def load_app() -> Any:
    """Build the WSGI application of this process, and set its garbage collector's policy.

    The policy (``kinto.server.garbage_collection``) is the serving process's: applications built
    by ``kinto.server.main`` from settings (tests) keep CPython's defaults; a paste loader's get it too.
    """
    from kinto.server import garbage_collection, main

    app = main({}, **settings_from_environment())
    garbage_collection.apply(app.registry.settings)
    return app


def load_worker_app() -> Any:
    """``load_app`` for a granian worker process: the worker leaves the terminal's process group.

    A Ctrl-C in a terminal interrupts the whole foreground process group;
    granian (2.8) then waits for workers that the same keystroke interrupted,
    until its kill timeout. Out of the group, only the main process is
    interrupted, and it stops its workers at once. Workers still exit when
    the main process dies.
    """
    os.setpgid(0, 0)
    return load_app()


def load_worker_gateway() -> Any:
    """The RSGI gateway of a granian worker process around this process's application.

    The body limit and ``Retry-After`` come from the application's settings
    (``max_request_body_bytes``, ``retry_after_seconds``); threads, queue and
    timeouts from ``KINTO_GATEWAY_LIMITS``.
    """
    import dataclasses
    import json

    from kinto.server.gateway import Gateway, GatewayLimits

    app = load_worker_app()
    settings = app.registry.settings
    chosen = json.loads(os.environ.get(GATEWAY_VARIABLE) or "{}")
    limits = dataclasses.replace(
        GatewayLimits(),
        max_body_bytes=int(settings.get("max_request_body_bytes") or 0),
        retry_after_seconds=int(settings.get("retry_after_seconds") or 1),
        **{name: value for name, value in chosen.items() if name in GatewayLimits.__dataclass_fields__},
    )
    return Gateway(app, limits, multiprocess=bool(chosen.get("multiprocess")))
