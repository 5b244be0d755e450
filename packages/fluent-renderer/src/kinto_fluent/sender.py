"""The asynchronous Fluent sender: fluent-logger's, with bounded buffers that count what they drop.

fluent-logger's ``asyncsender.FluentSender`` already keeps the network off the
caller's thread: ``emit`` packs the record and puts it on a queue that a
daemon thread drains. This subclass adds what a server needs from it:

* the queue is circular (``emit`` never waits): when it is full the oldest
  event is dropped; when Fluentd stays unreachable long enough for the kept
  bytes to pass ``bufmax``, the oldest kept events are dropped (fluent-logger
  alone would drop them all). Both are counted in ``dropped``;
* after a failed attempt the sender keeps events and tries again once per
  ``retry_interval`` (fluent-logger tries on every event, and only on an
  event), so an outage costs one connection attempt per interval, and the last
  events before it arrive once Fluentd is back, even on a quiet server;
* events queued while the thread waited go out in one write (Message mode
  packets back to back, as the protocol allows), so the sender keeps up with a busy server;
* ``close(timeout)`` never waits longer than asked, even with Fluentd unreachable.

The loop reads fluent-logger's sender internals (``_queue``, ``pendings``,
``_send_internal``); pyproject pins the fluent-logger series it was checked against.
"""

from __future__ import annotations

import io
import threading
import time
from queue import Empty, Full

import msgpack
from fluent import asyncsender

__all__ = ["AsyncFluentSender", "count_packets", "keep_newest", "packet_starts"]

_STOP = object()

#: At most this many queued events go out in one write.
MAX_BATCH_PACKETS = 500


def packet_starts(data: bytes) -> list[int]:
    """Where each msgpack object (Fluent packet) of ``data`` starts; a truncated tail is not a packet."""
    unpacker = msgpack.Unpacker(io.BytesIO(data))
    starts: list[int] = []
    position = 0
    while True:
        try:
            unpacker.skip()
        except (msgpack.OutOfData, ValueError, msgpack.UnpackException):
            return starts
        starts.append(position)
        position = unpacker.tell()


def count_packets(data: bytes) -> int:
    """How many msgpack objects (Fluent packets) ``data`` holds back to back; a truncated tail does not count."""
    return len(packet_starts(data))


def keep_newest(data: bytes, limit: int) -> tuple[bytes, int]:
    """The newest whole packets of ``data`` that fit in ``limit`` bytes, and how many older packets were cut."""
    if len(data) <= limit:
        return data, 0
    starts = packet_starts(data)
    for index, start in enumerate(starts):
        if len(data) - start <= limit:
            return data[start:], index
    return b"", len(starts)


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
    ) -> None:
        self.dropped = 0
        self._retry_interval = retry_interval
        self._failed_at: float | None = None
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
            # Packing errors reach the caller, which can fix the record, instead of becoming an error record.
            forward_packet_error=False,
        )

    def _oldest_dropped(self, packet: bytes) -> None:
        self._count_drop(1)

    def _kept_bytes_dropped(self, pending: bytes) -> None:
        self._count_drop(count_packets(pending))

    def _count_drop(self, count: int) -> None:
        with self._count_lock:
            self.dropped += count

    def _send_loop(self) -> None:
        try:
            while True:
                try:
                    packet = self._queue.get(timeout=self._retry_interval)
                except Empty:
                    packet = None
                batch, stop = self._batch_after(packet) if packet is not None else (b"", False)
                if batch:
                    self._hold(batch)
                if self.pendings and (stop or self._retry_due()):
                    self._attempt()
                if stop:
                    break
        finally:
            self._close()

    def _hold(self, batch: bytes) -> None:
        # A bytearray, so that holding events while Fluentd is away costs no copy of what is held.
        # Past bufmax keep the newest events (fluent-logger would drop them all), cutting a quarter
        # more than needed so that cuts stay rare during an outage.
        pending = self.pendings if isinstance(self.pendings, bytearray) else bytearray(self.pendings or b"")
        pending += batch
        if len(pending) > self.bufmax:
            kept, cut = keep_newest(bytes(pending), self.bufmax * 3 // 4)
            pending = bytearray(kept)
            self._count_drop(cut)
        self.pendings = pending or None

    def _retry_due(self) -> bool:
        # After a failure, wait retry_interval before the next connection attempt: a burst of
        # events during an outage must not become a burst of connection attempts.
        return self._failed_at is None or time.monotonic() - self._failed_at >= self._retry_interval

    def _attempt(self) -> None:
        delivered = self._send_internal(b"")
        self._failed_at = None if delivered else time.monotonic()
        if not delivered and self.pendings is not None and not isinstance(self.pendings, bytearray):
            self.pendings = bytearray(self.pendings)

    def _batch_after(self, packet: object) -> tuple[bytes, bool]:
        # Under load the sender thread only gets the GIL now and then: one packet per turn would
        # not keep up with a busy server.
        packets: list[bytes] = []
        while packet is not _STOP and packet is not asyncsender._TOMBSTONE:
            packets.append(packet)  # type: ignore[arg-type]
            if len(packets) >= MAX_BATCH_PACKETS:
                return b"".join(packets), False
            try:
                packet = self._queue.get_nowait()
            except Empty:
                return b"".join(packets), False
        return b"".join(packets), True

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
