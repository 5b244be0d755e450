"""The asynchronous gateway between granian and the WSGI application.

granian's own WSGI mode hands each request to a Python thread as soon as its
headers arrive: a client trickling its body holds that thread until it is done,
and an unread body makes granian drop the keep-alive connection without saying
so. Through granian's RSGI interface, this gateway instead:

* reads the whole body on the event loop (no thread held), refusing it with
  413 as soon as it exceeds ``max_request_body_bytes`` (whatever the framing:
  ``Content-Length``, chunked, HTTP/2 frames), and with 408 when the client
  stops sending for ``body_idle_timeout`` seconds or takes longer than
  ``body_timeout`` in all;
* then queues the request for one of ``threads`` threads running the WSGI
  application; when ``queue_size`` requests already wait, it answers a fast
  503 with ``Retry-After`` instead of queueing more;
* answers every refusal in Kinto's JSON error format, with ``Connection:
  close`` when the body was left unread, so a keep-alive client is told the
  connection ends.

Idle keep-alive connections and slow headers cost no thread either: granian
holds them in Rust and closes them after its header read timeout.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from kinto.core.errors import DEFAULT_ERRNOS, ERRORS, json_error_body

__all__ = ["Gateway", "GatewayLimits"]

logger = logging.getLogger(__name__)

_REASONS = {
    408: "Request Timeout",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class GatewayLimits:
    """How much one worker process takes on (see the module docstring)."""

    threads: int = 4
    queue_size: int = 1024
    max_body_bytes: int = 8 * 1024 * 1024
    body_idle_timeout: float = 10.0
    body_timeout: float = 60.0
    retry_after_seconds: int = 1


class _Refusal(Exception):
    """A request answered by the gateway itself, before the application sees it."""

    def __init__(self, status: int, message: str, body_unread: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.body_unread = body_unread


class _BodyStream:
    """A request's body chunks: granian lets a protocol be iterated only once, however often it is read."""

    def __init__(self, proto: Any) -> None:
        self._proto = proto
        self._iterator: Any = None

    def chunks(self) -> Any:
        if self._iterator is None:
            self._iterator = self._proto.__aiter__()
        return self._iterator


class Gateway:
    """An RSGI application running ``wsgi_app`` under ``limits``."""

    def __init__(
        self, wsgi_app: Callable[..., Iterable[bytes]], limits: GatewayLimits, multiprocess: bool = False
    ) -> None:
        self.wsgi_app = wsgi_app
        self.limits = limits
        self._capacity = limits.threads + limits.queue_size
        self._admitted = 0  # requests running or waiting for a thread; touched on the event loop only
        self._executor: ThreadPoolExecutor | None = None
        self._base_environ = {
            "SCRIPT_NAME": "",
            "SERVER_SOFTWARE": "granian",
            "wsgi.version": (1, 0),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": multiprocess,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,
        }

    # --- RSGI lifecycle --------------------------------------------------------------------------

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._executor = ThreadPoolExecutor(self.limits.threads, thread_name_prefix="kinto-request")

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        # Requests already handed to a thread finish (their writes are acknowledged to nobody otherwise).
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":  # websockets are not served
            return
        try:
            stream = _BodyStream(proto)
            try:
                body = await self._read_body(scope, stream)
            except _Refusal as refusal:
                if refusal.body_unread and scope.http_version == "2":
                    # An HTTP/2 stream answered before its body ends is reset with the answer unseen:
                    # read the rest (discarded, within the body deadlines) so the client gets the 413.
                    await self._discard_rest(stream)
                    refusal.body_unread = False
                raise
            if self._admitted >= self._capacity:
                raise _Refusal(503, "The server is at capacity: retry later", body_unread=False)
            status, headers, content = await self._run(self._environ(scope, body))
        except _Refusal as refusal:
            status, headers, content = self._refusal_response(refusal)
        proto.response_bytes(status, headers, content)

    # --- the body ----------------------------------------------------------------------------------

    async def _read_body(self, scope: Any, stream: _BodyStream) -> bytes:
        headers = scope.headers
        declared = headers.get("content-length")
        if declared is None and "transfer-encoding" not in headers and scope.http_version != "2":
            return b""
        limit = self.limits.max_body_bytes
        if declared is not None:
            length = _content_length(declared)
            if length == 0:
                return b""
            if limit and length > limit:
                raise _Refusal(413, f"Request body larger than {limit} bytes")
        body = await self._receive(stream, limit)
        if declared is not None and len(body) != length:
            # The client went away mid-body: a truncated body is never handed to the application.
            raise _Refusal(400, "The request body is shorter than its Content-Length")
        return body

    async def _receive(self, stream: _BodyStream, limit: int, keep: bool = True) -> bytes:
        chunks: list[bytes] = []
        size = 0
        deadline = time.monotonic() + self.limits.body_timeout
        iterator = stream.chunks()
        while True:
            wait = min(self.limits.body_idle_timeout, deadline - time.monotonic())
            if wait <= 0:
                raise _Refusal(408, "The request body took too long to arrive")
            try:
                chunk = await asyncio.wait_for(iterator.__anext__(), wait)
            except StopAsyncIteration:
                break
            except asyncio.TimeoutError:
                raise _Refusal(408, "The request body took too long to arrive") from None
            except (RuntimeError, OSError):  # granian: the client went away or broke the framing
                raise _Refusal(400, "The request body could not be read") from None
            if not chunk:
                break
            size += len(chunk)
            if limit and size > limit:
                raise _Refusal(413, f"Request body larger than {limit} bytes")
            if keep:
                chunks.append(chunk)
        return b"".join(chunks)

    async def _discard_rest(self, stream: _BodyStream) -> None:
        """Read what is left of a body without keeping it, until it ends or a body deadline passes."""
        try:
            await self._receive(stream, 0, keep=False)
        except _Refusal:
            pass  # too slow or broken: the stream ends with the refusal either way

    # --- the application ---------------------------------------------------------------------------

    def _environ(self, scope: Any, body: bytes) -> dict[str, Any]:
        server_host, _, server_port = scope.server.rpartition(":")
        environ = {
            **self._base_environ,
            "REQUEST_METHOD": scope.method,
            # WSGI strings: the bytes of the (percent-decoded) path, one character per byte.
            "PATH_INFO": scope.path.encode("utf-8", "surrogateescape").decode("latin-1"),
            "QUERY_STRING": scope.query_string,
            "SERVER_NAME": server_host.strip("[]"),
            "SERVER_PORT": server_port,
            "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
            "REMOTE_ADDR": scope.client.rpartition(":")[0].strip("[]"),
            "wsgi.url_scheme": scope.scheme,
            "wsgi.input": io.BytesIO(body),
        }
        for name, value in scope.headers.items():
            # A name with "_" would collide with its "-" twin once in the environ (spoofing): dropped.
            if "_" in name or name == "transfer-encoding":
                continue
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        if body or "CONTENT_LENGTH" in environ:
            environ["CONTENT_LENGTH"] = str(len(body))
        if "HTTP_HOST" not in environ and scope.authority:
            environ["HTTP_HOST"] = scope.authority
        return environ

    async def _run(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        self._admitted += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, self._call, environ)
        finally:
            self._admitted -= 1

    def _call(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        started: list[Any] = []
        written: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            started[:] = [status, headers]
            return written.append

        try:
            result = self.wsgi_app(environ, start_response)
            try:
                content = b"".join([*written, *result]) if written else b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            logger.exception("The application failed outside its error views")
            return self._refusal_response(_Refusal(500, "Internal error", body_unread=False))
        status, headers = started
        return int(status.split(" ", 1)[0]), list(headers), content

    # --- refusals ----------------------------------------------------------------------------------

    def _refusal_response(self, refusal: _Refusal) -> tuple[int, list[tuple[str, str]], bytes]:
        status = refusal.status
        errno = DEFAULT_ERRNOS.get(status, ERRORS.UNDEFINED)
        body = json_error_body(status, errno, _REASONS.get(status, "Error"), refusal.message)
        headers = [("content-type", "application/json")]
        if status == 503:
            headers.append(("retry-after", str(self.limits.retry_after_seconds)))
        if refusal.body_unread:
            headers.append(("connection", "close"))
        return status, headers, json.dumps(body).encode()


def _content_length(value: str) -> int:
    if not value.isascii() or not value.isdigit():
        raise _Refusal(400, "Invalid Content-Length header")
    return int(value)
