"""waitress, as ``kinto start --server waitress`` runs it: slow clients cut, refusals in Kinto's format.

waitress reads whole requests (headers and body) on its event loop before a
thread runs them, so a slow client never holds a thread; but its only timeout
is one of inactivity, which a client sending a byte a second never reaches, and
the requests it refuses itself (a body over the limit, broken framing) are
answered in plain text. This module gives its channels two deadlines, counted
from the first byte of a request (``header_timeout`` until the headers are
complete, ``body_timeout`` for the whole request), and answers refusals with
Kinto's JSON error body.

It uses waitress's documented extension points for its channel and task
classes (``HTTPChannel.task_class``, ``HTTPChannel.error_task_class``,
``BaseWSGIServer.channel_class``) and its ``maintenance`` hook, which runs every
``cleanup_interval`` seconds.

waitress stops at once on a signal, dropping requests it is reading or
running. ``serve_until_stopped`` instead stops on SIGTERM by closing the
listening socket (new clients are refused), then lets the requests in flight
arrive, run and be answered (with ``Connection: close``) within a grace period.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kinto.core.errors import DEFAULT_ERRNOS, ERRORS, json_error_body
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import ErrorTask, WSGITask

__all__ = ["SlowClientLimits", "make_server", "serve_until_stopped"]

#: Seconds idle keep-alive connections stay open once stopping, for a request a client may be sending.
STOP_LINGER = 2.0


@dataclass(frozen=True)
class SlowClientLimits:
    """How long one request may take to arrive."""

    header_timeout: float
    body_timeout: float


class _KintoErrorTask(ErrorTask):  # type: ignore[misc]
    """waitress's own refusals (413, 400 on broken framing, 431...) as Kinto's JSON errors."""

    def execute(self) -> None:
        error = self.request.error
        status = int(error.code)
        errno = DEFAULT_ERRNOS.get(status, ERRORS.UNDEFINED)
        body = json.dumps(json_error_body(status, errno, error.reason, str(error.body))).encode()
        self.status = f"{status} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _KintoTask(WSGITask):  # type: ignore[misc]
    """An application's answer; while the server stops, it ends the connection."""

    def build_response_header(self) -> Any:
        if getattr(self.channel.server, "stopping", False):
            self.set_close_on_finish()
        return super().build_response_header()


def _channel_class(limits: SlowClientLimits) -> type[HTTPChannel]:
    class KintoChannel(HTTPChannel):  # type: ignore[misc]
        task_class = _KintoTask
        error_task_class = _KintoErrorTask
        request_started: float | None = None

        def received(self, data: bytes) -> bool:
            if self.request is None and data:
                self.request_started = time.monotonic()
            result = super().received(data)
            if self.request is None:
                self.request_started = None
            elif self.too_slow(time.monotonic()):
                self.will_close = True
            return bool(result)

        def too_slow(self, now: float) -> bool:
            """Whether the request being read has taken longer than its deadline."""
            if self.request is None or self.request_started is None:
                return False
            deadline = limits.body_timeout if self.request.headers_finished else limits.header_timeout
            return now - self.request_started > deadline

    return KintoChannel


def make_server(app: Callable[..., Any], limits: SlowClientLimits, **adjustments: Any) -> Any:
    """A waitress server for ``app`` (``adjustments`` as ``waitress.serve`` takes them), not yet running."""
    server = create_server(app, **adjustments)
    server.channel_class = _channel_class(limits)
    idle_maintenance = server.maintenance

    def maintenance(now: float) -> None:
        idle_maintenance(now)
        clock = time.monotonic()
        for channel in list(server.active_channels.values()):
            if getattr(channel, "too_slow", None) is not None and channel.too_slow(clock):
                channel.will_close = True

    server.maintenance = maintenance
    return server


def serve_until_stopped(server: Any, grace: float) -> None:
    """Run ``server`` until SIGTERM, then stop within ``grace`` seconds without dropping requests in flight.

    A request counts as in flight from its first byte until its answer is
    sent: it is read (within the slow-client deadlines), run and answered;
    idle keep-alive connections are closed after ``STOP_LINGER`` seconds.
    Whatever is still running after ``grace`` is abandoned.
    """
    stop_requested: list[int] = []

    def request_stop(signum: int, frame: Any) -> None:
        stop_requested.append(signum)
        server.pull_trigger()  # wakes the poll loop now rather than at its next timeout

    previous = signal.signal(signal.SIGTERM, request_stop)
    try:
        while not stop_requested:
            _poll_once(server, server.adj.asyncore_loop_timeout)
    finally:
        signal.signal(signal.SIGTERM, previous)
    _finish_in_flight(server, grace)


def _finish_in_flight(server: Any, grace: float) -> None:
    server.stopping = True
    # The listening socket only: ``server.close()`` would also close the trigger threads wake the loop with.
    wasyncore.dispatcher.close(server)
    started = time.monotonic()
    while server.active_channels and time.monotonic() - started < grace:
        idle_expired = time.monotonic() - started >= STOP_LINGER
        for channel in list(server.active_channels.values()):
            if idle_expired and not _in_flight(channel):
                channel.will_close = True
        # The server is out of the poll map: its maintenance (idle and slow clients) is run from here.
        server.maintenance(time.time())
        _poll_once(server, 0.2)


def _in_flight(channel: Any) -> bool:
    return bool(
        channel.request is not None or channel.requests or channel.total_outbufs_len or channel.close_when_flushed
    )


def _poll_once(server: Any, timeout: float) -> None:
    server.asyncore.loop(timeout=timeout, map=server._map, use_poll=server.adj.asyncore_use_poll, count=1)
