"""``FluentRenderer``: every log event goes to Fluentd as a record, and to the local log as the classic line."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections.abc import Mapping, MutableMapping
from typing import Any

from fluent.sender import EventTime
from kinto.core.logs import ClassicLogRenderer, Renderer

from kinto_fluent.record import build_record, plain_text_fields, with_encodable_text
from kinto_fluent.sender import AsyncFluentSender
from kinto_fluent.settings import FluentOptions, read_options

__all__ = ["FluentRenderer"]

local_log = logging.getLogger("kinto_fluent")


class FluentRenderer(Renderer):
    """A ``kinto.core.logs.Renderer`` sending each event to Fluentd and returning the classic line.

    Options (see ``kinto_fluent.settings.DEFAULT_SETTINGS``): ``kinto_fluent.tag``,
    ``kinto_fluent.host`` (else the ``FLUENTD_HOST`` environment variable, else
    localhost), ``kinto_fluent.port``, ``kinto_fluent.timeout_seconds``,
    ``kinto_fluent.queue_size``, ``kinto_fluent.buffer_size_bytes``,
    ``kinto_fluent.retry_interval_seconds``, ``kinto_fluent.nanosecond_precision``;
    each overridden by its ``KINTO_FLUENT_*`` environment variable.

    Calling it never waits on the network and never raises because of Fluentd:
    the record is queued for a background sender; an event that cannot be
    delivered (queue or retry buffer full, record that cannot be packed) is
    counted in ``dropped``, and the first drop is reported once on the
    ``kinto_fluent`` standard library logger. When Fluentd comes back, the
    events still buffered are delivered. A forked worker process starts its
    own sender on its first event. ``close(timeout)`` flushes, waiting at most
    ``timeout`` seconds; it also runs at interpreter exit.
    """

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.options: FluentOptions = read_options(self.settings)
        self.classic = ClassicLogRenderer(self.settings)
        self._sender: AsyncFluentSender | None = None
        self._sender_pid: int | None = None
        self._start_lock = threading.Lock()
        self._unsendable = 0
        self._drop_reported = False
        self._closed = False
        atexit.register(_close_at_exit, weakref.ref(self))

    def __call__(self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> str:
        self._send(logger, method_name, event_dict)
        try:
            return self.classic(logger, method_name, event_dict)
        except Exception:  # the classic renderer refuses some values (a set as querystring, cycles)
            return self.classic(logger, method_name, plain_text_fields(event_dict))

    @property
    def dropped(self) -> int:
        """How many events this process could not deliver (and never will)."""
        sender_dropped = self._sender.dropped if self._sender is not None else 0
        return sender_dropped + self._unsendable

    @property
    def address(self) -> str:
        host, port = self.options.host, self.options.port
        return host if host.startswith("unix://") else f"{host}:{port}"

    def close(self, timeout: float | None = None) -> None:
        """Stop sending: deliver what is queued if Fluentd answers within ``timeout`` seconds (default: the
        socket timeout), then drop the rest. Events rendered afterwards only reach the local log."""
        self._closed = True
        sender = self._sender
        if sender is not None and self._sender_pid == os.getpid():
            sender.close(timeout=self.options.timeout_seconds if timeout is None else timeout)
        self._report_first_drop()

    def _send(self, logger: Any, method_name: str, event_dict: Mapping[str, Any]) -> None:
        if self._closed:
            return
        try:
            record = build_record(logger, method_name, event_dict)
            sender = self._current_sender()
            try:
                queued = sender.emit_with_time(None, self._event_time(), record)
            except UnicodeEncodeError:  # a lone surrogate: rare enough to pay a second pass then
                queued = sender.emit_with_time(None, self._event_time(), with_encodable_text(record))
        except Exception:  # no event may fail a request: count it, like any event not delivered
            queued = False
        if not queued:
            with self._start_lock:
                self._unsendable += 1
        self._report_first_drop()

    def _event_time(self) -> EventTime | int:
        if self.options.nanosecond_precision:
            return EventTime.from_unix_nano(time.time_ns())
        return int(time.time())

    def _current_sender(self) -> AsyncFluentSender:
        pid = os.getpid()
        if self._sender is not None and self._sender_pid == pid:
            return self._sender
        with self._start_lock:
            if self._sender is None or self._sender_pid != pid:
                # The sender thread of a parent process does not exist in a fork: start ours.
                self._sender = self._new_sender()
                self._sender_pid = pid
            return self._sender

    def _new_sender(self) -> AsyncFluentSender:
        options = self.options
        return AsyncFluentSender(
            options.tag,
            options.host,
            options.port,
            timeout=options.timeout_seconds,
            queue_size=options.queue_size,
            buffer_size_bytes=options.buffer_size_bytes,
            retry_interval=options.retry_interval_seconds,
            nanosecond_precision=options.nanosecond_precision,
        )

    def _report_first_drop(self) -> None:
        if self._drop_reported or not self.dropped:
            return
        # Set before logging: the local log may itself be rendered by this renderer.
        self._drop_reported = True
        local_log.warning(
            "Fluentd at %s is unreachable or too slow: log events are being dropped "
            "(reported once; FluentRenderer.dropped counts them)",
            self.address,
        )


def _close_at_exit(reference: weakref.ref[FluentRenderer]) -> None:
    renderer = reference()
    if renderer is not None:
        renderer.close()
