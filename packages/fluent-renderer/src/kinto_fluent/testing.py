"""A Fluent forward-protocol receiver for tests: a stand-in for Fluentd on 127.0.0.1.

``ForwardReceiver`` listens on a TCP port (random unless given), decodes the
three event modes of the forward protocol (Message, Forward, PackedForward,
the latter also gzip-compressed), answers ``chunk`` options with an ack, and
keeps every event received. It can be stopped and started again on the same
port (Fluentd down, then back) and paused (Fluentd slow: it accepts
connections but reads nothing)::

    with ForwardReceiver() as receiver:
        settings = {"kinto_fluent.host": "127.0.0.1", "kinto_fluent.port": receiver.port}
        ...
        events = receiver.wait_for(1)
"""

from __future__ import annotations

import contextlib
import gzip
import io
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import msgpack

__all__ = ["ForwardEvent", "ForwardReceiver", "decode_time"]


@dataclass(frozen=True)
class ForwardEvent:
    tag: str
    time: float
    record: dict[str, Any]
    #: Which of the protocol's modes carried the event: "message", "forward" or "packed_forward".
    mode: str


def decode_time(value: Any) -> float:
    """A forward-protocol time (integer seconds, or EventTime: ext type 0 with seconds and nanoseconds) in seconds."""
    if isinstance(value, msgpack.ExtType) and value.code == 0:
        seconds, nanoseconds = struct.unpack(">II", value.data)
        return seconds + nanoseconds / 1e9
    if isinstance(value, (int, float)):
        return float(value)
    raise ValueError(f"not a forward-protocol time: {value!r}")


def decode_message(message: Any) -> tuple[list[ForwardEvent], dict[str, Any]]:
    """The events of one forward-protocol message, and its options (empty when it has none)."""
    if not isinstance(message, (list, tuple)) or len(message) < 2:
        raise ValueError(f"not a forward-protocol message: {message!r}")
    tag, payload = message[0], message[1]
    if isinstance(payload, (int, float, msgpack.ExtType)):  # ExtType is a tuple: test it first
        options = (message[3] if len(message) > 3 else {}) or {}
        return [ForwardEvent(tag, decode_time(payload), message[2], "message")], options
    if isinstance(payload, (list, tuple)):
        options = message[2] if len(message) > 2 else {}
        events = [ForwardEvent(tag, decode_time(entry[0]), entry[1], "forward") for entry in payload]
        return events, options or {}
    if isinstance(payload, (bytes, str)):
        options = (message[2] if len(message) > 2 else {}) or {}
        # Some clients send the packed entries as a msgpack str: it was decoded with surrogateescape.
        data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else payload
        if options.get("compressed") == "gzip":
            data = gzip.decompress(data)
        entries = msgpack.Unpacker(io.BytesIO(data), raw=False)
        return [ForwardEvent(tag, decode_time(entry[0]), entry[1], "packed_forward") for entry in entries], options
    raise ValueError(f"not a forward-protocol message: {message!r}")


class ForwardReceiver:
    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.events: list[ForwardEvent] = []
        self.errors: list[BaseException] = []
        self.connections_accepted = 0
        self._arrived = threading.Condition()
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._reading = threading.Event()
        self._reading.set()

    def __enter__(self) -> ForwardReceiver:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._listener is not None

    def start(self) -> None:
        """Listen on 127.0.0.1 (on the same port as before after a ``stop``)."""
        if self._listener is not None:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._spawn(self._accept_loop, listener)

    def stop(self) -> None:
        """Close the listening socket and every connection: clients see Fluentd go down."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        self._reading.set()
        _close(listener)
        for connection in list(self._connections):
            _close(connection)
        for thread in self._threads:
            thread.join(5)
        self._threads = []

    def pause(self) -> None:
        """Stop reading from connections (accepted ones stay open): clients see a slow Fluentd."""
        self._reading.clear()

    def resume(self) -> None:
        self._reading.set()

    def received(self, predicate: Callable[[ForwardEvent], bool] | None = None) -> list[ForwardEvent]:
        with self._arrived:
            return [event for event in self.events if predicate is None or predicate(event)]

    def wait_for(
        self, count: int, predicate: Callable[[ForwardEvent], bool] | None = None, timeout: float = 10.0
    ) -> list[ForwardEvent]:
        """The events matching ``predicate`` once at least ``count`` have arrived, or when ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                matching = [event for event in self.events if predicate is None or predicate(event)]
                remaining = deadline - time.monotonic()
                if len(matching) >= count or remaining <= 0:
                    return matching
                self._arrived.wait(remaining)

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=f"forward-receiver-{self.port}")
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            self.connections_accepted += 1
            self._connections.add(connection)
            self._spawn(self._read_loop, connection)

    def _read_loop(self, connection: socket.socket) -> None:
        try:
            for message in self._messages(connection):
                self._receive(connection, message)
        except Exception as error:  # kept for the test to inspect: a decoding bug must not pass silently
            if self._listener is not None:
                self.errors.append(error)
        finally:
            self._connections.discard(connection)
            _close(connection)

    def _messages(self, connection: socket.socket) -> Iterator[Any]:
        unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, unicode_errors="surrogateescape")
        while True:
            self._reading.wait()
            try:
                data = connection.recv(65536)
            except OSError:
                return
            if not data:
                return
            unpacker.feed(data)
            yield from unpacker

    def _receive(self, connection: socket.socket, message: Any) -> None:
        events, options = decode_message(message)
        with self._arrived:
            self.events.extend(events)
            self._arrived.notify_all()
        if "chunk" in options:
            connection.sendall(msgpack.packb({"ack": options["chunk"]}))


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
