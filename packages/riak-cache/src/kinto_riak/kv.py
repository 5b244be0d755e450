"""A small client of Riak KV's HTTP API: the five calls a cache needs, nothing more.

Every request goes through one urllib3 connection pool with connect and read
timeouts and no retries, so a Riak that is down or silent costs at most the
configured timeouts; any transport failure or unexpected status raises
``RiakError``.
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import urllib3

__all__ = ["Fetched", "RiakError", "RiakKV", "Sibling", "Timeouts"]


class RiakError(Exception):
    """Riak could not be reached, timed out, or answered something unexpected."""


@dataclass(frozen=True)
class Sibling:
    """One value held under a key (a key holds several after concurrent writes)."""

    body: bytes
    content_type: str = "application/octet-stream"
    metadata: dict[str, str] = field(default_factory=dict)
    last_modified: float = 0.0
    deleted: bool = False


@dataclass(frozen=True)
class Fetched:
    """What a fetch found: the siblings (empty when the key is missing) and the vector clock."""

    siblings: tuple[Sibling, ...] = ()
    vclock: str | None = None

    @property
    def found(self) -> bool:
        return bool(self.siblings)


@dataclass(frozen=True)
class Timeouts:
    connect: float = 1.0
    read: float = 2.0
    pool: float = 1.0


_MULTIPART_ACCEPT = "multipart/mixed, application/json;q=0.9, */*;q=0.5"


class RiakKV:
    """One bucket of one bucket type, on the Riak node at ``url`` (``http://host:8098``)."""

    def __init__(
        self,
        url: str,
        bucket_type: str,
        bucket: str,
        *,
        pool_size: int = 10,
        timeouts: Timeouts = Timeouts(),
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"Not an HTTP URL for Riak: {url!r}")
        self.url = url
        self._base_path = parts.path.rstrip("/")
        self._bucket_path = f"{self._base_path}/types/{quote(bucket_type, safe='')}/buckets/{quote(bucket, safe='')}"
        self._timeouts = timeouts
        self._pool = urllib3.connection_from_url(
            url,
            maxsize=pool_size,
            block=True,
            timeout=urllib3.Timeout(connect=timeouts.connect, read=timeouts.read),
            retries=False,
        )

    def close(self) -> None:
        self._pool.close()

    # -- the API --------------------------------------------------------------------

    def ping(self) -> bool:
        """True when the node answers ``/ping``; never raises."""
        try:
            return self._request("GET", f"{self._base_path}/ping").status == 200
        except RiakError:
            return False

    def fetch(self, key: str) -> Fetched:
        response = self._request("GET", self._key_path(key), headers={"Accept": _MULTIPART_ACCEPT})
        return self._fetched(response, expected=(200, 300, 404))

    def store(
        self, key: str, body: bytes, *, vclock: str | None = None, metadata: dict[str, str] | None = None
    ) -> Fetched:
        """Write ``body`` (JSON) and return what the key holds afterwards (siblings included)."""
        headers = {"Content-Type": "application/json", "Accept": _MULTIPART_ACCEPT}
        if vclock:
            headers["X-Riak-Vclock"] = vclock
        headers.update({f"X-Riak-Meta-{name}": value for name, value in (metadata or {}).items()})
        response = self._request("PUT", self._key_path(key) + "?returnbody=true", body=body, headers=headers)
        return self._fetched(response, expected=(200, 201, 204, 300))

    def delete(self, key: str, *, vclock: str | None = None) -> bool:
        """Delete ``key``; False when Riak found nothing to delete."""
        headers = {"X-Riak-Vclock": vclock} if vclock else {}
        response = self._request("DELETE", self._key_path(key), headers=headers)
        self._expect(response, (204, 404))
        return response.status == 204

    def list_keys(self) -> list[str]:
        """Every key of the bucket (Riak walks the whole cluster for this: keep it for maintenance)."""
        response = self._request("GET", f"{self._bucket_path}/keys?keys=stream", preload=False)
        try:
            self._expect(response, (200,))
            return list(self._streamed_keys(response))
        finally:
            response.release_conn()

    # -- plumbing -------------------------------------------------------------------

    def _key_path(self, key: str) -> str:
        return f"{self._bucket_path}/keys/{quote(key, safe='')}"

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        preload: bool = True,
    ) -> urllib3.BaseHTTPResponse:
        try:
            return self._pool.urlopen(
                method,
                path,
                body=body,
                headers=headers,
                preload_content=preload,
                pool_timeout=self._timeouts.pool,
                assert_same_host=False,
            )
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise RiakError(f"Riak at {self.url} failed on {method} {path}: {error}") from error

    def _expect(self, response: urllib3.BaseHTTPResponse, expected: tuple[int, ...]) -> None:
        if response.status in expected:
            return
        excerpt = response.data[:200].decode("utf-8", "replace") if response.data else ""
        raise RiakError(f"Riak at {self.url} answered {response.status}: {excerpt}".rstrip(": "))

    def _fetched(self, response: urllib3.BaseHTTPResponse, expected: tuple[int, ...]) -> Fetched:
        self._expect(response, expected)
        vclock = response.headers.get("X-Riak-Vclock")
        if response.status == 404 or (response.status in (201, 204) and not response.data):
            return Fetched((), vclock)
        content_type = response.headers.get("Content-Type", "")
        if response.status == 300 and not content_type.startswith("multipart/mixed"):
            raise RiakError(f"Riak at {self.url} answered siblings without multipart/mixed ({content_type})")
        if response.status == 300:
            return Fetched(_parse_siblings(content_type, response.data), vclock)
        return Fetched((_sibling_from_headers(response.headers, response.data),), vclock)

    @staticmethod
    def _streamed_keys(response: urllib3.BaseHTTPResponse) -> Iterator[str]:
        decoder = json.JSONDecoder()
        buffer = ""
        for chunk in response.stream(65536, decode_content=True):
            buffer += chunk.decode("utf-8")
            while buffer.lstrip():
                buffer = buffer.lstrip()
                try:
                    document, end = decoder.raw_decode(buffer)
                except ValueError:
                    break  # an object split across chunks: wait for the rest
                buffer = buffer[end:]
                yield from document.get("keys", [])
        if buffer.strip():
            raise RiakError("Riak's key stream ended in the middle of a JSON object")


def _sibling_from_headers(headers: Mapping[str, str], body: bytes) -> Sibling:
    items = list(headers.items())
    metadata = {
        name[len("x-riak-meta-") :].lower(): value for name, value in items if name.lower().startswith("x-riak-meta-")
    }
    lookup = {name.lower(): value for name, value in items}
    return Sibling(
        body=body,
        content_type=lookup.get("content-type", "application/octet-stream"),
        metadata=metadata,
        last_modified=_http_date(lookup.get("last-modified")),
        deleted=lookup.get("x-riak-deleted", "").lower() == "true",
    )


def _parse_siblings(content_type: str, body: bytes) -> tuple[Sibling, ...]:
    # A small multipart/mixed reader: the stdlib's email parser is correct too, but
    # costs milliseconds per answer, more than the round trip to Riak.
    match = _BOUNDARY.search(content_type)
    if not content_type.startswith("multipart/") or match is None:
        raise RiakError(f"Riak's sibling answer is not a multipart document ({content_type})")
    delimiter = b"--" + (match["quoted"] or match["token"]).encode("latin-1")
    siblings = []
    for section in body.split(delimiter)[1:]:
        if section.startswith(b"--"):
            break  # the closing delimiter
        head, payload = _split_section(section)
        siblings.append(_sibling_from_headers(_parse_head(head), _strip_line_end(payload)))
    return tuple(siblings)


_BOUNDARY = re.compile(r'boundary=(?:"(?P<quoted>[^"]+)"|(?P<token>[^;\s]+))', re.IGNORECASE)
_HEAD_END = re.compile(rb"\r?\n\r?\n")


def _split_section(section: bytes) -> tuple[bytes, bytes]:
    """Split a multipart section (what follows a delimiter) into its header block and its payload."""
    section = section[2:] if section.startswith(b"\r\n") else section[1:] if section.startswith(b"\n") else section
    if section.startswith((b"\r\n", b"\n")):  # a part without headers
        return b"", section.split(b"\n", 1)[1]
    parts = _HEAD_END.split(section, maxsplit=1)
    return (parts[0], parts[1]) if len(parts) == 2 else (parts[0], b"")


def _parse_head(head: bytes) -> dict[str, str]:
    fields = {}
    for line in head.decode("latin-1").splitlines():
        name, colon, value = line.partition(":")
        if colon:
            fields[name.strip()] = value.strip()
    return fields


def _strip_line_end(payload: bytes) -> bytes:
    # The line end before a delimiter belongs to the delimiter, not to the value.
    if payload.endswith(b"\r\n"):
        return payload[:-2]
    return payload[:-1] if payload.endswith(b"\n") else payload


def _http_date(value: str | None) -> float:
    if not value:
        return 0.0
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return 0.0
