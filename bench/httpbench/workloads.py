"""The HTTP workloads: the same requests, data and checks for every server.

Every request carries basic auth (user ``bench``), except ``get-anonymous`` and ``list-anonymous``,
which read the same records with no ``Authorization`` header (the collection grants ``read`` to
``system.Everyone``). Before a server is measured on a workload, one probe request checks that it
answers what the workload claims to measure (status, number of records, sort order...), in the
querystring syntax both servers document (``in_id=a,b``, ``like_title=*abc*``, ``has_field=true``).
"""

from __future__ import annotations

import dataclasses
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
MANY_CLIENTS = 64  # wrk connections of the `-64` workloads
IN_VALUES = 50
#: The plural DELETE workload deletes the records of one `group` per request, from a pool seeded through HTTP
#: before each run for the requests the run is expected to send (a server deleting faster runs the pool dry: its
#: further answers delete nothing and are counted as empty deletes).
DELETE_GROUP_SIZE = 2
FRESH = "__COLLECTION__"  # replaced by lua/fresh_collection.lua with a collection created for the run
ID_TEMPLATE = "r%07d"
BUCKET_PATH = f"/v1/buckets/{BUCKET}"


def collection_path(collection: str) -> str:
    return f"{BUCKET_PATH}/collections/{collection}/records"


def document(index: int, rng: random.Random) -> dict[str, Any]:
    """A record's data: the storage benchmark's shape (bench/backends.py), plus a numeric ``age`` (0-99) for
    range filters and an ``archived`` flag present on one record in ten only (``has_`` filters)."""
    data: dict[str, Any] = {
        "title": f"object number {index}",
        "category": f"c{index % 20}",
        "score": rng.randint(0, 1_000_000),
        "age": rng.randint(0, 99),
        "tags": [f"t{index % 7}", f"t{index % 11}"],
        "nested": {"level": index % 5},
    }
    if index % 10 == 0:
        data["archived"] = True
    return data


CREATED_DATA = document(1, random.Random(1))


@dataclass(frozen=True)
class Dataset:
    """What seeding left on a server, which some workloads need to address."""

    record_count: int
    since_timestamp: int


#: What the listed collection declares in its ``indexed_fields`` metadata once seeded: the field the
#: ``range-sort`` workload filters and sorts on. Our server then builds an index for it; Kinto keeps the
#: key as plain metadata (it has no such feature), so each server answers as its users would run it.
INDEXED_FIELDS = ["-age"]


def seed(client: Client, record_count: int) -> Dataset:
    """Create the bucket, the collections and ``record_count`` records through the HTTP API (batches of 25),
    then declare :data:`INDEXED_FIELDS` on the listed collection."""
    client.expect(201, "PUT", BUCKET_PATH, {"data": {}})
    everyone_reads = {"data": {}, "permissions": {"read": ["system.Everyone"]}}
    client.expect(201, "PUT", f"{BUCKET_PATH}/collections/{ITEMS}", everyone_reads)
    for collection in (CREATED, BATCHED, PATCHED):
        client.expect(201, "PUT", f"{BUCKET_PATH}/collections/{collection}", {"data": {}})
    rng = random.Random(record_count)
    items = [(ITEMS, ID_TEMPLATE % index, document(index, rng)) for index in range(record_count)]
    pool = [(PATCHED, f"p{index:04d}", document(index, rng)) for index in range(PATCH_POOL)]
    _put_in_batches(client, items + pool)
    declared = {"data": {"indexed_fields": INDEXED_FIELDS}}
    client.expect(200, "PATCH", f"{BUCKET_PATH}/collections/{ITEMS}", declared)
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
Prepare = Callable[[Client, Path, int], list[str]]  # client, scratch folder, requests the run is expected to send


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
    prepare: Prepare | None = None  # writes what the script needs just before each wrk run; its arguments
    database_operation: tuple[str, int] | None = None  # ("insert", n): n inserts per request, for the DB ceiling
    connections: int | None = None  # wrk connections, when not the run's (--connections)

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


def _prepare_patch(client: Client, folder: Path, requests: int) -> list[str]:
    lines = []
    for index in range(PATCH_POOL):
        record = client.expect(200, "GET", f"{collection_path(PATCHED)}/p{index:04d}")
        lines.append(f"{record['data']['id']} {record['data']['last_modified']}")
    pool = folder / "patch-pool.txt"
    pool.write_text("\n".join(lines) + "\n")
    return [str(pool)]


def _prepare_fresh_collection(client: Client, folder: Path, requests: int) -> list[str]:
    """Create an empty collection for one run's writes; its name is the script's argument."""
    name = f"w{time.time_ns()}"
    client.expect(201, "PUT", f"{BUCKET_PATH}/collections/{name}", {"data": {}})
    return [name]


def _probe_batch(client: Client, dataset: Dataset) -> None:
    answer = client.expect(200, "POST", "/v1/batch", json.loads(BATCH_BODY))
    statuses = [response["status"] for response in answer["responses"]]
    _check(statuses == [201] * BATCH_SIZE, f"batch: sub-responses {statuses}")


def anonymously(probe: Probe) -> Probe:
    """``probe`` sent with no ``Authorization`` header."""

    def anonymous_probe(client: Client, dataset: Dataset) -> None:
        anonymous = Client(client.port, authenticated=False)
        try:
            probe(anonymous, dataset)
        finally:
            anonymous.close()

    return anonymous_probe


RANGE_SORT_QUERY = "min_age=80&_sort=-age&_limit=50"


def _probe_range_sort(client: Client, dataset: Dataset) -> None:
    page = client.expect(200, "GET", f"{collection_path(ITEMS)}?{RANGE_SORT_QUERY}")["data"]
    ages = [record["age"] for record in page]
    _check(len(page) == min(50, dataset.record_count), f"range-sort: {len(page)} records")
    _check(all(age >= 80 for age in ages), "range-sort: min_age ignored")
    _check(ages == sorted(ages, reverse=True), "range-sort: not sorted by -age")


LIKE_TEXT = "number 123"
LIKE_QUERY = f"like_title=*{LIKE_TEXT.replace(' ', '%20')}*&_limit=50"


def _probe_like(client: Client, dataset: Dataset) -> None:
    page = client.expect(200, "GET", f"{collection_path(ITEMS)}?{LIKE_QUERY}")["data"]
    matching = sum(1 for index in range(dataset.record_count) if LIKE_TEXT in f"object number {index}")
    _check(len(page) == min(50, matching), f"like: {len(page)} records, expected {min(50, matching)}")
    _check(all(LIKE_TEXT in record["title"] for record in page), "like: filter ignored")


HAS_QUERY = "has_archived=true&_limit=100"


def _probe_has(client: Client, dataset: Dataset) -> None:
    page = client.expect(200, "GET", f"{collection_path(ITEMS)}?{HAS_QUERY}")["data"]
    archived = (dataset.record_count + 9) // 10
    _check(len(page) == min(100, archived), f"has: {len(page)} records, expected {min(100, archived)}")
    _check(all(record.get("archived") is True for record in page), "has: filter ignored")


def in_ids(dataset: Dataset) -> list[str]:
    """``IN_VALUES`` ids spread over the listed collection."""
    return sorted({ID_TEMPLATE % (index * dataset.record_count // IN_VALUES) for index in range(IN_VALUES)})


def _probe_in(client: Client, dataset: Dataset) -> None:
    wanted = in_ids(dataset)
    page = client.expect(200, "GET", f"{collection_path(ITEMS)}?in_id={','.join(wanted)}")["data"]
    _check(sorted(record["id"] for record in page) == wanted, f"in: {len(page)} records, expected {len(wanted)}")


FIELDS_QUERY = "_fields=title,score&_limit=100"


def _probe_fields(client: Client, dataset: Dataset) -> None:
    page = client.expect(200, "GET", f"{collection_path(ITEMS)}?{FIELDS_QUERY}")["data"]
    _check(len(page) == min(100, dataset.record_count), f"fields: {len(page)} records")
    allowed = {"id", "last_modified", "title", "score"}
    _check(all(set(record) <= allowed and "title" in record for record in page), "fields: other fields returned")


def _seed_delete_pool(client: Client, groups: int) -> str:
    """A new collection of ``groups`` x ``DELETE_GROUP_SIZE`` records, ``group`` 0 to ``groups - 1``; its name."""
    name = f"d{time.time_ns()}"
    client.expect(201, "PUT", f"{BUCKET_PATH}/collections/{name}", {"data": {}})
    rng = random.Random(groups)
    records = [
        (name, f"g{group:06d}-{member}", {**document(group, rng), "group": group})
        for group in range(groups)
        for member in range(DELETE_GROUP_SIZE)
    ]
    _put_in_batches(client, records)
    return name


def _probe_delete_filtered(client: Client, dataset: Dataset) -> None:
    name = _seed_delete_pool(client, 2)
    deleted = client.expect(200, "DELETE", f"{collection_path(name)}?group=1")["data"]
    _check(len(deleted) == DELETE_GROUP_SIZE, f"delete: {len(deleted)} records deleted, expected {DELETE_GROUP_SIZE}")
    _check(all(record.get("deleted") is True for record in deleted), "delete: answers are not tombstones")
    left = client.expect(200, "GET", collection_path(name))["data"]
    _check(len(left) == DELETE_GROUP_SIZE, f"delete: {len(left)} records left, expected {DELETE_GROUP_SIZE}")


def _prepare_delete_pool(client: Client, folder: Path, requests: int) -> list[str]:
    """A fresh pool for one run's deletions: every request deletes a group no other request touches."""
    return [_seed_delete_pool(client, requests)]


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
    workloads = _own_workloads(dataset)
    by_name = {workload.name: workload for workload in workloads}
    return [
        *workloads,
        dataclasses.replace(
            by_name["list"],
            name="list-anonymous",
            description="as `list`, without Authorization (collection readable by system.Everyone)",
            probe=anonymously(_probe_list),
            authenticated=False,
        ),
        *(
            dataclasses.replace(
                by_name[name],
                name=f"{name}-{MANY_CLIENTS}",
                description=f"as `{name}`, with {MANY_CLIENTS} concurrent connections",
                connections=MANY_CLIENTS,
            )
            for name in ("get", "list")
        ),
    ]


def _own_workloads(dataset: Dataset) -> list[Workload]:
    """The workloads with requests of their own (``build_workloads`` adds variants of them)."""
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
            anonymously(_probe_get),
            authenticated=False,
            lua=("random_get.lua",),
            params=random_get,
            database_operation=("select", 1),
        ),
        Workload(
            "range-sort",
            f"GET ?{RANGE_SORT_QUERY}: range filter and sort on a numeric data field (1 record in 5 matches)",
            "GET",
            f"{collection_path(ITEMS)}?{RANGE_SORT_QUERY}",
            _probe_range_sort,
        ),
        Workload(
            "like",
            f"GET ?like_title=*{LIKE_TEXT}*&_limit=50 (substring match on a text field)",
            "GET",
            f"{collection_path(ITEMS)}?{LIKE_QUERY}",
            _probe_like,
        ),
        Workload(
            "has",
            f"GET ?{HAS_QUERY}: records holding a field present on 1 record in 10",
            "GET",
            f"{collection_path(ITEMS)}?{HAS_QUERY}",
            _probe_has,
        ),
        Workload(
            "in",
            f"GET ?in_id=<{IN_VALUES} ids spread over the collection>",
            "GET",
            f"{collection_path(ITEMS)}?in_id={','.join(in_ids(dataset))}",
            _probe_in,
        ),
        Workload(
            "fields",
            f"GET ?{FIELDS_QUERY}: 100 records reduced to two fields",
            "GET",
            f"{collection_path(ITEMS)}?{FIELDS_QUERY}",
            _probe_fields,
        ),
        Workload(
            "delete-filter",
            f"DELETE <plural>?group=<n>: {DELETE_GROUP_SIZE} records per request, from a pool seeded through HTTP "
            "before each run, sized for 300 requests/s or 1.5 x the warm-up's rate (a pool run dry shows as empty "
            "deletes)",
            "DELETE",
            f"{BUCKET_PATH}/collections/",
            _probe_delete_filtered,
            lua=("delete_groups.lua",),
            prepare=_prepare_delete_pool,
            count_statuses=True,
        ),
    ]


WORKLOAD_NAMES = (
    "create",
    "get",
    "list",
    "filter-sort",
    "patch",
    "since",
    "batch",
    "get-anonymous",
    "range-sort",
    "like",
    "has",
    "in",
    "fields",
    "delete-filter",
    "list-anonymous",
    "get-64",
    "list-64",
)


def _probe_nothing(client: Client, dataset: Dataset) -> None:
    """Ceiling apps answer any GET with the same small object."""


CEILING_WORKLOAD = Workload(
    "ceiling", "GET / of an empty app (with the same Authorization header)", "GET", "/", _probe_nothing
)
