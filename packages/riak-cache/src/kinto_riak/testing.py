"""A Riak KV HTTP stand-in, for tests that cannot start a real Riak.

``RiakStandIn`` is a small threaded HTTP server on 127.0.0.1 that speaks the part of
Riak KV's HTTP API a key/value client uses, written from Riak's public HTTP API
documentation and independent of ``kinto_riak``'s own client:

* ``GET /ping`` answers ``200 OK``;
* ``PUT /types/<t>/buckets/<b>/keys/<k>`` (and ``POST``, and the legacy
  ``/buckets/<b>/keys/<k>`` form for the ``default`` type) stores a body with its
  ``Content-Type`` and ``X-Riak-Meta-*`` headers; ``X-Riak-Vclock`` names the
  version the write supersedes; ``returnbody=true`` answers like a fetch;
* ``GET`` of a key answers ``200`` with the value, ``404`` when missing, and
  ``300 Multiple Choices`` when it holds siblings: a ``multipart/mixed`` body when
  the ``Accept`` header asks for it, else the ``Siblings:`` list of vtags
  (``?vtag=`` fetches one sibling);
* ``DELETE`` answers ``204``, or ``404`` when there was nothing to delete;
* ``GET .../keys?keys=true`` lists the keys as ``{"keys": [...]}``, and
  ``?keys=stream`` streams several such objects with chunked encoding;
* ``GET``/``PUT .../props`` read and change the bucket's ``allow_mult``.

Siblings follow Riak's dotted version vectors with a single actor: each value
carries a dot (a counter), a vector clock is the highest dot its writer had seen,
and a write drops the siblings its clock has seen. A write without a clock (or
with a stale one) on a bucket with ``allow_mult`` therefore adds a sibling, as on
a real cluster. As in Riak 2, buckets of the ``default`` type have ``allow_mult``
off (last write wins on the server), other types have it on.

Faults for tests: ``stall()`` makes every request hang without an answer (to test
client timeouts) and ``fail_with(status)`` answers every request with that status.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["RiakStandIn"]

if TYPE_CHECKING:  # Self is in typing from Python 3.11 only
    from typing_extensions import Self

_DEFAULT_TYPE = "default"


@dataclass
class _Sibling:
    dot: int
    body: bytes
    content_type: str
    metadata: dict[str, str]
    last_modified: float

    @property
    def vtag(self) -> str:
        return base64.urlsafe_b64encode(hashlib.sha1(b"%d" % self.dot).digest()[:12]).decode().rstrip("=")


@dataclass
class _Object:
    siblings: list[_Sibling] = field(default_factory=list)
    seen: int = 0  # the highest dot this object's causal context covers


def _encode_vclock(seen: int) -> str:
    return base64.b64encode(json.dumps({"standin": seen}).encode()).decode()


def _decode_vclock(header: str | None) -> int:
    """The dot a client's vector clock has seen; 0 for none or one we cannot read."""
    if not header:
        return 0
    try:
        return int(json.loads(base64.b64decode(header))["standin"])
    except (ValueError, KeyError, TypeError):
        return 0


class _Store:
    """The stand-in's data, guarded by one lock: (type, bucket, key) -> object."""

    def __init__(self, allow_mult: bool | None) -> None:
        self.lock = threading.Lock()
        self.objects: dict[tuple[str, str, str], _Object] = {}
        self.bucket_props: dict[tuple[str, str], dict[str, object]] = {}
        self.allow_mult_override = allow_mult
        self.next_dot = 0

    def allow_mult(self, bucket_type: str, bucket: str) -> bool:
        props = self.bucket_props.get((bucket_type, bucket), {})
        if "allow_mult" in props:
            return bool(props["allow_mult"])
        if self.allow_mult_override is not None:
            return self.allow_mult_override
        return bucket_type != _DEFAULT_TYPE

    def put(
        self, location: tuple[str, str, str], sibling_parts: tuple[bytes, str, dict[str, str]], seen: int
    ) -> _Object:
        body, content_type, metadata = sibling_parts
        self.next_dot += 1
        sibling = _Sibling(self.next_dot, body, content_type, metadata, time.time())
        current = self.objects.get(location) or _Object()
        if self.allow_mult(location[0], location[1]):
            kept = [existing for existing in current.siblings if existing.dot > seen]
        else:
            kept = []
        stored = _Object(siblings=[*kept, sibling], seen=self.next_dot)
        self.objects[location] = stored
        return stored


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "RiakStandIn/1.0"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm and
        # delayed ACKs add ~40 ms to every keep-alive exchange.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default stderr access log."""

    # -- dispatch -----------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_POST(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        if self.server.stalled.is_set():
            self.server.stalled_requests.release()
            self.server.stalled_release.wait()
            self.close_connection = True
            return
        body = self._read_body()
        if self.server.failure_status:
            self._reply(self.server.failure_status, b"stand-in failure\n", "text/plain")
            return
        url = urlsplit(self.path)
        query = {name: values[-1] for name, values in parse_qs(url.query).items()}
        segments = [unquote(part) for part in url.path.strip("/").split("/")]
        if segments == ["ping"] and method == "GET":
            self._reply(200, b"OK", "text/plain")
            return
        if segments[:1] == ["buckets"]:
            segments = ["types", _DEFAULT_TYPE, *segments]
        if len(segments) < 4 or segments[0] != "types" or segments[2] != "buckets":
            self._reply(404, b"not found\n", "text/plain")
            return
        bucket_type, bucket, rest = segments[1], segments[3], segments[4:]
        if rest == ["props"]:
            self._props(method, bucket_type, bucket, body)
        elif rest == ["keys"] and method == "GET":
            self._list_keys(bucket_type, bucket, query.get("keys", "false"))
        elif len(rest) == 2 and rest[0] == "keys":
            self._object(method, (bucket_type, bucket, rest[1]), query, body)
        else:
            self._reply(405 if rest == ["keys"] else 404, b"", "text/plain")

    # -- resources ----------------------------------------------------------------

    def _props(self, method: str, bucket_type: str, bucket: str, body: bytes) -> None:
        store = self.server.store
        with store.lock:
            if method == "PUT":
                try:
                    props = json.loads(body)["props"]
                except (ValueError, KeyError, TypeError):
                    self._reply(400, b"invalid props\n", "text/plain")
                    return
                store.bucket_props.setdefault((bucket_type, bucket), {}).update(props)
                self._reply(204, b"", "text/plain")
                return
            allow_mult = store.allow_mult(bucket_type, bucket)
        answer = {"props": {"name": bucket, "allow_mult": allow_mult, "last_write_wins": not allow_mult}}
        self._reply(200, json.dumps(answer).encode(), "application/json")

    def _list_keys(self, bucket_type: str, bucket: str, mode: str) -> None:
        store = self.server.store
        with store.lock:
            keys = [
                key for (t, b, key), obj in store.objects.items() if (t, b) == (bucket_type, bucket) and obj.siblings
            ]
        if mode == "true":
            self._reply(200, json.dumps({"keys": keys}).encode(), "application/json")
            return
        if mode != "stream":
            self._reply(400, b"keys must be true or stream\n", "text/plain")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        batches = [keys[index : index + 3] for index in range(0, len(keys), 3)] + [[]]
        for batch in batches:
            chunk = json.dumps({"keys": batch}).encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def _object(self, method: str, location: tuple[str, str, str], query: dict[str, str], body: bytes) -> None:
        store = self.server.store
        with store.lock:
            if method == "GET":
                obj = store.objects.get(location)
                self._answer_object(obj, query, status_if_found=200)
                return
            if method == "DELETE":
                obj = store.objects.pop(location, None)
                self._reply(204 if obj and obj.siblings else 404, b"", "text/plain")
                return
            content_type = self.headers.get("Content-Type")
            if not content_type:
                self._reply(400, b"Missing Content-Type request header\n", "text/plain")
                return
            metadata = {
                name[len("x-riak-meta-") :].lower(): value
                for name, value in self.headers.items()
                if name.lower().startswith("x-riak-meta-")
            }
            seen = _decode_vclock(self.headers.get("X-Riak-Vclock"))
            stored = store.put(location, (body, content_type, metadata), seen)
            if query.get("returnbody") == "true":
                self._answer_object(stored, {}, status_if_found=200)
            else:
                self._reply(204, b"", "text/plain")

    def _answer_object(self, obj: _Object | None, query: dict[str, str], status_if_found: int) -> None:
        if obj is None or not obj.siblings:
            self._reply(404, b"not found\n", "text/plain")
            return
        vclock = {"X-Riak-Vclock": _encode_vclock(obj.seen)}
        if "vtag" in query:
            chosen = [sibling for sibling in obj.siblings if sibling.vtag == query["vtag"]]
            if not chosen:
                self._reply(404, b"not found\n", "text/plain")
                return
            self._reply_sibling(status_if_found, chosen[0], vclock)
            return
        if len(obj.siblings) == 1:
            self._reply_sibling(status_if_found, obj.siblings[0], vclock)
            return
        if "multipart/mixed" in self.headers.get("Accept", ""):
            boundary = uuid.uuid4().hex
            parts = [self._multipart_section(boundary, sibling) for sibling in obj.siblings]
            payload = b"".join(parts) + b"--%s--\r\n" % boundary.encode()
            self._reply(300, payload, f"multipart/mixed; boundary={boundary}", vclock)
            return
        listing = "Siblings:\n" + "".join(f"{sibling.vtag}\n" for sibling in obj.siblings)
        self._reply(300, listing.encode(), "text/plain", vclock)

    @staticmethod
    def _sibling_headers(sibling: _Sibling) -> dict[str, str]:
        headers = {
            "ETag": f'"{sibling.vtag}"',
            "Last-Modified": email.utils.formatdate(sibling.last_modified, usegmt=True),
        }
        headers.update({f"X-Riak-Meta-{name}": value for name, value in sibling.metadata.items()})
        return headers

    def _multipart_section(self, boundary: str, sibling: _Sibling) -> bytes:
        headers = {"Content-Type": sibling.content_type, **self._sibling_headers(sibling)}
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        return b"--%s\r\n%s\r\n%s\r\n" % (boundary.encode(), head.encode(), sibling.body)

    def _reply_sibling(self, status: int, sibling: _Sibling, extra: dict[str, str]) -> None:
        self._reply(status, sibling.body, sibling.content_type, {**extra, **self._sibling_headers(sibling)})

    # -- plumbing -----------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(self, status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, store: _Store) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.store = store
        self.stalled = threading.Event()
        self.stalled_release = threading.Event()
        self.stalled_requests = threading.Semaphore(0)
        self.failure_status = 0


class RiakStandIn:
    """A Riak KV HTTP stand-in on 127.0.0.1 (an ephemeral port); see the module docstring.

    Use it as a context manager, or call ``start()`` and ``stop()``; ``url`` is
    the base URL to give a client (``kinto.cache_url``). ``allow_mult`` forces the
    property for every bucket (``None`` keeps Riak 2's per-type defaults).
    """

    def __init__(self, allow_mult: bool | None = None) -> None:
        self._store = _Store(allow_mult)
        self._server = _Server(self._store)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="riak-stand-in", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        self.recover()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # -- faults ---------------------------------------------------------------------

    def stall(self) -> None:
        """Accept requests but never answer them, until ``recover()``."""
        self._server.stalled_release.clear()
        self._server.stalled.set()

    def wait_for_stalled_request(self, timeout: float = 5.0) -> bool:
        """Wait until a request is held by ``stall()``; False if none came within ``timeout``."""
        return self._server.stalled_requests.acquire(timeout=timeout)

    def fail_with(self, status: int) -> None:
        """Answer every request with ``status`` (e.g. 503), until ``recover()``."""
        self._server.failure_status = status

    def recover(self) -> None:
        self._server.stalled.clear()
        self._server.stalled_release.set()
        self._server.failure_status = 0

    # -- inspection -----------------------------------------------------------------

    def keys(self, bucket_type: str, bucket: str) -> list[str]:
        """The keys stored in a bucket, as the server holds them."""
        with self._store.lock:
            return sorted(key for (t, b, key), obj in self._store.objects.items() if (t, b) == (bucket_type, bucket))

    def sibling_count(self, bucket_type: str, bucket: str, key: str) -> int:
        """How many sibling values the key holds (0 when missing)."""
        with self._store.lock:
            obj = self._store.objects.get((bucket_type, bucket, key))
            return len(obj.siblings) if obj else 0

    def set_allow_mult(self, bucket_type: str, bucket: str, allow_mult: bool) -> None:
        with self._store.lock:
            self._store.bucket_props.setdefault((bucket_type, bucket), {})["allow_mult"] = allow_mult
