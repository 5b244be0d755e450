"""Item 1: JSON Schemas stored in the API never make the server fetch anything.

A collection's ``schema`` (and a bucket's ``record:schema``...) may only
reference places inside itself (``#/definitions/x``, ``#anchor``) and name a
known draft in ``$schema``. Remote (``http://``) and file (``file:///``)
references are refused with a 400 when the schema is written; nothing is ever
retrieved, so nothing can be echoed back, read from disk, or hold the write
lock while a remote host does not answer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .conftest import ALICE, assert_error

COLLECTION = "/v1/buckets/b/collections/c"
RECORDS = f"{COLLECTION}/records"
INVALID_PARAMETERS = 107


class RecordingServer:
    """An HTTP server on 127.0.0.1 answering a JSON Schema to every GET, and recording the paths asked."""

    def __init__(self) -> None:
        hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                body = json.dumps({"type": "integer", "internal": "do-not-leak"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.hits = hits
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RecordingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def remote() -> Iterator[RecordingServer]:
    with RecordingServer() as server:
        yield server


@pytest.fixture
def bucket(app, put):
    put(app, "/buckets/b")
    return app


def _put_collection_schema(app, schema):
    return app.put_json(COLLECTION, {"data": {"schema": schema}}, headers=ALICE, expect_errors=True)


def _write_record(app, data):
    return app.post_json(RECORDS, {"data": data}, headers=ALICE, expect_errors=True)


def remote_schemas(url: str) -> dict[str, dict]:
    return {
        "ref": {"type": "object", "properties": {"n": {"$ref": f"{url}/ref"}}},
        "root ref": {"$ref": f"{url}/root"},
        "relative ref against a remote $id": {"$id": f"{url}/base/", "properties": {"n": {"$ref": "relative"}}},
        "dynamic ref": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "properties": {"n": {"$dynamicRef": f"{url}/dynamic"}},
        },
        "ref in a nested subschema": {"items": {"anyOf": [{"$ref": f"{url}/nested#/x"}]}},
    }


@pytest.mark.parametrize("case", list(remote_schemas("http://x")))
def test_remote_references_are_refused_and_never_fetched(bucket, remote, case):
    schema = remote_schemas(remote.url)[case]
    written = _put_collection_schema(bucket, schema)
    _write_record(bucket, {"n": "not an integer"})
    assert remote.hits == []
    body = assert_error(written, 400, INVALID_PARAMETERS)
    assert body["details"][0]["name"] == "data.schema"
    assert "do-not-leak" not in written.text


@pytest.mark.parametrize("field", ["record:schema", "collection:schema", "group:schema"])
def test_remote_references_in_bucket_schemas_are_refused(app, remote, field):
    schema = {"type": "object", "properties": {"n": {"$ref": f"{remote.url}/{field}"}}}
    written = app.put_json("/v1/buckets/b", {"data": {field: schema}}, headers=ALICE, expect_errors=True)
    app.put_json(COLLECTION, {"data": {"n": "x"}}, headers=ALICE, expect_errors=True)
    _write_record(app, {"n": "x"})
    assert remote.hits == []
    assert_error(written, 400, INVALID_PARAMETERS)


@pytest.mark.parametrize("reference", ["file:///etc/hostname", "file:///dev/zero", "/etc/hostname"])
def test_file_references_are_refused_when_the_schema_is_written(bucket, reference):
    written = _put_collection_schema(bucket, {"properties": {"n": {"$ref": reference}}})
    assert_error(written, 400, INVALID_PARAMETERS)
    assert bucket.get(COLLECTION, headers=ALICE, expect_errors=True).status_code == 404


def test_an_unknown_meta_schema_is_refused(bucket, remote):
    written = _put_collection_schema(bucket, {"$schema": f"{remote.url}/meta", "type": "object"})
    _write_record(bucket, {"n": 1})
    assert remote.hits == []
    assert_error(written, 400, INVALID_PARAMETERS)


@pytest.mark.parametrize(
    "meta_schema",
    [
        "http://json-schema.org/draft-07/schema#",
        "http://json-schema.org/draft-04/schema#",
        "https://json-schema.org/draft/2020-12/schema",
    ],
)
def test_known_meta_schemas_are_accepted(bucket, meta_schema):
    written = _put_collection_schema(bucket, {"$schema": meta_schema, "type": "object"})
    assert written.status_code in (200, 201), written.text


def test_references_inside_the_schema_still_work(bucket):
    schema = {
        "definitions": {"positive": {"type": "integer", "minimum": 1}},
        "type": "object",
        "properties": {"n": {"$ref": "#/definitions/positive"}},
    }
    assert _put_collection_schema(bucket, schema).status_code in (200, 201)
    assert _write_record(bucket, {"n": 3}).status_code == 201
    refused = assert_error(_write_record(bucket, {"n": 0}), 400, INVALID_PARAMETERS)
    assert refused["details"][0]["name"] == "n"


def test_anchors_and_defs_of_newer_drafts_still_work(bucket):
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {"word": {"$anchor": "word", "type": "string", "maxLength": 5}},
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/word"}, "b": {"$ref": "#word"}},
    }
    assert _put_collection_schema(bucket, schema).status_code in (200, 201)
    assert _write_record(bucket, {"a": "short", "b": "tiny"}).status_code == 201
    assert_error(_write_record(bucket, {"b": "much too long"}), 400, INVALID_PARAMETERS)


def test_a_property_named_like_a_keyword_is_not_a_reference(bucket):
    schema = {"type": "object", "properties": {"$ref": {"type": "string"}, "$schema": {"type": "string"}}}
    assert _put_collection_schema(bucket, schema).status_code in (200, 201)
    assert _write_record(bucket, {"$ref": "http://example.com/x", "$schema": "x"}).status_code == 201
