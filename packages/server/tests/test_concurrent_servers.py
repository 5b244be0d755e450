"""Several server processes sharing one database (PostgreSQL, or one SQLite file) under concurrent writers.

Two ``kinto start`` processes, each with two workers, serve the same data.
Writers increment one counter with If-Match loops (read, write if unchanged,
retry on 412): every acknowledged update must be in the final value. Other
writers create records concurrently: every acknowledged creation is stored
once, with an id of its own. No request may fail with a 5xx.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from kinto.server.testing import LiveServer

from .test_e2e_client import write_ini

pytestmark = pytest.mark.e2e

AUTH = ("alice", "secret")
WRITERS = 6
INCREMENTS_PER_WRITER = 15
CREATIONS_PER_WRITER = 30
MAX_ATTEMPTS = 400


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def servers(request, tmp_path_factory) -> Iterator[list[LiveServer]]:
    folder = tmp_path_factory.mktemp(f"concurrent-{request.param}")
    ini = write_ini(folder, request.param, database="kinto_server_concurrency_test")
    first = LiveServer(ini=ini, cwd=folder, args=["--workers", "2"]).start()
    try:
        second = LiveServer(ini=ini, cwd=folder, args=["--workers", "2"]).start()
    except Exception:
        first.stop()
        raise
    yield [first, second]
    second.stop()
    first.stop()


def _session() -> requests.Session:
    session = requests.Session()
    session.auth = AUTH
    return session


def _run(workers: list[threading.Thread]) -> None:
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert not any(worker.is_alive() for worker in workers), "a writer did not finish"


@pytest.fixture
def collection(servers) -> str:
    base = servers[0].url
    bucket = f"b-{uuid.uuid4().hex[:8]}"
    session = _session()
    assert session.put(f"{base}/buckets/{bucket}", json={"data": {}}).status_code == 201
    assert session.put(f"{base}/buckets/{bucket}/collections/c", json={"data": {}}).status_code == 201
    return f"/buckets/{bucket}/collections/c/records"


def test_if_match_loops_lose_no_update(servers, collection):
    counter = f"{collection}/counter"
    assert _session().put(servers[0].url + counter, json={"data": {"n": 0}}).status_code == 201
    acknowledged = Counter()
    server_errors = []

    def writer(index: int) -> None:
        session = _session()
        base = servers[index % len(servers)].url
        for _ in range(INCREMENTS_PER_WRITER):
            for _attempt in range(MAX_ATTEMPTS):
                current = session.get(base + counter)
                if current.status_code >= 500:
                    server_errors.append(current.status_code)
                    continue
                value = current.json()["data"]["n"]
                response = session.put(
                    base + counter, json={"data": {"n": value + 1}}, headers={"If-Match": current.headers["ETag"]}
                )
                if response.status_code == 200:
                    acknowledged[index] += 1
                    break
                if response.status_code != 412:
                    server_errors.append(response.status_code)

    _run([threading.Thread(target=writer, args=(index,)) for index in range(WRITERS)])
    final = _session().get(servers[1].url + counter).json()["data"]["n"]
    assert server_errors == []
    assert sum(acknowledged.values()) == WRITERS * INCREMENTS_PER_WRITER
    assert final == sum(acknowledged.values())


def test_concurrent_creations_get_distinct_ids_and_all_persist(servers, collection):
    created: list[str] = []
    failures: list[int] = []
    lock = threading.Lock()

    def writer(index: int) -> None:
        session = _session()
        base = servers[index % len(servers)].url
        for number in range(CREATIONS_PER_WRITER):
            response = session.post(base + collection, json={"data": {"writer": index, "number": number}})
            with lock:
                if response.status_code == 201:
                    created.append(response.json()["data"]["id"])
                else:
                    failures.append(response.status_code)

    _run([threading.Thread(target=writer, args=(index,)) for index in range(WRITERS)])
    assert failures == []
    assert len(created) == len(set(created)) == WRITERS * CREATIONS_PER_WRITER
    response = _session().get(servers[1].url + collection, params={"_limit": 1000})
    stored = [record["id"] for record in response.json()["data"]]
    assert sorted(stored) == sorted(created)
    stamps = [record["last_modified"] for record in response.json()["data"]]
    assert len(stamps) == len(set(stamps)), "timestamps are unique within a collection"


RACERS = 6
RACES = 5


def test_users_racing_to_create_one_bucket_with_if_none_match_lose_with_a_412(servers):
    """As Kinto 26.5.0: every loser of ``PUT /buckets/<new id>`` with ``If-None-Match: *`` gets a 412,
    whichever process served it and whether the winner had committed when it was let in. The 412
    does not show the bucket to those who may not read it (Kinto's does, in ``details.existing``)."""
    for race in range(RACES):
        path = f"/buckets/race-{race}-{uuid.uuid4().hex[:8]}"
        start = threading.Barrier(RACERS)
        answers: dict[int, requests.Response] = {}

        def racer(
            index: int,
            path: str = path,
            start: threading.Barrier = start,
            answers: dict[int, requests.Response] = answers,
        ) -> None:
            session = requests.Session()
            session.auth = (f"racer{index}", "secret")
            start.wait()
            answers[index] = session.put(
                servers[index % len(servers)].url + path, json={"data": {"by": index}}, headers={"If-None-Match": "*"}
            )

        _run([threading.Thread(target=racer, args=(index,)) for index in range(RACERS)])
        statuses = sorted(response.status_code for response in answers.values())
        assert statuses == [201] + [412] * (RACERS - 1), statuses
        [winner] = [index for index, response in answers.items() if response.status_code == 201]
        for index, response in answers.items():
            if index != winner:
                assert (response.json()["errno"], response.json().get("details")) == (114, None)
        session = requests.Session()
        session.auth = (f"racer{winner}", "secret")
        assert session.get(servers[0].url + path).json()["data"]["by"] == winner
