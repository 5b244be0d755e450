"""The asynchronous Fluent sender: fluent-logger's, with bounded buffers that count what they drop.

fluent-logger's ``asyncsender.FluentSender`` already keeps the network off the
caller's thread: ``emit`` packs the record and puts it on a queue that a
daemon thread drains. This subclass adds what a server needs from it:

* the queue is circular (``emit`` never waits): when it is full the oldest
  event is dropped; when Fluentd stays unreachable long enough for the kept
  bytes to pass ``bufmax``, fluent-logger drops them. Both are counted in
  ``dropped`` and ``on_drop`` is called (from whichever thread dropped);
* fluent-logger retries kept events only when a new one is emitted; this loop
  also retries every ``retry_interval`` seconds while the queue is idle, so the
  last events before an outage arrive once Fluentd is back, even on a quiet server;
* ``close(timeout)`` never waits longer than asked, even with Fluentd unreachable.

The loop reads fluent-logger's sender internals (``_queue``, ``pendings``,
``_send_internal``); pyproject pins the fluent-logger series it was checked against.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from queue import Empty, Full

import msgpack
from fluent import asyncsender

__all__ = ["AsyncFluentSender", "count_packets"]

_STOP = object()


def count_packets(data: bytes) -> int:
    """How many msgpack objects (Fluent packets) ``data`` holds back to back; a truncated tail does not count."""
    unpacker = msgpack.Unpacker(io.BytesIO(data), raw=True, strict_map_key=False)
    count = 0
    try:
        for _ in unpacker:
            count += 1
    except (ValueError, msgpack.UnpackException):
        pass
    return count


class AsyncFluentSender(asyncsender.FluentSender):
    def __init__(
        self,
        tag: str,
        host: str,
        port: int,
        *,
        timeout: float,
        queue_size: int,
        buffer_size_bytes: int,
        retry_interval: float,
        nanosecond_precision: bool,
        on_drop: Callable[[int], None] | None = None,
    ) -> None:
        self.dropped = 0
        self._retry_interval = retry_interval
        self._on_drop = on_drop
        self._count_lock = threading.Lock()
        super().__init__(
            tag,
            host=host,
            port=port,
            bufmax=buffer_size_bytes,
            timeout=timeout,
            nanosecond_precision=nanosecond_precision,
            queue_maxsize=queue_size,
            queue_circular=True,
            queue_overflow_handler=self._oldest_dropped,
            buffer_overflow_handler=self._kept_bytes_dropped,
        )

    def _oldest_dropped(self, packet: bytes) -> None:
        self._count_drop(1)

    def _kept_bytes_dropped(self, pending: bytes) -> None:
        self._count_drop(count_packets(pending))

    def _count_drop(self, count: int) -> None:
        with self._count_lock:
            self.dropped += count
        if self._on_drop is not None:
            self._on_drop(count)

    def _send_loop(self) -> None:
        try:
            while True:
                try:
                    packet = self._queue.get(timeout=self._retry_interval)
                except Empty:
                    if self.pendings:
                        self._send_internal(b"")
                    continue
                if packet is _STOP or packet is asyncsender._TOMBSTONE:
                    if self.pendings:
                        self._send_internal(b"")
                    break
                self._send_internal(packet)
        finally:
            self._close()

    def close(self, flush: bool = True, timeout: float | None = None) -> None:  # type: ignore[override]
        """Stop the sender thread after it has tried once to deliver what is queued (nothing, without ``flush``).

        Waits at most ``timeout`` seconds (forever when None) for that; events
        still queued afterwards are lost with the daemon thread at exit.
        """
        with self.lock:
            if self._closed:
                return
            self._closed = True
            if not flush:
                self._drain_queue()
            self._put_stop()
        self._send_thread.join(timeout)

    def _drain_queue(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except Empty:
                return

    def _put_stop(self) -> None:
        # The queue may be full: make room by dropping the oldest event, as emit does.
        while True:
            try:
                self._queue.put_nowait(_STOP)
                return
            except Full:
                try:
                    self._queue.get_nowait()
                except Empty:
                    continue
                self._count_drop(1)
