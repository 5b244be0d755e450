"""Round trips to PostgreSQL per request (storage, permission and cache in one database).

Counted from the libpq protocol trace of every pooled connection: each run of messages to the
server, which then answers, is one wait (a pipeline's ``Sync`` and ``Flush`` sent together are one). Statements that need no answer
(BEGIN, savepoints, the collection's lock, ACL writes) travel with the next one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kinto.core.database.postgresql import PostgreSQLClient

from .conftest import ALICE, BOB, CAROL, backend_settings, build_app, userid

psycopg = pytest.importorskip("psycopg")

RECORDS = "/v1/buckets/b/collections/c/records"
_WAIT = re.compile(r"(?:^F\t.*\n)+", re.MULTILINE)


class RoundTrips:
    """Traces every connection the client checks out into one file; ``of(call)`` counts a call's waits."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = path.open("w")

    def trace(self, connection: Any) -> Any:
        connection.pgconn.trace(self.file.fileno())
        connection.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE)
        return connection

    def of(self, call: Callable[[], Any]) -> int:
        for _ in range(6):  # past psycopg's prepare threshold: a statement's first runs cost one more
            call()
        start = self.path.stat().st_size
        call()
        with self.path.open() as trace:
            trace.seek(start)
            return len(_WAIT.findall(trace.read()))


@pytest.fixture
def round_trips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RoundTrips]:
    counter = RoundTrips(tmp_path / "libpq.trace")
    checkout = PostgreSQLClient._checkout
    monkeypatch.setattr(PostgreSQLClient, "_checkout", lambda client: counter.trace(checkout(client)))
    yield counter
    counter.file.close()


@pytest.fixture
def app(round_trips: RoundTrips) -> Any:
    app = build_app(backend_settings("postgresql", None))
    for kind in ("storage", "permission", "cache"):
        getattr(app.app.registry, kind).flush()
    app.put_json("/v1/buckets/b", {"permissions": {"read": [userid("bob")]}}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE)
    app.put_json(f"{RECORDS}/r1", {"data": {"n": 0}}, headers=ALICE)
    return app


def test_reading_a_record_through_a_bucket_permission_takes_one_round_trip(app, round_trips):
    # The principals, the ACLs of the record and its parents, the collection and the record
    # travel together; the read runs in autocommit, so no COMMIT follows.
    assert round_trips.of(lambda: app.get(f"{RECORDS}/r1", headers=BOB)) == 1


def test_listing_records_through_a_bucket_permission_takes_three_round_trips(app, round_trips):
    # Principals, ACLs and the parent together; then the collection's timestamp; then the page,
    # read once the permission is known (see Resource.page_to_prefetch).
    for i in range(2, 102):  # 101 records: a full page and a next one
        app.put_json(f"{RECORDS}/r{i}", {"data": {"n": i}}, headers=ALICE)
    answers = []

    def listing() -> None:
        answers.append(app.get(f"{RECORDS}?_limit=100", headers=BOB))

    assert round_trips.of(listing) == 3
    assert len(answers[-1].json["data"]) == 100
    assert "Next-Page" in answers[-1].headers


def test_a_list_of_unbounded_size_is_read_once_the_permission_is_known(app, round_trips):
    # Without _limit a page may hold storage_max_fetch_size objects: never read for a caller who
    # may be refused, it follows the check (principals, ACLs and parent still travel together).
    assert round_trips.of(lambda: app.get(RECORDS, headers=BOB)) == 3


def test_a_record_read_by_its_own_acl_and_a_missing_one_still_take_one_round_trip(app, round_trips):
    app.put_json(f"{RECORDS}/mine", {"data": {}, "permissions": {"read": [userid("carol")]}}, headers=ALICE)
    assert round_trips.of(lambda: app.get(f"{RECORDS}/mine", headers=CAROL)) == 1
    assert round_trips.of(lambda: app.get(f"{RECORDS}/missing", headers=BOB, status=404)) == 1


def test_creating_a_record_takes_at_most_seven_round_trips(app, round_trips):
    # BEGIN rides with the first read, the lock with the existence check, the ACL with COMMIT.
    assert round_trips.of(lambda: app.post_json(RECORDS, {"data": {"n": 1}}, headers=ALICE)) <= 7


def test_a_conditional_patch_takes_at_most_seven_round_trips(app, round_trips):
    etag = {"value": app.get(f"{RECORDS}/r1", headers=ALICE).headers["ETag"]}

    def patch() -> None:
        answer = app.patch_json(f"{RECORDS}/r1", {"data": {"n": 2}}, headers={**ALICE, "If-Match": etag["value"]})
        etag["value"] = answer.headers["ETag"]

    assert round_trips.of(patch) <= 7


def test_a_batch_of_25_creates_is_written_with_multi_row_statements(app, round_trips):
    body = {
        "defaults": {"method": "POST", "path": RECORDS},
        "requests": [{"body": {"data": {"n": i}}} for i in range(25)],
    }
    answers = []

    def batch() -> None:
        answers.append(app.post_json("/v1/batch", body, headers=ALICE).json)

    # One sub-request serves the run: the permission and the parent once, the existence check, the
    # collection's timestamp, then the objects and their ACLs in one statement each. Was 127.
    assert round_trips.of(batch) <= 10
    assert [response["status"] for response in answers[-1]["responses"]] == [201] * 25


def test_a_failing_sub_request_is_undone_alone_with_deferred_savepoints(app, round_trips):
    body = {
        "requests": [
            {"method": "PUT", "path": "/buckets/b/collections/c/records/ok1", "body": {"data": {"n": 1}}},
            {"method": "PUT", "path": "/buckets/b/collections/missing/records/x", "body": {"data": {}}},
            {"method": "POST", "path": RECORDS, "body": {"data": "not an object"}},
            {"method": "PUT", "path": "/buckets/b/collections/c/records/ok2", "body": {"data": {"n": 2}}},
        ]
    }
    answer = app.post_json("/v1/batch", body, headers=ALICE).json
    assert [response["status"] for response in answer["responses"]] == [201, 404, 400, 201]
    listed = app.get(RECORDS, headers=ALICE).json["data"]
    assert {"ok1", "ok2"} <= {record["id"] for record in listed}
