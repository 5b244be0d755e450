"""gunicorn, as ``kinto start --server gunicorn`` runs it: requests are read whole before a thread runs them.

gunicorn's ``gthread`` worker hands a connection to one of its threads as soon
as it is readable, and the thread then reads the headers and the body with
blocking calls: a client trickling its request holds that thread until it is
done, so as many slow clients as threads stop a worker. ``KintoWorker`` keeps
gthread's process model (one poller, a pool of threads, gunicorn's parser and
WSGI layer, its graceful stop) but reads every request on the poller, with
non-blocking reads framed by gunicorn's parser (h11 follows chunked bodies),
under deadlines counted from the request's first byte:

* the headers must be complete within ``keep_alive_timeout`` (as idle
  keep-alive connections), or the connection is closed;
* the whole request within ``body_timeout``, with at most
  ``body_idle_timeout`` of silence, or it is answered 408;
* a body over the application's ``max_request_body_bytes`` is answered 413
  as soon as it is known to be (from ``Content-Length``, or while a chunked
  body arrives), without reading the rest;
* refusals use Kinto's JSON error format and end the connection with a
  lingering close, so the client reads the answer instead of a reset.

Only then is a thread given the request, parsed once, with its body from the
bytes already read: the thread never waits for the client. Bytes pipelined
behind the request go back to the poller with the connection.

On SIGTERM the worker closes its listening sockets (new clients are refused
rather than left in the backlog), finishes the requests it is reading or
running within gunicorn's ``graceful_timeout``, answers them with
``Connection: close``, and closes idle keep-alive connections after a short
linger.

Plain HTTP/1.x only (``kinto start`` configures neither TLS nor HTTP/2). The
worker builds on ``gunicorn.workers.gthread.ThreadWorker`` of gunicorn 27 (its
poller, method queue and shutdown loop). Timeouts come from
``KINTO_GATEWAY_LIMITS`` (set by ``kinto start``, see ``kinto.server.wsgi``),
the body limit from the application's settings.
"""

from __future__ import annotations

import errno
import json
import os
import selectors
import socket
import time
from dataclasses import dataclass, fields
from functools import partial
from typing import Any

import h11
from gunicorn import util
from gunicorn.errors import ConfigError
from gunicorn.http import errors as http_errors
from gunicorn.http.body import ChunkedReader
from gunicorn.http.message import Request
from gunicorn.http.parser import RequestParser
from gunicorn.http.unreader import Unreader
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, TConn, ThreadWorker
from kinto.core.errors import DEFAULT_ERRNOS, ERRORS, json_error_body

__all__ = ["KintoWorker", "ReadLimits"]

#: Largest request head (request line and header fields) accepted, in bytes.
MAX_HEAD_BYTES = 64 * 1024
#: How long a refused or finished connection keeps discarding what the client still sends before closing.
LINGER_SECONDS = 2.0
#: How often reading connections are checked against their deadlines, in seconds.
SCAN_INTERVAL = 0.25
RECEIVE_SIZE = 256 * 1024
_REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    413: "Request Entity Too Large",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    505: "HTTP Version Not Supported",
}


@dataclass(frozen=True)
class ReadLimits:
    """How long one request may take to arrive, and how large its body may be (0: no limit)."""

    header_timeout: float = 10.0
    body_timeout: float = 60.0
    body_idle_timeout: float = 10.0
    max_body_bytes: int = 0


class _Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Received(Unreader):  # type: ignore[misc]
    """gunicorn's unreader over the bytes read on the poller: it never reads the socket."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.chunks: list[bytes] = [data] if data else []

    def chunk(self, size_hint: int | None = None) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""

    def buffered_size(self) -> int:
        return len(self.buf.getbuffer()) + sum(len(chunk) for chunk in self.chunks)

    def take_buffered(self) -> bytes:
        # What was read past the request: the start of the next one.
        rest, self.chunks = b"".join(self.chunks), []
        return bytes(super().take_buffered()) + rest


class _ReadRequest(RequestParser):  # type: ignore[misc]
    """gunicorn's parser giving the thread the request parsed on the poller, then stopping."""

    def __init__(self, cfg: Any, request: Request, client: Any) -> None:
        super().__init__(cfg, [], client)
        self.unreader = request.unreader
        self.ready: Request | None = request

    def __next__(self) -> Request:
        if self.ready is None:
            raise StopIteration()
        self.mesg, self.ready = self.ready, None
        self.req_count += 1
        return self.mesg


def _body_too_large(limit: int) -> _Refusal:
    return _Refusal(413, f"Request body larger than {limit} bytes")


def _parse_refusal(error: Exception) -> _Refusal:
    """Kinto's refusal of what gunicorn's parser refused (its reason shortened: it may quote the client)."""
    if isinstance(error, http_errors.LimitRequestLine):
        return _Refusal(414, "The request line is too long")
    if isinstance(error, http_errors.LimitRequestHeaders):
        return _Refusal(431, "Too many header fields, or one too long")
    if isinstance(error, http_errors.UnsupportedTransferCoding):
        return _Refusal(501, "Unsupported transfer coding")
    if isinstance(error, http_errors.InvalidHTTPVersion):
        return _Refusal(505, "Unsupported HTTP version")
    if isinstance(error, http_errors.ExpectationFailed):
        return _Refusal(417, "Unsupported expectation")
    return _Refusal(400, f"Invalid request: {str(error)[:100]}")


class _Connection(TConn):  # type: ignore[misc]
    """A client connection and the request being read on it.

    The request is framed once, by gunicorn's own parser: its head as soon as it is complete (its
    end, a blank line, searched for in what arrived since the last search), then its body counted
    against ``Content-Length``. Only a chunked body, whose end its chunks tell, is also followed
    by h11 as it arrives; the thread's gunicorn parser reads it from the same bytes.
    """

    def __init__(self, cfg: Any, sock: socket.socket, client: Any, server: Any, now: float) -> None:
        super().__init__(cfg, sock, client, server)
        # Neither TLS nor HTTP/2 is set up: the thread is given the request parsed here (``request_parser``).
        self.initialized = True
        self.served = 0
        self.lingering_until: float | None = None
        self.outgoing = b""
        self.begin_request(b"", now)

    def begin_request(self, leftover: bytes, now: float) -> None:
        """Start reading the next request; ``leftover`` holds bytes the client already sent for it."""
        self.head = bytearray()  # what arrived until the head is parsed
        self.searched = 0  # where the search for the head's end starts again
        self.request: Request | None = None
        self.body_size = 0  # bytes of the body (and beyond) received
        self.body_length = 0  # of a body with a known length
        self.chunked: h11.Connection | None = None
        self.waiting_since = now
        self.started: float | None = None
        self.last_byte = now
        self.continue_sent = False
        if leftover:
            self.feed(leftover, now)

    @property
    def head_read(self) -> bool:
        return self.request is not None

    def feed(self, data: bytes, now: float) -> None:
        if self.started is None:
            self.started = now
        self.last_byte = now
        if self.request is None:
            self.head += data
            return
        self.request.unreader.chunks.append(data)
        self.body_size += len(data)
        if self.chunked is not None:
            self.chunked.receive_data(data)

    def advance(self, max_body_bytes: int) -> bool:
        """Frame what was received: whether a whole request is there (raises ``_Refusal``)."""
        if self.request is None and not self._parse_head(max_body_bytes):
            return False
        if self.chunked is not None:
            return self._chunked_body_ends(max_body_bytes)
        return self.body_size >= self.body_length

    def _parse_head(self, max_body_bytes: int) -> bool:
        while self.head.startswith(b"\r\n"):  # empty lines before a request line are ignored (RFC 9112, 2.2)
            del self.head[:2]
            self.searched = 0
        end = self.head.find(b"\r\n\r\n", self.searched)
        if end < 0 or end + 4 > MAX_HEAD_BYTES:
            if len(self.head) > MAX_HEAD_BYTES:
                raise _Refusal(431, f"The request head is longer than {MAX_HEAD_BYTES} bytes")
            self.searched = max(0, len(self.head) - 3)
            return False
        received = bytes(self.head)
        try:
            request = Request(self.cfg, _Received(received), self.client, self.served + 1)
        except (http_errors.ParseException, http_errors.NoMoreData, ValueError) as error:
            raise _parse_refusal(error) from None
        if request.version >= (1, 1) and sum(name == "HOST" for name, _ in request.headers) != 1:
            raise _Refusal(400, "Invalid request: an HTTP/1.1 request has one Host header field")
        self.request, self.head = request, bytearray()
        self.body_size = request.unreader.buffered_size()
        reader = request.body.reader
        if isinstance(reader, ChunkedReader):
            self.chunked = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
            self.chunked.receive_data(received)
            return True
        self.body_length = reader.length
        if max_body_bytes and self.body_length > max_body_bytes:
            raise _body_too_large(max_body_bytes)
        return True

    def _chunked_body_ends(self, max_body_bytes: int) -> bool:
        assert self.chunked is not None
        while True:
            try:
                event = self.chunked.next_event()
            except h11.RemoteProtocolError as error:
                raise _Refusal(error.error_status_hint, f"Invalid request: {str(error)[:100]}") from None
            if event is h11.NEED_DATA:
                return False
            if isinstance(event, h11.Data):
                self.body_length += len(event.data)
                if max_body_bytes and self.body_length > max_body_bytes:
                    raise _body_too_large(max_body_bytes)
            elif isinstance(event, h11.EndOfMessage):
                return True

    @property
    def awaits_continue(self) -> bool:
        """Whether the client waits for ``100 Continue`` before sending its body."""
        request = self.request
        return request is not None and not self.continue_sent and bool(request._expected_100_continue)

    def request_parser(self) -> RequestParser:
        """A parser giving the thread the request read here: the socket is never read on the thread."""
        assert self.request is not None
        self.served += 1
        return _ReadRequest(self.cfg, self.request, self.client)

    def overdue(self, now: float, limits: ReadLimits, stopping_since: float | None) -> _Refusal | bool:
        """``True`` when the connection should be closed silently, a refusal when it gets one, else False."""
        if self.started is None:
            deadline = self.waiting_since + limits.header_timeout
            if stopping_since is not None:
                deadline = min(deadline, stopping_since + STOP_KEEPALIVE_LINGER)
            return now > deadline
        if not self.head_read:
            return now - self.started > limits.header_timeout
        if now - self.started > limits.body_timeout or now - self.last_byte > limits.body_idle_timeout:
            return _Refusal(408, "The request body took too long to arrive")
        return False


def read_limits(app: Any) -> ReadLimits:
    """The limits ``kinto start`` chose (``KINTO_GATEWAY_LIMITS``) and the application's body limit."""
    from kinto.server.wsgi import GATEWAY_VARIABLE

    chosen = json.loads(os.environ.get(GATEWAY_VARIABLE) or "{}")
    names = {field.name for field in fields(ReadLimits)}
    values = {name: value for name, value in chosen.items() if name in names}
    settings = getattr(getattr(app, "registry", None), "settings", None) or {}
    values["max_body_bytes"] = int(settings.get("max_request_body_bytes") or 0)
    return ReadLimits(**values)


def refusal_bytes(refusal: _Refusal) -> bytes:
    """The whole HTTP/1.1 answer to a refused request, in Kinto's error format."""
    status = refusal.status
    reason = _REASONS.get(status, "Error")
    errno_ = DEFAULT_ERRNOS.get(status, ERRORS.UNDEFINED)
    body = json.dumps(json_error_body(status, errno_, reason, refusal.message)).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


class KintoWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's threaded worker reading each request on its poller first (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = ReadLimits()
        self._reading: dict[_Connection, None] = {}
        self._lingering: dict[_Connection, None] = {}
        self._next_scan = 0.0
        self._stopping_since: float | None = None

    @classmethod
    def check_config(cls, cfg: Any, log: Any) -> None:
        super().check_config(cfg, log)
        if cfg.is_ssl:
            raise ConfigError("KintoWorker serves plain HTTP: terminate TLS in front of it")

    def run(self) -> None:
        self.limits = read_limits(self.wsgi)
        if self.cfg.keepalive:
            self.limits = ReadLimits(**{**self.limits.__dict__, "header_timeout": self.cfg.keepalive})
        super().run()

    # --- accepting and stopping ----------------------------------------------------------------------

    def accept(self, listener: Any) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = _Connection(self.cfg, client_sock, client_addr, listener.getsockname(), time.monotonic())
        self._read(conn)

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive and self._stopping_since is None:
            # Stopping: the arbiter closed its copy of the listening sockets; once this worker closes its
            # own, new clients are refused instead of waiting in the backlog for a worker that is leaving.
            self._stopping_since = time.monotonic()
            for listener in self.sockets:
                listener.close()

    # --- reading a request on the poller ---------------------------------------------------------------

    def _read(self, conn: _Connection) -> None:
        conn.sock.setblocking(False)
        self._reading[conn] = None
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))
        if conn.started is not None:  # bytes of the next request came with the last one
            self._advance(conn)

    def _on_readable(self, conn: _Connection, _sock: Any) -> None:
        try:
            data = conn.sock.recv(RECEIVE_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away, between requests or in the middle of one
            self._close(conn)
            return
        conn.feed(data, time.monotonic())
        self._advance(conn)

    def _advance(self, conn: _Connection) -> None:
        try:
            complete = conn.advance(self.limits.max_body_bytes)
        except _Refusal as refusal:
            self._refuse(conn, refusal)
            return
        if not complete:
            if conn.awaits_continue:
                conn.continue_sent = True
                try:
                    conn.sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")
                except OSError:
                    pass  # nothing sent: the client sends its body after its own wait
            return
        del self._reading[conn]
        self.poller.unregister(conn.sock)
        conn.parser = conn.request_parser()
        self.enqueue_req(conn)

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        if now < self._next_scan:
            return
        self._next_scan = now + SCAN_INTERVAL
        for conn in list(self._reading):
            verdict = conn.overdue(now, self.limits, self._stopping_since)
            if isinstance(verdict, _Refusal):
                self._refuse(conn, verdict)
            elif verdict:
                self._close(conn)
        for conn in list(self._lingering):
            if conn.lingering_until is not None and now >= conn.lingering_until:
                self._close(conn)

    # --- running it on a thread ----------------------------------------------------------------------

    def handle_request(self, req: Any, conn: _Connection) -> bool:
        # Any "100 Continue" was sent while the body was read; the body is all here now.
        req._expected_100_continue = False
        # A client that stops reading its answer frees the thread after this long.
        conn.sock.settimeout(self.limits.body_timeout)
        return bool(super().handle_request(req, conn))

    def finish_request(self, conn: _Connection, future: Any) -> None:
        # ``handle`` answers its own errors and returns False: an exception here is the socket's.
        keep_alive = not future.cancelled() and future.exception() is None and bool(future.result())
        try:
            if not keep_alive:
                self._linger(conn, b"")
                return
            conn.begin_request(conn.parser.unreader.take_buffered(), time.monotonic())
            self._read(conn)
        except (OSError, ValueError, KeyError):  # the client is gone: its socket cannot be polled
            self._close(conn)

    # --- ending connections --------------------------------------------------------------------------

    def _refuse(self, conn: _Connection, refusal: _Refusal) -> None:
        self._reading.pop(conn, None)
        self._unregister(conn)
        self._linger(conn, refusal_bytes(refusal))

    def _linger(self, conn: _Connection, answer: bytes) -> None:
        """Send ``answer``, then read and discard until the client closes (at most ``LINGER_SECONDS``).

        Closing a socket with unread bytes makes the kernel send a reset, which can
        destroy an answer the client has not read yet (RFC 9112, 9.6).
        """
        conn.sock.setblocking(False)
        conn.outgoing = answer
        conn.lingering_until = time.monotonic() + LINGER_SECONDS
        self._lingering[conn] = None
        if not answer:
            self._half_close(conn)
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if answer else 0)
        self.poller.register(conn.sock, events, partial(self._on_lingering, conn))

    def _on_lingering(self, conn: _Connection, _sock: Any) -> None:
        try:
            if conn.outgoing:
                sent = conn.sock.send(conn.outgoing)
                conn.outgoing = conn.outgoing[sent:]
                if not conn.outgoing:
                    self._half_close(conn)
                    self.poller.modify(conn.sock, selectors.EVENT_READ, partial(self._on_lingering, conn))
                return
            if not conn.sock.recv(RECEIVE_SIZE):
                self._close(conn)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)

    @staticmethod
    def _half_close(conn: _Connection) -> None:
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _unregister(self, conn: _Connection) -> None:
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _close(self, conn: _Connection) -> None:
        self._reading.pop(conn, None)
        self._lingering.pop(conn, None)
        self._unregister(conn)
        self.nr_conns -= 1
        util.close(conn.sock)
