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
APP_FACTORY = "kinto.server.wsgi:load_worker_gateway"
#: Seconds a stopping server gives the requests in flight to finish (granian's and gunicorn's wait for
#: their workers, waitress's own) before they are abandoned.
WORKERS_KILL_TIMEOUT = 15
#: File descriptors a worker needs beside its connections (logs, database files, pools...).
SPARE_DESCRIPTORS = 256


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
    #: Requests waiting for a thread, per worker, before new ones get a fast 503.
    queue_size: int = 1024
    #: Open connections per worker (idle keep-alive ones included).
    max_connections: int = 4096
    #: Seconds an idle keep-alive connection, or a client sending its headers, is given.
    keep_alive_timeout: int = 10
    #: Seconds a client is given to send its body (and at most ``body_idle_timeout`` of silence).
    body_timeout: int = 60
    body_idle_timeout: int = 10
    #: The application's ``max_request_body_bytes`` (servers that buffer bodies refuse larger ones early).
    max_body_bytes: int = 0
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
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    max_connections = raise_descriptor_limit(options.workers, options.max_connections)
    _export_limits(options)
    levels = {logging.DEBUG: LogLevels.debug, logging.INFO: LogLevels.info, logging.WARNING: LogLevels.warning}
    server = Granian(
        APP_FACTORY,
        address=options.host,
        port=options.port,
        # RSGI: the gateway (kinto.server.gateway) reads bodies on the event loop, then runs the WSGI
        # application on its own threads; see that module for why granian's WSGI mode is not used.
        interface=Interfaces.RSGI,
        factory=True,
        websockets=False,
        workers=options.workers,
        # Connections, not requests: granian holds one permit per open connection.
        backpressure=max_connections,
        backlog=max(1024, options.max_connections // 4),
        # Applies while headers are awaited, including between requests of a keep-alive connection.
        http1_settings=HTTP1Settings(header_read_timeout=options.keep_alive_timeout * 1000, keep_alive=True),
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


def _export_limits(options: ServeOptions) -> None:
    """Hand the worker processes the limits they apply themselves (see ``kinto.server.wsgi``)."""
    import json
    import os

    from kinto.server.wsgi import GATEWAY_VARIABLE

    os.environ[GATEWAY_VARIABLE] = json.dumps(
        {
            "threads": options.threads,
            "queue_size": options.queue_size,
            "body_timeout": options.body_timeout,
            "body_idle_timeout": options.body_idle_timeout,
            "multiprocess": options.workers > 1,
        }
    )


def raise_descriptor_limit(workers: int, max_connections: int) -> int:
    """Raise this process's open-file limit for ``max_connections`` per worker; return what fits.

    The soft limit is often 1,024 while the hard one is much higher: each
    connection is a descriptor, so the soft limit is raised as far as needed
    (never above the hard limit); when even that is short, fewer connections
    are accepted per worker and a warning says so.
    """
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = workers * (max_connections + SPARE_DESCRIPTORS)
    ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < ceiling:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
            soft = ceiling
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return max_connections
    fitting = max(64, soft // workers - SPARE_DESCRIPTORS)
    logger.warning(
        "The open-file limit (%s) allows %s connections per worker, not %s: raise `ulimit -n`",
        soft,
        fitting,
        max_connections,
    )
    return fitting


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
            # gthread's process model, with requests read whole on the poller before a thread runs them.
            self.cfg.set("worker_class", "kinto.server.gunicorn_serving.KintoWorker")
            # Idle keep-alive connections and requests being read wait in the poller, not in a thread.
            self.cfg.set("worker_connections", options.max_connections)
            self.cfg.set("keepalive", options.keep_alive_timeout)
            self.cfg.set("graceful_timeout", WORKERS_KILL_TIMEOUT)
            self.cfg.set("loglevel", logging.getLevelName(options.log_level).lower())

        def load(self) -> Any:
            from kinto.server.wsgi import load_app

            return load_app()

    raise_descriptor_limit(options.workers, options.max_connections)
    _export_limits(options)
    KintoGunicorn().run()


def _serve_waitress(options: ServeOptions) -> None:
    try:
        import waitress  # noqa: F401
    except ImportError:
        raise RuntimeError("waitress is not installed: pip install 'kinto-server[waitress]'") from None
    from kinto.server.waitress_serving import SlowClientLimits, make_server, serve_until_stopped
    from kinto.server.wsgi import load_app

    raise_descriptor_limit(1, options.max_connections)
    # waitress reads whole requests (headers and body) on its event loop before a thread runs them.
    limits = SlowClientLimits(header_timeout=options.keep_alive_timeout, body_timeout=options.body_timeout)
    server = make_server(
        load_app(),
        limits,
        listen=_bind_address(options.host, options.port),
        threads=options.threads,
        connection_limit=options.max_connections,
        channel_timeout=options.keep_alive_timeout,
        # How often idle and slow connections are looked for (waitress's default is 30 s).
        cleanup_interval=1,
        max_request_body_size=options.max_body_bytes or 1073741824,
        # select() cannot watch descriptors above 1,024: poll() can.
        asyncore_use_poll=True,
        backlog=max(1024, options.max_connections // 4),
    )
    server.print_listen("Serving on http://{}:{}")
    try:
        serve_until_stopped(server, grace=WORKERS_KILL_TIMEOUT)
    except KeyboardInterrupt:
        pass
    finally:
        server.task_dispatcher.shutdown()
        server.close()


def _bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
