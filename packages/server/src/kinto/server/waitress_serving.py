"""waitress, as ``kinto start --server waitress`` runs it: slow clients cut, refusals in Kinto's format.

waitress reads whole requests (headers and body) on its event loop before a
thread runs them, so a slow client never holds a thread; but its only timeout
is one of inactivity, which a client sending a byte a second never reaches, and
the requests it refuses itself (a body over the limit, broken framing) are
answered in plain text. This module gives its channels two deadlines, counted
from the first byte of a request (``header_timeout`` until the headers are
complete, ``body_timeout`` for the whole request), and answers refusals with
Kinto's JSON error body.

It uses waitress's documented extension points for its channel and error task
classes (``HTTPChannel.error_task_class``, ``BaseWSGIServer.channel_class``) and
its ``maintenance`` hook, which runs every ``cleanup_interval`` seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kinto.core.errors import DEFAULT_ERRNOS, ERRORS, json_error_body
from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import ErrorTask

__all__ = ["SlowClientLimits", "make_server"]


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


def _channel_class(limits: SlowClientLimits) -> type[HTTPChannel]:
    class KintoChannel(HTTPChannel):  # type: ignore[misc]
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
