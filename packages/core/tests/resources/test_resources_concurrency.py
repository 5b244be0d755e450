"""Lost updates: concurrent If-Match PATCH loops through a real threaded WSGI server.

Each request runs in its own thread and transaction; every acknowledged (200)
increment of the shared counter must be in the final value.
"""

import http.client
import json
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from .conftest import ALICE

WORKERS = 2
INCREMENTS_PER_WORKER = 25


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(app):
    httpd = make_server("127.0.0.1", 0, app.app, server_class=ThreadingServer, handler_class=QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        payload = json.dumps(body) if body is not None else None
        all_headers = {**ALICE, "Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read() or b"null")
    finally:
        connection.close()


def increment_loop(port, path, outcome):
    """Read, then PATCH counter+1 with If-Match, until INCREMENTS_PER_WORKER are acknowledged."""
    while outcome["acknowledged"] < INCREMENTS_PER_WORKER:
        status, headers, body = request(port, "GET", path)
        if status != 200:
            outcome["unexpected"].append((status, body))
            return
        new_value = body["data"]["counter"] + 1
        status, _, body = request(port, "PATCH", path, {"data": {"counter": new_value}}, {"If-Match": headers["ETag"]})
        if status == 200:
            outcome["acknowledged"] += 1
        elif status == 412:
            outcome["conflicts"] += 1
        else:
            outcome["unexpected"].append((status, body))
            return


def test_no_acknowledged_if_match_update_is_lost(app, server, create):
    thing = create("/v1/things", {"counter": 0})
    path = f"/v1/things/{thing['id']}"
    outcomes = [{"acknowledged": 0, "conflicts": 0, "unexpected": []} for _ in range(WORKERS)]
    threads = [threading.Thread(target=increment_loop, args=(server, path, outcome)) for outcome in outcomes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [outcome["unexpected"] for outcome in outcomes] == [[]] * WORKERS
    acknowledged = sum(outcome["acknowledged"] for outcome in outcomes)
    assert acknowledged == WORKERS * INCREMENTS_PER_WORKER
    assert app.get(path, headers=ALICE).json["data"]["counter"] == acknowledged


def _patch_loop(port, path, worker, statuses):
    """Each write changes what the other workers' writes keep: a merge of a field of its own, and
    a JSON Patch appending to the array they share."""
    for i in range(INCREMENTS_PER_WORKER):
        status, _, _ = request(port, "PATCH", path, {"data": {f"w{worker}_{i}": i}})
        statuses.append(status)
        operations = [{"op": "add", "path": "/data/tags/-", "value": f"w{worker}_{i}"}]
        status, _, _ = request(port, "PATCH", path, operations, {"Content-Type": "application/json-patch+json"})
        statuses.append(status)


def test_concurrent_patches_without_if_match_lose_nothing(app, server, create):
    # Without If-Match each PATCH applies to the version it finds: none may write over a version
    # another PATCH wrote meanwhile (the lock, or a write conditional on the version read).
    thing = create("/v1/things", {"tags": []})
    path = f"/v1/things/{thing['id']}"
    statuses = [[] for _ in range(WORKERS)]
    threads = [
        threading.Thread(target=_patch_loop, args=(server, path, worker, statuses[worker])) for worker in range(WORKERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [[200] * (2 * INCREMENTS_PER_WORKER)] * WORKERS
    data = app.get(path, headers=ALICE).json["data"]
    written = {f"w{worker}_{i}" for worker in range(WORKERS) for i in range(INCREMENTS_PER_WORKER)}
    assert {key for key in data if key.startswith("w")} == written
    assert sorted(data["tags"]) == sorted(written)


@pytest.fixture
def stale_once(monkeypatch):
    """Make the next read of an object by a handler answer ``stale(fresh)``: as if it had been
    read (ahead, unlocked) before a concurrent writer changed it."""
    from kinto.core.resource import Resource

    real = Resource._get_or_none
    pending = []

    def read(resource, object_id):
        fresh = real(resource, object_id)
        return pending.pop()(fresh) if pending else fresh

    monkeypatch.setattr(Resource, "_get_or_none", read)
    return pending.append


def test_a_patch_over_a_version_changed_since_read_applies_to_the_new_one(app, create, stale_once):
    thing = create("/v1/things", {"a": 1})
    path = f"/v1/things/{thing['id']}"
    updated = app.patch_json(path, {"data": {"b": 2}}, headers=ALICE).json["data"]
    stale_once(lambda fresh: {**thing, "last_modified": thing["last_modified"]})
    patched = app.patch_json(path, {"data": {"c": 3}}, headers=ALICE).json["data"]
    assert {key: patched[key] for key in "abc"} == {"a": 1, "b": 2, "c": 3}
    assert patched["last_modified"] > updated["last_modified"]
    assert app.get(path, headers=ALICE).json["data"] == patched


def test_an_if_match_write_over_a_version_changed_since_read_fails(app, create, stale_once):
    thing = create("/v1/things", {"a": 1})
    path = f"/v1/things/{thing['id']}"
    updated = app.patch_json(path, {"data": {"b": 2}}, headers=ALICE).json["data"]
    for method in ("put_json", "patch_json"):
        stale_once(lambda fresh: dict(thing))
        headers = {**ALICE, "If-Match": f'"{thing["last_modified"]}"'}
        getattr(app, method)(path, {"data": {"c": 3}}, headers=headers, status=412)
    stale_once(lambda fresh: dict(thing))
    app.delete(path, headers={**ALICE, "If-Match": f'"{thing["last_modified"]}"'}, status=412)
    assert app.get(path, headers=ALICE).json["data"] == updated


def test_a_delete_of_a_version_changed_since_read_deletes_the_new_one(app, create, stale_once):
    thing = create("/v1/things", {"a": 1})
    path = f"/v1/things/{thing['id']}"
    updated = app.patch_json(path, {"data": {"b": 2}}, headers=ALICE).json["data"]
    stale_once(lambda fresh: dict(thing))
    tombstone = app.delete(path, headers=ALICE).json["data"]
    assert tombstone["deleted"] is True
    assert tombstone["last_modified"] > updated["last_modified"]
    app.get(path, headers=ALICE, status=404)


def test_a_put_creating_an_object_created_since_read_replaces_it(app, create, stale_once):
    thing = create("/v1/things", {"a": 1})
    path = f"/v1/things/{thing['id']}"
    stale_once(lambda fresh: None)
    app.put_json(path, {"data": {"b": 2}}, headers=ALICE, status=200)  # a replace, as the lock would see
    stale_once(lambda fresh: None)
    app.put_json(path, {"data": {"c": 3}}, headers={**ALICE, "If-None-Match": "*"}, status=412)
    data = app.get(path, headers=ALICE).json["data"]
    assert "a" not in data and data["b"] == 2 and "c" not in data


def test_a_post_of_an_id_created_since_read_answers_the_object(app, create, stale_once):
    thing = create("/v1/things", {"a": 1})
    stale_once(lambda fresh: None)
    answer = app.post_json("/v1/things", {"data": {"id": thing["id"], "a": 2}}, headers=ALICE, status=200)
    assert answer.json["data"] == thing
    stale_once(lambda fresh: None)
    app.post_json("/v1/things", {"data": {"id": thing["id"]}}, headers={**ALICE, "If-None-Match": "*"}, status=412)
    assert app.get(f"/v1/things/{thing['id']}", headers=ALICE).json["data"] == thing
