"""The HTTP client: Riak's answers parsed as documented (siblings, key streams, tombstones)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from riak_helpers import TEST_TIMEOUTS

from kinto_riak.kv import RiakError, RiakKV, _parse_siblings
from kinto_riak.testing import RiakStandIn

# A 300 answer shaped like the examples of Riak's "HTTP Fetch Object" documentation:
# parts with Link, Etag, Last-Modified and metadata headers, CRLF line ends.
SIBLINGS_BODY = (
    b"\r\n--Zy9vAhwkmkYGSpJd3rB8tWbOj6f\r\n"
    b"Content-Type: application/json\r\n"
    b'Link: </buckets/test>; rel="up"\r\n'
    b"Etag: 16vic4eU9ny46o4KPiDz1f\r\n"
    b"Last-Modified: Wed, 10 Mar 2010 18:01:06 GMT\r\n"
    b"X-Riak-Meta-Origin: web1\r\n"
    b"\r\n"
    b'{"bar":"baz"}\r\n'
    b"--Zy9vAhwkmkYGSpJd3rB8tWbOj6f\r\n"
    b"Content-Type: application/json\r\n"
    b'Link: </buckets/test>; rel="up"\r\n'
    b"Etag: 4v5xOg4bVwUYZdMkqf0d6I\r\n"
    b"Last-Modified: Wed, 10 Mar 2010 18:00:04 GMT\r\n"
    b"\r\n"
    b'{"bar":"qux"}\r\n'
    b"--Zy9vAhwkmkYGSpJd3rB8tWbOj6f\r\n"
    b"Content-Type: application/json\r\n"
    b"X-Riak-Deleted: true\r\n"
    b"Last-Modified: Wed, 10 Mar 2010 18:02:00 GMT\r\n"
    b"\r\n"
    b"\r\n"
    b"--Zy9vAhwkmkYGSpJd3rB8tWbOj6f--\r\n"
)


def test_multipart_siblings_are_parsed_with_their_headers() -> None:
    siblings = _parse_siblings("multipart/mixed; boundary=Zy9vAhwkmkYGSpJd3rB8tWbOj6f", SIBLINGS_BODY)
    assert [sibling.body for sibling in siblings] == [b'{"bar":"baz"}', b'{"bar":"qux"}', b""]
    assert siblings[0].metadata == {"origin": "web1"}
    assert siblings[0].content_type == "application/json"
    assert siblings[0].last_modified - siblings[1].last_modified == 62
    assert [sibling.deleted for sibling in siblings] == [False, False, True]


def test_a_sibling_answer_that_is_not_multipart_is_an_error() -> None:
    with pytest.raises(RiakError):
        _parse_siblings("text/plain", b"Siblings:\nabc\n")


class FakeStream:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def stream(self, amount: int, decode_content: bool) -> Iterator[bytes]:
        yield from self.chunks


def test_streamed_keys_are_read_across_chunk_boundaries() -> None:
    chunks = [b'{"keys":["a","b"]}{"ke', b'ys":[]}', b'{"keys":["c"]}', b'{"keys":["d"', b"]}"]
    assert list(RiakKV._streamed_keys(FakeStream(chunks))) == ["a", "b", "c", "d"]  # type: ignore[arg-type]


def test_a_key_stream_cut_in_the_middle_is_an_error() -> None:
    with pytest.raises(RiakError):
        list(RiakKV._streamed_keys(FakeStream([b'{"keys":["a"]}{"keys":['])))  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["riak.example:8098", "ftp://riak.example", "http://"])
def test_a_url_that_is_not_http_is_refused(url: str) -> None:
    with pytest.raises(ValueError):
        RiakKV(url, "default", "cache")


def test_a_path_in_the_url_prefixes_every_request(standin: RiakStandIn) -> None:
    kv = RiakKV(standin.url + "/riak/", "default", "cache", timeouts=TEST_TIMEOUTS)
    # The stand-in serves at the root, so a prefixed path is a 404 for ping and keys alike.
    assert kv.ping() is False
    with pytest.raises(RiakError, match="404"):
        kv.list_keys()


def test_store_fetch_and_delete_with_metadata(standin: RiakStandIn) -> None:
    kv = RiakKV(standin.url, "default", "cache", timeouts=TEST_TIMEOUTS)
    stored = kv.store("k", b"[1]", metadata={"Writer": "tests"})
    assert stored.found and stored.vclock
    fetched = kv.fetch("k")
    assert [sibling.body for sibling in fetched.siblings] == [b"[1]"]
    assert fetched.siblings[0].metadata == {"writer": "tests"}
    assert kv.delete("k", vclock=fetched.vclock) is True
    assert kv.delete("k") is False
    assert kv.fetch("k").found is False


def test_keys_with_reserved_url_characters_reach_riak_intact(standin: RiakStandIn) -> None:
    kv = RiakKV(standin.url, "my type", "my/bucket", timeouts=TEST_TIMEOUTS)
    kv.store("a/b?c#d e", b"1")
    assert standin.keys("my type", "my/bucket") == ["a/b?c#d e"]
    assert kv.list_keys() == ["a/b?c#d e"]


@given(
    bodies=st.lists(st.binary(max_size=60).filter(lambda body: b"--" not in body), min_size=1, max_size=4),
    quoted=st.booleans(),
)
def test_any_sibling_bodies_survive_the_multipart_reader(bodies: list[bytes], quoted: bool) -> None:
    boundary = "QPa8f3Zu"
    sections = b"".join(
        b"--%s\r\nContent-Type: application/json\r\nX-Riak-Meta-Index: %d\r\n\r\n%s\r\n"
        % (boundary.encode(), index, body)
        for index, body in enumerate(bodies)
    )
    document = b"preamble\r\n" + sections + b"--%s--\r\n" % boundary.encode()
    header = f'multipart/mixed; boundary="{boundary}"' if quoted else f"multipart/mixed; boundary={boundary}"
    siblings = _parse_siblings(header, document)
    assert [sibling.body for sibling in siblings] == bodies
    assert [sibling.metadata["index"] for sibling in siblings] == [str(index) for index in range(len(bodies))]
