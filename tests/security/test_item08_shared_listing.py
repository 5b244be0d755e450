"""Item 8: a user with 100,000 records shared one by one lists them, on every backend.

The ids a user may read one by one become one ``in`` filter on the listing. It
used to be a chain of ``id = ?`` ORs, one per id: beyond ~1,000 shared records
SQLite answered 503 ("Expression tree is too large"). Now the ids travel as one
parameter (SQLite: a JSON array unpacked by ``json_each``; PostgreSQL: an array
compared with ``= ANY``).

Seeding 100,000 records and permissions through HTTP would take minutes: the
test seeds through the memory backends' Python API, or in a few bulk statements
on the SQL backends' tables, then lists through HTTP.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .conftest import ALICE, BOB, userid

SHARED = 100_000
COLLECTION = "/buckets/b/collections/c"
RECORDS = f"{COLLECTION}/records"


def record_id(index: int) -> str:
    return f"r{index:06d}"


def seed_memory(registry: Any, reader: str) -> None:
    for index in range(SHARED):
        registry.storage.update("record", COLLECTION, record_id(index), {"n": index})
        registry.permission.add_principal_to_ace(f"{RECORDS}/{record_id(index)}", "read", reader)


#: The same rows as ``seed_memory``, written by a few statements: (SQL, parameters) per step.
BULK_SQL = {
    "sqlite": [
        (
            "INSERT INTO objects (parent_id, resource_name, id, last_modified, deleted, data)"
            " WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :count - 1)"
            " SELECT :parent, 'record', printf('r%06d', i), :base + i + 1, FALSE, json_object('n', i) FROM n"
        ),
        ("UPDATE timestamps SET last_modified = :base + :count WHERE parent_id = :parent AND resource_name = 'record'"),
        (
            "INSERT INTO access_control_entries (object_id, permission, principal)"
            " WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :count - 1)"
            " SELECT :records || printf('r%06d', i), 'read', :reader FROM n"
        ),
    ],
    "postgresql": [
        (
            "INSERT INTO objects (parent_id, resource_name, id, last_modified, deleted, data)"
            " SELECT %(parent)s, 'record', 'r' || lpad(i::text, 6, '0'), %(base)s + i + 1, FALSE,"
            " jsonb_build_object('n', i) FROM generate_series(0, %(count)s - 1) AS i"
        ),
        (
            "UPDATE timestamps SET last_modified = %(base)s + %(count)s"
            " WHERE parent_id = %(parent)s AND resource_name = 'record'"
        ),
        (
            "INSERT INTO access_control_entries (object_id, permission, principal)"
            " SELECT %(records)s || 'r' || lpad(i::text, 6, '0'), 'read', %(reader)s"
            " FROM generate_series(0, %(count)s - 1) AS i"
        ),
        "ANALYZE objects",
        "ANALYZE access_control_entries",
    ],
}


def seed_in_bulk(registry: Any, backend: str, reader: str) -> None:
    base = registry.storage.resource_timestamp("record", COLLECTION)
    params = {"parent": COLLECTION, "records": f"{RECORDS}/", "reader": reader, "base": base, "count": SHARED}
    with registry.storage.client.connect() as connection:
        for statement in BULK_SQL[backend]:
            connection.execute(statement, params if "%(" in statement or ":" in statement else ())


def list_every_page(app: Any, headers: dict[str, str]) -> list[str]:
    ids: list[str] = []
    url = f"/v1{RECORDS}"
    while url:
        response = app.get(url, headers=headers)
        ids.extend(record["id"] for record in response.json["data"])
        next_page = response.headers.get("Next-Page")
        url = None
        if next_page:
            parts = urlsplit(next_page)
            url = f"{parts.path}?{parts.query}"
    return ids


def test_a_reader_of_a_hundred_thousand_records_shared_one_by_one_lists_them_all(app, put, backend):
    put(app, "/buckets/b")
    put(app, COLLECTION)
    for private in ("private-1", "private-2"):
        put(app, f"{RECORDS}/{private}")
    if backend == "memory":
        seed_memory(app.app.registry, userid("bob"))
    else:
        seed_in_bulk(app.app.registry, backend, userid("bob"))

    head = app.head(f"/v1{RECORDS}", headers=BOB)
    assert head.headers["Total-Records"] == str(SHARED)
    listed = list_every_page(app, BOB)
    assert len(listed) == SHARED
    assert set(listed) == {record_id(index) for index in range(SHARED)}

    filtered = app.get(f"/v1{RECORDS}?n=99999", headers=BOB).json["data"]
    assert [record["id"] for record in filtered] == [record_id(99_999)]
    owner_sees = app.head(f"/v1{RECORDS}", headers=ALICE).headers["Total-Records"]
    assert owner_sees == str(SHARED + 2)
