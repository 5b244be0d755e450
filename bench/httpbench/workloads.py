"""The HTTP workloads: the same requests, data and checks for every server.

Every request carries basic auth (user ``bench``), except ``get-anonymous``, which reads the same
records with no ``Authorization`` header (the collection grants ``read`` to ``system.Everyone``).
Before a server is measured on a workload, one probe request checks that it answers what the
workload claims to measure (status, number of records, sort order...).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .client import AUTHORIZATION, Client, ProbeFailed

BUCKET = "bench"
ITEMS = "items"  # the listed collection: `record_count` records, frozen once seeded
CREATED = "created"  # POST target
# Not "batched": Kinto 26.5.0 rejects any batch whose sub-request path contains "/batch" as recursive.
BATCHED = "bulk"  # batch target
PATCHED = "patched"  # the PATCH pool
PATCH_POOL = 64
SINCE_COUNT = 10
BATCH_SIZE = 25
FRESH = "__COLLECTION__"  # replaced by lua/fresh_collection.lua with a collection created for the run
ID_TEMPLATE = "r%07d"
BUCKET_PATH = f"/v1/buckets/{BUCKET}"


def collection_path(collection: str) -> str:
    return f"{BUCKET_PATH}/collections/{collection}/records"


def document(index: int, rng: random.Random) -> dict[str, Any]:
    """A record's data: the same shape as the storage benchmark's (bench/backends.py)."""
    return {
        "title": f"object number {index}",
        "category": f"c{index % 20}",
        "score": rng.randint(0, 1_000_000),
        "tags": [f"t{index % 7}", f"t{index % 11}"],
        "nested": {"level": index % 5},
    }


CREATED_DATA = document(1, random.Random(1))


@dataclass(frozen=True)
class Dataset:
    """What seeding left on a server, which some workloads need to address."""

    record_count: int
    since_timestamp: int


def seed(client: Client, record_count: int) -> Dataset:
    """Create the bucket, the collections and ``record_count`` records through the HTTP API (batches of 25)."""
    client.expect(201, "PUT", BUCKET_PATH, {"data": {}})
    everyone_reads = {"data": {}, "permissions": {"read": ["system.Everyone"]}}
    client.expect(201, "PUT", f"{BUCKET_PATH}/collections/{ITEMS}", everyone_reads)
    for collection in (CREATED, BATCHED, PATCHED):
        client.expect(201, "PUT", f"{BUCKET_PATH}/collections/{collection}", {"data": {}})
    rng = random.Random(record_count)
    items = [(ITEMS, ID_TEMPLATE % index, document(index, rng)) for index in range(record_count)]
    pool = [(PATCHED, f"p{index:04d}", document(index, rng)) for index in range(PATCH_POOL)]
    _put_in_batches(client, items + pool)
    newest = client.expect(200, "GET", f"{collection_path(ITEMS)}?_sort=-last_modified&_limit={SINCE_COUNT + 1}")
    return Dataset(record_count=record_count, since_timestamp=newest["data"][SINCE_COUNT]["last_modified"])


def _put_in_batches(client: Client, records: list[tuple[str, str, dict[str, Any]]]) -> None:
    for start in range(0, len(records), BATCH_SIZE):
        requests = [
            {
                "method": "PUT",
                "path": f"/buckets/{BUCKET}/collections/{collection}/records/{id_}",
                "body": {"data": data},
            }
            for collection, id_, data in records[start : start + BATCH_SIZE]
        ]
        answer = client.expect(200, "POST", "/v1/batch", {"requests": requests})
        statuses = {response["status"] for response in answer["responses"]}
        if statuses != {201}:
            raise ProbeFailed(f"seeding batch answered {statuses}")


Probe = Callable[[Client, Dataset], None]
Prepare = Callable[[Client, Path], list[str]]


@dataclass(frozen=True)
class Workload:
    """One kind of request, as wrk sends it, and how to check a server answers it as intended."""

    name: str
    description: str
    method: str
    path: str
    probe: Probe
    body: str | None = None
    authenticated: bool = True
    lua: tuple[str, ...] = ()  # scripts of bench/lua/ that build each request; none: the fixed request above
    count_statuses: bool = False  # have wrk read every answer and count statuses (writes: failures have causes)
    params: dict[str, str | int] = field(default_factory=dict)
    prepare: Prepare | None = None  # writes a data file for the script just before each wrk run
    database_operation: tuple[str, int] | None = None  # ("insert", n): n inserts per request, for the DB ceiling

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"} if self.body else {}
        if self.authenticated:
            headers["Authorization"] = AUTHORIZATION
        return headers


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ProbeFailed(message)


def _probe_create(client: Client, dataset: Dataset) -> None:
    created = client.expect(201, "POST", collection_path(CREATED), {"data": CREATED_DATA})
    _check(created["data"]["title"] == CREATED_DATA["title"], "create: record not echoed")


def _probe_get(client: Client, dataset: Dataset) -> None:
    record_id = ID_TEMPLATE % (dataset.record_count // 2)
    record = client.expect(200, "GET", f"{collection_path(ITEMS)}/{record_id}")
    _check(record["data"]["id"] == record_id, "get: wrong record")


def _probe_list(client: Client, dataset: Dataset) -> None:
    page = client.expect(200, "GET", f"{collection_path(ITEMS)}?_limit=100")
    _check(len(page["data"]) == min(100, dataset.record_count), f"list: {len(page['data'])} records")


def _probe_filter_sort(client: Client, dataset: Dataset) -> None:
    page = client.expect(200, "GET", f"{collection_path(ITEMS)}?category=c3&_sort=-score&_limit=10")["data"]
    scores = [record["score"] for record in page]
    _check(len(page) == 10, f"filter-sort: {len(page)} records")
    _check(all(record["category"] == "c3" for record in page), "filter-sort: filter ignored")
    _check(scores == sorted(scores, reverse=True), "filter-sort: not sorted")


def _probe_since(client: Client, dataset: Dataset) -> None:
    page = client.expect(200, "GET", f"{collection_path(ITEMS)}?_since={dataset.since_timestamp}&_sort=-last_modified")
    _check(len(page["data"]) == SINCE_COUNT, f"since: {len(page['data'])} records, expected {SINCE_COUNT}")


def _probe_patch(client: Client, dataset: Dataset) -> None:
    path = f"{collection_path(PATCHED)}/p0000"
    response = client.request("GET", path)
    etag = response.headers["etag"]
    client.expect(200, "PATCH", path, {"data": {"score": 1}}, headers={"If-Match": etag})
    client.expect(412, "PATCH", path, {"data": {"score": 2}}, headers={"If-Match": etag})


def _prepare_patch(client: Client, folder: Path) -> list[str]:
    lines = []
    for index in range(PATCH_POOL):
        record = client.expect(200, "GET", f"{collection_path(PATCHED)}/p{index:04d}")
        lines.append(f"{record['data']['id']} {record['data']['last_modified']}")
    pool = folder / "patch-pool.txt"
    pool.write_text("\n".join(lines) + "\n")
    return [str(pool)]


def _prepare_fresh_collection(client: Client, folder: Path) -> list[str]:
    """Create an empty collection for one run's writes; its name is the script's argument."""
    name = f"w{time.time_ns()}"
    client.expect(201, "PUT", f"{BUCKET_PATH}/collections/{name}", {"data": {}})
    return [name]


def _probe_batch(client: Client, dataset: Dataset) -> None:
    answer = client.expect(200, "POST", "/v1/batch", json.loads(BATCH_BODY))
    statuses = [response["status"] for response in answer["responses"]]
    _check(statuses == [201] * BATCH_SIZE, f"batch: sub-responses {statuses}")


def _probe_anonymous(client: Client, dataset: Dataset) -> None:
    anonymous = Client(client.port, authenticated=False)
    try:
        _probe_get(anonymous, dataset)
    finally:
        anonymous.close()


# Each sub-request spelled out, as kinto-http sends them.
BATCH_BODY = json.dumps(
    {
        "requests": [
            {
                "method": "POST",
                "path": f"/buckets/{BUCKET}/collections/{BATCHED}/records",
                "body": {"data": CREATED_DATA},
            }
        ]
        * BATCH_SIZE
    }
)


def build_workloads(dataset: Dataset) -> list[Workload]:
    """Every workload, in the order of the table."""
    random_get = {"template": f"{collection_path(ITEMS)}/{ID_TEMPLATE}", "count": dataset.record_count, "seed": 42}
    return [
        Workload(
            "create",
            "POST one record (server-assigned id) into a collection created empty for the run",
            "POST",
            collection_path(FRESH),
            _probe_create,
            body=json.dumps({"data": CREATED_DATA}),
            lua=("fresh_collection.lua",),
            prepare=_prepare_fresh_collection,
            database_operation=("insert", 1),
            count_statuses=True,
        ),
        Workload(
            "get",
            f"GET one record, id drawn at random among {dataset.record_count:,}",
            "GET",
            collection_path(ITEMS),
            _probe_get,
            lua=("random_get.lua",),
            params=random_get,
            database_operation=("select", 1),
        ),
        Workload(
            "list",
            f"GET 100 records of {dataset.record_count:,} (default sort)",
            "GET",
            f"{collection_path(ITEMS)}?_limit=100",
            _probe_list,
        ),
        Workload(
            "filter-sort",
            f"GET ?category=c3&_sort=-score&_limit=10 ({dataset.record_count // 20:,} of {dataset.record_count:,} match)",
            "GET",
            f"{collection_path(ITEMS)}?category=c3&_sort=-score&_limit=10",
            _probe_filter_sort,
        ),
        Workload(
            "patch",
            f"PATCH with If-Match of the current timestamp ({PATCH_POOL} records)",
            "PATCH",
            collection_path(PATCHED),
            _probe_patch,
            lua=("patch.lua",),
            params={"prefix": collection_path(PATCHED) + "/", "missing_id": "p-missing"},
            prepare=_prepare_patch,
            database_operation=("insert", 1),
            count_statuses=True,
        ),
        Workload(
            "since",
            f"GET ?_since=<ts>&_sort=-last_modified: the {SINCE_COUNT} newest of {dataset.record_count:,}",
            "GET",
            f"{collection_path(ITEMS)}?_since={dataset.since_timestamp}&_sort=-last_modified",
            _probe_since,
        ),
        Workload(
            "batch",
            f"POST /v1/batch of {BATCH_SIZE} record creations, into a collection created empty for the run",
            "POST",
            "/v1/batch",
            _probe_batch,
            body=BATCH_BODY.replace(f"/collections/{BATCHED}/", f"/collections/{FRESH}/"),
            prepare=_prepare_fresh_collection,
            lua=("fresh_collection.lua", "batch.lua"),
            database_operation=("insert", BATCH_SIZE),
            count_statuses=True,
        ),
        Workload(
            "get-anonymous",
            "as `get`, without Authorization (collection readable by system.Everyone)",
            "GET",
            collection_path(ITEMS),
            _probe_anonymous,
            authenticated=False,
            lua=("random_get.lua",),
            params=random_get,
            database_operation=("select", 1),
        ),
    ]


WORKLOAD_NAMES = ("create", "get", "list", "filter-sort", "patch", "since", "batch", "get-anonymous")


def _probe_nothing(client: Client, dataset: Dataset) -> None:
    """Ceiling apps answer any GET with the same small object."""


CEILING_WORKLOAD = Workload(
    "ceiling", "GET / of an empty app (with the same Authorization header)", "GET", "/", _probe_nothing
)
