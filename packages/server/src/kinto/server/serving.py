"""Running the application under a production WSGI server: granian (default), gunicorn or waitress.

Each worker process builds its own application through
``kinto.server.wsgi:load_app`` (the configuration travels in the environment,
see that module), so nothing opened while the command checked the
configuration is shared across a fork.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["SERVERS", "PortInUseError", "ServeOptions", "ensure_port_free", "serve"]

logger = logging.getLogger(__name__)

SERVERS = ("granian", "gunicorn", "waitress")
APP_FACTORY = "kinto.server.wsgi:load_worker_app"
#: Seconds granian waits for a worker to stop before killing it (a safety net for Ctrl-C).
WORKERS_KILL_TIMEOUT = 5


class PortInUseError(Exception):
    """The address the server should listen on is taken (or not ours to take)."""


@dataclass(frozen=True)
class ServeOptions:
    """How to serve: which server, where, with how many processes and threads each."""

    server: str = "granian"
    host: str = "127.0.0.1"
    port: int = 8888
    workers: int = 1
    threads: int = 4
    log_level: int = logging.INFO


def ensure_port_free(host: str, port: int) -> None:
    """Raise ``PortInUseError`` unless a server could listen on ``host:port`` right now.

    Binds with ``SO_REUSEADDR``, as the servers do, so connections of a
    previous run lingering in TIME_WAIT do not count as "in use".
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise PortInUseError(f"cannot listen on {host}:{port}: unknown host ({error.strerror})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUseError(
                    f"port {port} is already in use on {host}: stop the program listening there, "
                    f"or choose another port with --port"
                ) from None
            raise PortInUseError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def serve(options: ServeOptions) -> None:
    """Serve until interrupted (blocks)."""
    runners: dict[str, Callable[[ServeOptions], None]] = {
        "granian": _serve_granian,
        "gunicorn": _serve_gunicorn,
        "waitress": _serve_waitress,
    }
    runners[options.server](options)


def _serve_granian(options: ServeOptions) -> None:
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    levels = {logging.DEBUG: LogLevels.debug, logging.INFO: LogLevels.info, logging.WARNING: LogLevels.warning}
    server = Granian(
        APP_FACTORY,
        address=options.host,
        port=options.port,
        interface=Interfaces.WSGI,
        factory=True,
        websockets=False,
        workers=options.workers,
        blocking_threads=options.threads,
        backpressure=options.threads * 2,
        workers_kill_timeout=WORKERS_KILL_TIMEOUT,
        log_level=levels.get(options.log_level, LogLevels.error),
        # The core writes one summary line per request; granian's own lines go to stderr beside it.
        log_dictconfig={
            "handlers": {
                "console": {"formatter": "generic", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
                "access": {"formatter": "access", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
            }
        },
    )
    server.serve()


def _serve_gunicorn(options: ServeOptions) -> None:
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:
        raise RuntimeError("gunicorn is not installed: pip install 'kinto-server[gunicorn]'") from None

    class KintoGunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", [_bind_address(options.host, options.port)])
            self.cfg.set("workers", options.workers)
            self.cfg.set("threads", options.threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("loglevel", logging.getLevelName(options.log_level).lower())

        def load(self) -> Any:
            from kinto.server.wsgi import load_app

            return load_app()

    KintoGunicorn().run()


def _serve_waitress(options: ServeOptions) -> None:
    try:
        import waitress
    except ImportError:
        raise RuntimeError("waitress is not installed: pip install 'kinto-server[waitress]'") from None
    from kinto.server.wsgi import load_app

    waitress.serve(load_app(), listen=_bind_address(options.host, options.port), threads=options.threads)


def _bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
