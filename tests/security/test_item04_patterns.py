"""Item 4: patterns clients write run in time linear in the text they are matched against.

``like_`` filters (``/v1/permissions`` always filters on a memory model),
JSON Schema ``pattern``/``patternProperties``, and the embedded indexer's
``wildcard``, ``regexp`` and query-string wildcards used to run on Python's
backtracking ``re``: one request could burn minutes of CPU holding the GIL
(and, for schemas, the write lock). Each slow case below backtracks for hours
on such an engine; a live server must answer it within ``ANSWER_WITHIN``
seconds. Regular expressions RE2 cannot run (backreferences, lookarounds) or
that are too long are refused with a 400 when they are written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kinto.server.testing import LiveServer

from .conftest import ALICE, SECRET, assert_error

#: Generous: every case answers in milliseconds on a linear engine and takes hours on a backtracking one.
ANSWER_WITHIN = 20
INVALID_PARAMETERS = 107
#: Backtracks over C(len(text), 8) ways on ``.*a.*a...b``-style translations.
STARS = "*a" * 8 + "*b"
LONG_A = "a" * 300

INI = f"""
[app:main]
use = egg:kinto
kinto.storage_backend = kinto.core.storage.memory
kinto.permission_backend = kinto.core.permission.memory
kinto.cache_backend = kinto.core.cache.memory
multiauth.policies = basicauth
kinto.userid_hmac_secret = {SECRET}
kinto.bucket_create_principals = system.Authenticated
kinto.experimental_permissions_endpoint = true
kinto.experimental_collection_schema_validation = true
kinto.includes = kinto_elasticsearch
kinto.indexing_backend = kinto_elasticsearch.embedded
"""


class Client:
    """Requests to a live server as alice, each bounded by ``ANSWER_WITHIN`` seconds."""

    def __init__(self, server: LiveServer) -> None:
        self.url = server.url
        self.session = requests.Session()
        self.session.headers.update(ALICE)

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            return self.session.request(method, self.url + path, timeout=ANSWER_WITHIN, **kwargs)
        except requests.Timeout:
            pytest.fail(f"{method} {path} did not answer within {ANSWER_WITHIN}s (backtracking pattern engine?)")

    def put(self, path: str, data=None, **extra) -> requests.Response:
        response = self.request("PUT", path, json={"data": data or {}, **extra})
        assert response.status_code in (200, 201), response.text
        return response


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    folder: Path = tmp_path_factory.mktemp("item04")
    ini = folder / "kinto.ini"
    ini.write_text(INI)
    with LiveServer(ini=ini, cwd=folder, args=["--workers", "1"]) as server:
        client = Client(server)
        client.put("/buckets/b")
        client.put("/buckets/b/collections/c")
        yield client


def test_like_filter_on_the_permissions_endpoint_is_linear(live):
    long_id = "a" * 60
    live.put(f"/buckets/{long_id}")
    live.put(f"/buckets/{long_id}/collections/{long_id}")
    live.put(f"/buckets/{long_id}/collections/{long_id}/records/{long_id}")
    answered = live.request("GET", f"/permissions?like_uri={STARS}")
    assert answered.status_code == 200, answered.text
    assert answered.json()["data"] == []
    found = live.request("GET", "/permissions?like_uri=*a*a*a*/records/*a").json()["data"]
    assert [entry["uri"] for entry in found] == [f"/buckets/{long_id}/collections/{long_id}/records/{long_id}"]


def test_like_filter_on_records_is_linear(live):
    live.put("/buckets/b/collections/c/records/long", {"title": LONG_A})
    answered = live.request("GET", f"/buckets/b/collections/c/records?like_title={STARS}")
    assert answered.status_code == 200, answered.text
    assert answered.json()["data"] == []
    found = live.request("GET", "/buckets/b/collections/c/records?like_title=A*A").json()["data"]
    assert [record["id"] for record in found] == ["long"]


def _collection_with_schema(live: Client, name: str, schema: dict) -> str:
    live.put(f"/buckets/b/collections/{name}", {"schema": schema})
    return f"/buckets/b/collections/{name}/records"


def test_schema_pattern_is_linear(live):
    records = _collection_with_schema(
        live,
        "pattern",
        {
            "type": "object",
            "properties": {"t": {"type": "string", "pattern": "^(a+)+$"}},
        },
    )
    refused = live.request("POST", records, json={"data": {"t": "a" * 60 + "!"}})
    assert refused.status_code == 400, refused.text
    accepted = live.request("POST", records, json={"data": {"t": "a" * 60}})
    assert accepted.status_code == 201, accepted.text


def test_schema_pattern_properties_are_linear(live):
    records = _collection_with_schema(
        live,
        "pattern-properties",
        {
            "type": "object",
            "patternProperties": {"^(a+)+$": {"type": "integer"}},
            "additionalProperties": {"type": "string"},
        },
    )
    key = "a" * 60 + "!"
    accepted = live.request("POST", records, json={"data": {key: "not matched, so a string"}})
    assert accepted.status_code == 201, accepted.text
    refused = live.request("POST", records, json={"data": {"a" * 60: "matched, so an integer"}})
    assert refused.status_code == 400, refused.text


def test_schema_closed_by_pattern_properties_is_linear(live):
    records = _collection_with_schema(
        live,
        "closed",
        {
            "type": "object",
            "patternProperties": {"^(a+)+$": {}},
            "additionalProperties": False,
        },
    )
    refused = live.request("POST", records, json={"data": {"a" * 60 + "!": 1}})
    assert refused.status_code == 400, refused.text
    assert live.request("POST", records, json={"data": {"aaa": 1}}).status_code == 201


@pytest.fixture(scope="module")
def indexed(live):
    live.put("/buckets/b/collections/search")
    live.put("/buckets/b/collections/search/records/long", {"title": LONG_A, "word": "hello"})
    return "/buckets/b/collections/search/search"


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"wildcard": {"title": STARS}}, []),
        ({"wildcard": {"title": "a*a?"}}, ["long"]),
        ({"regexp": {"title": "(a+)+b"}}, []),
        ({"regexp": {"title": "(a+)+"}}, ["long"]),
        ({"regexp": {"word": "h.*o"}}, ["long"]),
    ],
)
def test_search_patterns_are_linear(live, indexed, query, expected):
    answered = live.request("POST", indexed, json={"query": query})
    assert answered.status_code == 200, answered.text
    assert [hit["_id"] for hit in answered.json()["hits"]["hits"]] == expected


def test_search_query_string_wildcards_are_linear(live, indexed):
    answered = live.request("GET", f"{indexed}?q={STARS}")
    assert answered.status_code == 200, answered.text
    assert answered.json()["hits"]["hits"] == []
    found = live.request("GET", f"{indexed}?q=title:a*a").json()["hits"]["hits"]
    assert [hit["_id"] for hit in found] == ["long"]


def test_search_regexp_unsupported_by_a_linear_engine_is_refused(live, indexed):
    answered = live.request("POST", indexed, json={"query": {"regexp": {"title": "(a)\\1"}}})
    assert answered.status_code == 400, answered.text


# --- patterns refused when the schema is written (through WebTest, on every backend) -----------------


@pytest.mark.parametrize("pattern", ["(a)\\1", "(?=a)b", "(?<!a)b", "a" * 1001])
@pytest.mark.parametrize("where", ["pattern", "patternProperties"])
def test_schema_patterns_a_linear_engine_cannot_run_are_refused(app, put, pattern, where):
    put(app, "/buckets/b")
    if where == "pattern":
        schema = {"type": "object", "properties": {"t": {"type": "string", "pattern": pattern}}}
    else:
        schema = {"type": "object", "patternProperties": {pattern: {"type": "string"}}}
    written = app.put_json(
        "/v1/buckets/b/collections/c", {"data": {"schema": schema}}, headers=ALICE, expect_errors=True
    )
    body = assert_error(written, 400, INVALID_PARAMETERS)
    assert body["details"][0]["name"] == "data.schema"


def test_bucket_record_schema_patterns_are_checked_too(app):
    schema = {"type": "object", "properties": {"t": {"type": "string", "pattern": "(a)\\1"}}}
    written = app.put_json("/v1/buckets/b", {"data": {"record:schema": schema}}, headers=ALICE, expect_errors=True)
    assert_error(written, 400, INVALID_PARAMETERS)


def test_a_property_named_pattern_is_not_a_pattern(app, put):
    put(app, "/buckets/b")
    schema = {"type": "object", "properties": {"pattern": {"type": "string"}}}
    put(app, "/buckets/b/collections/c", {"schema": schema})
    created = app.post_json("/v1/buckets/b/collections/c/records", {"data": {"pattern": "(a)\\1"}}, headers=ALICE)
    assert created.status_code == 201
    assert json.loads(created.text)["data"]["pattern"] == "(a)\\1"
