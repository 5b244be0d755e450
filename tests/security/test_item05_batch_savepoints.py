"""Item 5: a batch sub-request answered 4xx leaves nothing behind, the others keep their effect.

A PATCH with ``Response-Behavior: bogus`` used to store its change and answer
400. The header is now checked before anything is written, and each batch
sub-request runs in a savepoint of the batch's transaction (storage and
permissions), its gathered events with it: a sub-request answered 4xx is rolled
back to that savepoint, whatever it wrote first. The second half of the module
drives that guarantee through a plugin endpoint (``kinto.includes``) that
writes an object, an ACE and an event, then answers 400.
"""

from __future__ import annotations

from typing import Any

import pytest
from pyramid import httpexceptions
from pyramid.security import NO_PERMISSION_REQUIRED

from kinto.core import Service
from kinto.core.errors import http_error
from kinto.core.events import ACTIONS, notify_resource_event

from .conftest import ALICE, BOB, userid

RECORDS = "/buckets/b/collections/c/records"
RECORD_PARENT = "/buckets/b/collections/c"

# --- a plugin and a listener, loaded from settings -------------------------------------------------

RECEIVED: list[tuple[str, str, list[str]]] = []

probe = Service(name="savepoint_probe", path="/savepoint-probe/{id}")


@probe.post(permission=NO_PERMISSION_REQUIRED)
def write_then_refuse(request: Any) -> Any:
    """Write record ``id`` (object, ACE, event), then answer 400 unless ``?keep`` is given."""
    object_id = request.matchdict["id"]
    registry = request.registry
    record = registry.storage.update("record", RECORD_PARENT, object_id, {"written": "by the probe"})
    registry.permission.add_principal_to_ace(f"{RECORDS}/{object_id}", "read", userid("bob"))
    notify_resource_event(
        request,
        RECORD_PARENT,
        record["last_modified"],
        record,
        ACTIONS.CREATE,
        resource_name="record",
        resource_data={"bucket_id": "b", "collection_id": "c"},
    )
    if "keep" in request.GET:
        return {"data": record}
    raise http_error(httpexceptions.HTTPBadRequest(), message="refused after writing")


def includeme(config: Any) -> None:
    config.add_cornice_service(probe)


def load_from_config(config: Any, prefix: str) -> Any:
    def listener(event: Any) -> None:
        ids = sorted(change["new"]["id"] for change in event.impacted_objects)
        RECEIVED.append((type(event).__name__, event.payload["action"], ids))

    return listener


PLUGIN_SETTINGS = {
    "kinto.includes": __name__,
    "kinto.event_listeners": "recorder",
    "kinto.event_listeners.recorder.use": __name__,
    "kinto.event_listeners.recorder.events": "ResourceChanged AfterResourceChanged",
}


@pytest.fixture
def plugin_app(make_app: Any) -> Any:
    RECEIVED.clear()
    app = make_app(PLUGIN_SETTINGS)
    yield app
    RECEIVED.clear()


def seed(app: Any, put: Any) -> None:
    put(app, "/buckets/b")
    put(app, "/buckets/b/collections/c")
    put(app, f"{RECORDS}/r1", {"title": "before"})


def batch(app: Any, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return app.post_json("/v1/batch", {"requests": requests}, headers=ALICE).json["responses"]


def announced_ids() -> set[str]:
    return {object_id for _, _, ids in RECEIVED for object_id in ids}


# --- Response-Behavior is checked before writing ------------------------------------------------


def test_a_patch_refused_for_its_response_behavior_changes_nothing(app, put):
    seed(app, put)
    response = app.patch_json(
        f"/v1{RECORDS}/r1", {"data": {"title": "after"}}, headers={**ALICE, "Response-Behavior": "bogus"}, status=400
    )
    assert response.json["details"][0]["name"] == "Response-Behavior"
    assert app.get(f"/v1{RECORDS}/r1", headers=ALICE).json["data"]["title"] == "before"


def test_a_batch_patch_refused_for_its_response_behavior_changes_nothing_and_the_others_commit(app, put):
    seed(app, put)
    responses = batch(
        app,
        [
            {
                "method": "PATCH",
                "path": f"{RECORDS}/r1",
                "headers": {"Response-Behavior": "bogus"},
                "body": {"data": {"title": "after"}, "permissions": {"read": [userid("bob")]}},
            },
            {"method": "PUT", "path": f"{RECORDS}/r2", "body": {"data": {"n": 2}}},
        ],
    )
    assert [r["status"] for r in responses] == [400, 201]
    record = app.get(f"/v1{RECORDS}/r1", headers=ALICE).json
    assert record["data"]["title"] == "before"
    assert userid("bob") not in record["permissions"].get("read", [])
    app.get(f"/v1{RECORDS}/r1", headers=BOB, status=403)
    assert app.get(f"/v1{RECORDS}/r2", headers=ALICE).json["data"]["n"] == 2


# --- each sub-request runs in a savepoint ---------------------------------------------------------


def test_a_sub_request_answered_4xx_after_writing_leaves_no_object_no_permission_no_event(plugin_app, put):
    app = plugin_app
    seed(app, put)
    RECEIVED.clear()
    responses = batch(
        app,
        [
            {"method": "PUT", "path": f"{RECORDS}/before", "body": {"data": {}}},
            {"method": "POST", "path": "/savepoint-probe/doomed"},
            {"method": "PATCH", "path": f"{RECORDS}/r1", "body": {"data": {"title": "after"}}},
        ],
    )
    assert [r["status"] for r in responses] == [201, 400, 200]
    app.get(f"/v1{RECORDS}/doomed", headers=ALICE, status=404)
    app.get(f"/v1{RECORDS}/doomed", headers=BOB, status=403)
    listed = app.get(f"/v1{RECORDS}", headers=ALICE).json["data"]
    assert sorted(record["id"] for record in listed) == ["before", "r1"]
    assert app.get(f"/v1{RECORDS}/r1", headers=ALICE).json["data"]["title"] == "after"
    assert "doomed" not in announced_ids()
    assert {"ResourceChanged", "AfterResourceChanged"} == {name for name, _, _ in RECEIVED}
    assert announced_ids() == {"before", "r1"}


def test_the_same_write_answered_2xx_is_kept(plugin_app, put):
    app = plugin_app
    seed(app, put)
    responses = batch(app, [{"method": "POST", "path": "/savepoint-probe/kept?keep"}])
    assert [r["status"] for r in responses] == [200]
    assert app.get(f"/v1{RECORDS}/kept", headers=ALICE).json["data"]["written"] == "by the probe"
    assert app.get(f"/v1{RECORDS}/kept", headers=BOB).status_code == 200
    assert "kept" in announced_ids()


def test_several_refused_sub_requests_in_a_row_keep_the_batch_usable(plugin_app, put):
    app = plugin_app
    seed(app, put)
    requests = []
    for index in range(4):
        requests.append({"method": "POST", "path": f"/savepoint-probe/doomed{index}"})
        requests.append({"method": "PUT", "path": f"{RECORDS}/kept{index}", "body": {"data": {}}})
    responses = batch(app, requests)
    assert [r["status"] for r in responses] == [400, 201] * 4
    listed = app.get(f"/v1{RECORDS}", headers=ALICE).json["data"]
    assert sorted(record["id"] for record in listed) == ["kept0", "kept1", "kept2", "kept3", "r1"]
    assert not any(object_id.startswith("doomed") for object_id in announced_ids())
