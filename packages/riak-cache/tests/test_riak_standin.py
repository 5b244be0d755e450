"""The stand-in speaks Riak KV's HTTP API as documented (checked with a raw HTTP client)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from kinto_riak.testing import RiakStandIn

KEY = "/types/default/buckets/b/keys/k"


class Client:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)

    def __call__(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        self.connection.request(method, path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        return response.status, response.headers, response.read()


@pytest.fixture
def riak() -> Iterator[Client]:
    with RiakStandIn() as server:
        yield Client(server.url)


@pytest.fixture
def riak_mult() -> Iterator[Client]:
    with RiakStandIn(allow_mult=True) as server:
        yield Client(server.url)


def put(client: Client, path: str, body: bytes, **headers: str) -> tuple[int, http.client.HTTPMessage, bytes]:
    return client("PUT", path, body, {"Content-Type": "application/json", **headers})


def test_ping_answers_ok(riak: Client) -> None:
    assert riak("GET", "/ping")[::2] == (200, b"OK")


def test_a_missing_key_is_404(riak: Client) -> None:
    assert riak("GET", KEY)[0] == 404


def test_a_stored_value_is_fetched_with_its_content_type_metadata_and_vclock(riak: Client) -> None:
    status, _, _ = put(riak, KEY, b'{"a":1}', **{"X-Riak-Meta-Owner": "alice"})
    assert status == 204
    status, headers, body = riak("GET", KEY)
    assert (status, body) == (200, b'{"a":1}')
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Riak-Meta-Owner"] == "alice"
    assert headers["X-Riak-Vclock"]
    assert headers["ETag"] and headers["Last-Modified"]


def test_a_write_needs_a_content_type(riak: Client) -> None:
    assert riak("PUT", KEY, b"x")[0] == 400


def test_returnbody_answers_like_a_fetch(riak: Client) -> None:
    status, headers, body = put(riak, KEY + "?returnbody=true", b"[1]")
    assert (status, body) == (200, b"[1]")
    assert headers["X-Riak-Vclock"]


def test_delete_is_204_then_404(riak: Client) -> None:
    put(riak, KEY, b"1")
    assert riak("DELETE", KEY)[0] == 204
    assert riak("DELETE", KEY)[0] == 404
    assert riak("GET", KEY)[0] == 404


def test_the_legacy_path_is_the_default_bucket_type(riak: Client) -> None:
    put(riak, "/buckets/b/keys/k", b"1")
    assert riak("GET", KEY)[::2] == (200, b"1")


def test_the_default_type_keeps_the_last_write_without_siblings(riak: Client) -> None:
    put(riak, KEY, b"1")
    put(riak, KEY, b"2")
    assert riak("GET", KEY)[::2] == (200, b"2")


def test_writes_without_the_vclock_make_siblings_when_allow_mult(riak_mult: Client) -> None:
    put(riak_mult, KEY, b"1")
    put(riak_mult, KEY, b"2")
    status, headers, body = riak_mult("GET", KEY)
    assert status == 300
    assert headers["Content-Type"] == "text/plain"
    lines = body.decode().splitlines()
    assert lines[0] == "Siblings:"
    vtags = lines[1:]
    assert len(vtags) == 2
    assert sorted(riak_mult("GET", f"{KEY}?vtag={vtag}")[2] for vtag in vtags) == [b"1", b"2"]


def test_siblings_come_as_multipart_mixed_when_asked(riak_mult: Client) -> None:
    put(riak_mult, KEY, b'"one"', **{"X-Riak-Meta-N": "1"})
    put(riak_mult, KEY, b'"two"')
    status, headers, body = riak_mult("GET", KEY, headers={"Accept": "multipart/mixed, */*;q=0.5"})
    assert status == 300
    content_type = headers["Content-Type"]
    assert content_type.startswith("multipart/mixed; boundary=")
    boundary = content_type.split("boundary=")[1].encode()
    sections = body.split(b"--" + boundary)
    assert sections[-1].strip() == b"--"
    assert [section.rsplit(b"\r\n\r\n", 1)[1].strip() for section in sections[1:-1]] == [b'"one"', b'"two"']
    assert b"X-Riak-Meta-n: 1" in sections[1]


def test_a_write_with_the_current_vclock_resolves_siblings(riak_mult: Client) -> None:
    put(riak_mult, KEY, b"1")
    put(riak_mult, KEY, b"2")
    vclock = riak_mult("GET", KEY)[1]["X-Riak-Vclock"]
    put(riak_mult, KEY, b"3", **{"X-Riak-Vclock": vclock})
    assert riak_mult("GET", KEY)[::2] == (200, b"3")


def test_a_write_with_a_stale_vclock_keeps_the_newer_sibling(riak_mult: Client) -> None:
    put(riak_mult, KEY, b"1")
    stale = riak_mult("GET", KEY)[1]["X-Riak-Vclock"]
    put(riak_mult, KEY, b"2", **{"X-Riak-Vclock": stale})
    put(riak_mult, KEY, b"3", **{"X-Riak-Vclock": stale})
    status, _, body = riak_mult("GET", KEY)
    assert status == 300
    assert len(body.decode().splitlines()) == 3  # "Siblings:" and the vtags of 2 and 3


def test_keys_are_listed_at_once_or_streamed(riak: Client) -> None:
    names = [f"k{index}" for index in range(7)]
    for name in names:
        put(riak, f"/types/default/buckets/b/keys/{name}", b"1")
    put(riak, "/types/default/buckets/other/keys/x", b"1")
    status, _, body = riak("GET", "/types/default/buckets/b/keys?keys=true")
    assert status == 200
    assert sorted(json.loads(body)["keys"]) == names
    status, headers, body = riak("GET", "/types/default/buckets/b/keys?keys=stream")
    assert headers["Transfer-Encoding"] == "chunked"
    documents = body.decode().replace("}{", "}\n{").splitlines()
    assert sorted(key for document in documents for key in json.loads(document)["keys"]) == names


def test_bucket_props_switch_allow_mult(riak: Client) -> None:
    props = "/types/default/buckets/b/props"
    assert json.loads(riak("GET", props)[2])["props"]["allow_mult"] is False
    assert put(riak, props, b'{"props": {"allow_mult": true}}')[0] == 204
    put(riak, KEY, b"1")
    put(riak, KEY, b"2")
    assert riak("GET", KEY)[0] == 300


def test_unknown_paths_are_404(riak: Client) -> None:
    assert riak("GET", "/nothing/here")[0] == 404
