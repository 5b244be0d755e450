"""Round trips to PostgreSQL per request (storage, permission and cache in one database).

Counted from the libpq protocol trace of every pooled connection: each run of messages to the
server, which then answers, is one wait (a pipeline's ``Sync`` and ``Flush`` sent together are one). Statements that need no answer
(BEGIN, savepoints, the collection's lock, ACL writes) travel with the next one. A write reads
what may precede its lock (principals, ACLs, parents, and the object it changes, whose write then
expects the version read) in one round trip, as a read does; the collection's row is then held
over the fewest round trips that follow (``lock_held``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kinto.core.database.postgresql import PostgreSQLClient

from .conftest import ALICE, BOB, CAROL, backend_settings, build_app, userid

psycopg = pytest.importorskip("psycopg")

RECORDS = "/v1/buckets/b/collections/c/records"
_TRACES_LEFT_OPEN: list[Any] = []
_WAIT = re.compile(r"(?:^F\t.*\n)+", re.MULTILINE)
#: A statement sent with the extended protocol (``Parse``), or a script sent as one simple ``Query``.
_STATEMENT = re.compile(r'^F\t\d+\t(?:Parse\t "[^"]*"|Query\t) "(.*)"', re.MULTILINE)


class RoundTrips:
    """Traces every connection the client checks out into one file; ``of(call)`` counts a call's waits."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = path.open("w")
        #: Whether statements are sent by their text every time (``statements_of`` reads them),
        #: instead of by the name psycopg prepares them under: the same waits either way.
        self.readable = False

    def trace(self, connection: Any) -> Any:
        if self.readable:
            connection.prepare_threshold = None
        connection.pgconn.trace(self.file.fileno())
        connection.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE)
        return connection

    def _waits(self, call: Callable[[], Any]) -> list[str]:
        # Past psycopg's prepare threshold (5 runs of one text on a connection) on every pooled
        # connection the calls take turns on: a statement's first prepared run costs one more wait.
        for _ in range(24):
            call()
        start = self.path.stat().st_size
        call()
        with self.path.open() as trace:
            trace.seek(start)
            return _WAIT.findall(trace.read())

    def of(self, call: Callable[[], Any]) -> int:
        return len(self._waits(call))

    def statements_of(self, call: Callable[[], Any]) -> list[str]:
        """The call's round trips, each as the text of its statements (needs ``readable``)."""
        return ["\n".join(_STATEMENT.findall(wait)) for wait in self._waits(call)]


@pytest.fixture
def round_trips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RoundTrips]:
    counter = RoundTrips(tmp_path / "libpq.trace")
    checkout = PostgreSQLClient._checkout
    test_thread = threading.get_ident()

    def traced(client: PostgreSQLClient) -> Any:
        # Only the requests' connections: WebTest serves in the test's thread, while a background
        # thread left by an earlier test (an index build) may check connections out meanwhile.
        connection = checkout(client)
        return counter.trace(connection) if threading.get_ident() == test_thread else connection

    monkeypatch.setattr(PostgreSQLClient, "_checkout", traced)
    yield counter
    # Left open: a pooled connection traced here keeps writing to this descriptor, which a later
    # test's trace file would otherwise reuse (its count would then hold this test's waits).
    _TRACES_LEFT_OPEN.append(counter.file)


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


def test_listing_records_through_a_bucket_permission_takes_two_round_trips(app, round_trips):
    # Principals, ACLs, the parent and the collection's timestamp together; then the page, read
    # once the permission is known (see Resource.page_to_prefetch).
    for i in range(2, 102):  # 101 records: a full page and a next one
        app.put_json(f"{RECORDS}/r{i}", {"data": {"n": i}}, headers=ALICE)
    answers = []

    def listing() -> None:
        answers.append(app.get(f"{RECORDS}?_limit=100", headers=BOB))

    assert round_trips.of(listing) == 2
    assert len(answers[-1].json["data"]) == 100
    # The ETag read ahead is the collection's: the newest record's timestamp.
    assert answers[-1].headers["ETag"] == f'"{answers[-1].json["data"][0]["last_modified"]}"'
    assert "Next-Page" in answers[-1].headers


def test_a_list_of_unbounded_size_is_read_once_the_permission_is_known(app, round_trips):
    # Without _limit a page may hold storage_max_fetch_size objects: never read for a caller who
    # may be refused, it follows the check (principals, ACLs, parent and timestamp still travel together).
    assert round_trips.of(lambda: app.get(RECORDS, headers=BOB)) == 2


def test_a_record_read_by_its_own_acl_and_a_missing_one_still_take_one_round_trip(app, round_trips):
    app.put_json(f"{RECORDS}/mine", {"data": {}, "permissions": {"read": [userid("carol")]}}, headers=ALICE)
    assert round_trips.of(lambda: app.get(f"{RECORDS}/mine", headers=CAROL)) == 1
    assert round_trips.of(lambda: app.get(f"{RECORDS}/missing", headers=BOB, status=404)) == 1


def lock_held(statements: list[str]) -> int:
    """Over how many of a write's round trips its collection's row in ``timestamps`` is held:
    from the first statement touching it (the lock, or the write's timestamp upsert) to COMMIT."""
    touching = [index for index, texts in enumerate(statements) if "timestamps" in texts]
    assert touching and "COMMIT" in statements[-1]
    return len(statements) - touching[0]


@pytest.fixture
def readable(round_trips: RoundTrips) -> RoundTrips:
    round_trips.readable = True
    return round_trips


def test_creating_a_record_takes_three_round_trips_and_locks_only_the_last_two(app, readable):
    # The principals, the ACLs and the parents (with BEGIN); then the write, which takes the
    # collection's timestamp, checks that the id is free and stores the record in one statement;
    # then the record's ACL with COMMIT. Was 7, the lock held over 4.
    statements = readable.statements_of(lambda: app.post_json(RECORDS, {"data": {"n": 1}}, headers=ALICE))
    assert len(statements) == 3
    assert lock_held(statements) == 2


def test_creating_a_record_with_its_id_takes_four_round_trips(app, readable):
    ids = iter(range(100))
    statements = readable.statements_of(
        lambda: app.post_json(RECORDS, {"data": {"id": f"posted{next(ids)}"}}, headers=ALICE, status=201)
    )
    # Reads ahead; the read of the id, unlocked (the create refuses a record created since); the
    # write; the ACL with COMMIT. Was 8 (then 4 with the lock held over 3).
    assert len(statements) == 4
    assert lock_held(statements) == 2


def test_creating_a_record_with_put_takes_three_round_trips(app, readable):
    ids = iter(range(100))
    statements = readable.statements_of(
        lambda: app.put_json(f"{RECORDS}/new{next(ids)}", {"data": {"n": 1}}, headers=ALICE, status=201)
    )
    # Reads ahead, the record's absence with them; the create, which refuses a record created
    # meanwhile (then the lock, a read and the write again); the ACL with COMMIT. Was 8, then 4.
    assert len(statements) == 3
    assert lock_held(statements) == 2


@pytest.mark.parametrize("method", ["put_json", "patch_json"])
def test_a_conditional_replace_or_patch_takes_three_round_trips(app, readable, method):
    etag = {"value": app.get(f"{RECORDS}/r1", headers=ALICE).headers["ETag"]}
    values = iter(range(100))

    def write() -> None:
        body = {"data": {"n": next(values)}}
        answer = getattr(app, method)(f"{RECORDS}/r1", body, headers={**ALICE, "If-Match": etag["value"]})
        etag["value"] = answer.headers["ETag"]

    # Reads ahead, the version to check with them; the write, only over that version; COMMIT.
    # Was 7, then 4 (the lock with the read of the version).
    statements = readable.statements_of(write)
    assert len(statements) == 3
    assert lock_held(statements) == 2
    assert "objects.last_modified = " in statements[1]  # the write expects the version read


def test_deleting_a_record_takes_three_round_trips(app, readable):
    for i in range(25):
        app.put_json(f"{RECORDS}/gone{i}", {"data": {}}, headers=ALICE)
    ids = iter(range(25))
    statements = readable.statements_of(lambda: app.delete(f"{RECORDS}/gone{next(ids)}", headers=ALICE))
    assert len(statements) == 3  # was 7, then 4
    assert lock_held(statements) == 2


def test_a_batch_of_25_creates_is_written_with_multi_row_statements(app, readable):
    body = {
        "defaults": {"method": "POST", "path": RECORDS},
        "requests": [{"body": {"data": {"n": i}}} for i in range(25)],
    }
    answers = []

    def batch() -> None:
        answers.append(app.post_json("/v1/batch", body, headers=ALICE).json)

    # One sub-request serves the run: the principals, the ACLs and the parent together; the
    # existence check of the drawn ids; the collection's timestamp, which locks it; then the
    # objects and their ACLs in one statement each, with COMMIT. Was 127, then 7 (lock held over 3).
    statements = readable.statements_of(batch)
    assert len(statements) == 4
    assert lock_held(statements) == 2
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
