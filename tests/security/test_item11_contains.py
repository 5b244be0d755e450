"""Item 11: ``contains_`` filters mean the same on every backend.

An array element matches a listed value only when it is that value exactly
(as ``eq`` compares): ``contains_tags=[{"k": "v"}]`` does not match
``[{"k": "v", "owner": "x"}]``. PostgreSQL's JSONB containment (``@>``) is
deeper than that, so a plural DELETE with such a filter used to delete more
records there than on memory or SQLite.
"""

from __future__ import annotations

import json

from .conftest import ALICE

RECORDS = "/v1/buckets/b/collections/c/records"


def _seed(app, put):
    put(app, "/buckets/b")
    put(app, "/buckets/b/collections/c")
    put(app, "/buckets/b/collections/c/records/mine", {"tags": [{"k": "v"}], "sizes": [[1, 2]]})
    put(app, "/buckets/b/collections/c/records/theirs", {"tags": [{"k": "v", "owner": "x"}], "sizes": [[1, 2, 3]]})


def _ids(response):
    return sorted(record["id"] for record in response.json["data"])


def test_contains_matches_only_exact_object_elements(app, put):
    _seed(app, put)
    wanted = json.dumps([{"k": "v"}])
    assert _ids(app.get(f"{RECORDS}?contains_tags={wanted}", headers=ALICE)) == ["mine"]
    assert _ids(app.get(f"{RECORDS}?contains_any_tags={wanted}", headers=ALICE)) == ["mine"]


def test_contains_matches_only_exact_array_elements(app, put):
    _seed(app, put)
    wanted = json.dumps([[1, 2]])
    assert _ids(app.get(f"{RECORDS}?contains_sizes={wanted}", headers=ALICE)) == ["mine"]
    assert _ids(app.get(f"{RECORDS}?contains_any_sizes={wanted}", headers=ALICE)) == ["mine"]


def test_plural_delete_with_contains_deletes_only_exact_matches(app, put):
    _seed(app, put)
    wanted = json.dumps([{"k": "v"}])
    deleted = app.delete(f"{RECORDS}?contains_tags={wanted}", headers=ALICE).json["data"]
    assert [record["id"] for record in deleted] == ["mine"]
    assert _ids(app.get(RECORDS, headers=ALICE)) == ["theirs"]
