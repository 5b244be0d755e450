"""Events of every write: ``ResourceChanged`` in the transaction, ``AfterResourceChanged`` after commit."""

import uuid

import pytest

from .conftest import ALICE, BOB, assert_error, userid


def only_change(events):
    """The single change of the request: (payload, impacted objects), checked to be announced twice."""
    names = [type(event).__name__ for event in events.events]
    assert names == ["ResourceChanged", "AfterResourceChanged"], names
    inside, after = events.events
    assert inside.payload == after.payload
    assert inside.impacted_objects == after.impacted_objects
    return inside.payload, inside.impacted_objects


def test_post_announces_a_create(app, events):
    obj = app.post_json("/v1/things", {"data": {"n": 1}}, headers=ALICE).json["data"]
    payload, impacted = only_change(events)
    assert payload == {
        "action": "create",
        "uri": f"/things/{obj['id']}",
        "resource_name": "thing",
        "timestamp": obj["last_modified"],
        "user_id": userid("alice"),
        "thing_id": obj["id"],
    }
    assert impacted == [{"new": obj}]


def test_put_announces_a_create_then_an_update(app, events):
    object_id = str(uuid.uuid4())
    created = app.put_json(f"/v1/things/{object_id}", {"data": {"n": 1}}, headers=ALICE).json["data"]
    payload, impacted = only_change(events)
    assert (payload["action"], payload["uri"], payload["thing_id"]) == ("create", f"/things/{object_id}", object_id)
    assert impacted == [{"new": created}]
    events.clear()
    replaced = app.put_json(f"/v1/things/{object_id}", {"data": {"n": 2}}, headers=BOB).json["data"]
    payload, impacted = only_change(events)
    assert payload["action"] == "update" and payload["user_id"] == userid("bob")
    assert payload["timestamp"] == replaced["last_modified"]
    assert impacted == [{"old": created, "new": replaced}]


def test_patch_announces_an_update_with_old_and_new(app, events, create):
    obj = create("/v1/things", {"n": 1, "keep": True})
    events.clear()
    patched = app.patch_json(f"/v1/things/{obj['id']}", {"data": {"n": 2}}, headers=ALICE).json["data"]
    payload, impacted = only_change(events)
    assert payload["action"] == "update" and payload["timestamp"] == patched["last_modified"]
    assert impacted == [{"old": obj, "new": patched}]


def test_delete_announces_the_tombstone_as_new(app, events, create):
    obj = create("/v1/things", {"n": 1})
    events.clear()
    tombstone = app.delete(f"/v1/things/{obj['id']}", headers=ALICE).json["data"]
    payload, impacted = only_change(events)
    assert payload["action"] == "delete" and payload["uri"] == f"/things/{obj['id']}"
    assert payload["timestamp"] == tombstone["last_modified"]
    assert impacted == [{"old": obj, "new": tombstone}]


def test_plural_delete_announces_one_event_for_every_object(app, events, create):
    objects = [create("/v1/things", {"n": n}) for n in range(3)]
    events.clear()
    tombstones = app.delete("/v1/things", headers=ALICE).json["data"]
    payload, impacted = only_change(events)
    assert payload["action"] == "delete" and payload["uri"] == "/things" and "thing_id" not in payload
    assert payload["timestamp"] == max(obj["last_modified"] for obj in tombstones)
    by_id = {obj["id"]: obj for obj in objects}
    assert sorted(impacted, key=lambda entry: entry["new"]["id"]) == sorted(
        ({"old": by_id[t["id"]], "new": t} for t in tombstones), key=lambda entry: entry["new"]["id"]
    )


def test_shareable_objects_are_announced_without_their_permissions(app, events):
    response = app.post_json(
        "/v1/articles", {"data": {"title": "t"}, "permissions": {"read": [userid("bob")]}}, headers=ALICE
    )
    payload, impacted = only_change(events)
    assert impacted == [{"new": response.json["data"]}]
    assert payload["resource_name"] == "article" and payload["article_id"] == response.json["data"]["id"]


def test_private_objects_are_announced_with_their_user(app, events):
    note = app.post_json("/v1/mynotes", {"data": {"text": "t"}}, headers=BOB).json["data"]
    payload, impacted = only_change(events)
    assert payload["user_id"] == userid("bob") and payload["resource_name"] == "note"
    assert impacted == [{"new": note}]


def test_reads_and_no_op_writes_announce_nothing(app, events, create):
    obj = create("/v1/things", {"n": 1})
    events.clear()
    app.get("/v1/things", headers=ALICE)
    app.get(f"/v1/things/{obj['id']}", headers=ALICE)
    app.patch_json(f"/v1/things/{obj['id']}", {"data": {"n": 1}}, headers=ALICE)
    app.post_json("/v1/things", {"data": {"id": obj["id"]}}, headers=ALICE, status=200)
    app.delete("/v1/things?n=2", headers=ALICE)
    assert events.events == []


@pytest.mark.parametrize("attempt", ["schema", "precondition", "forbidden", "missing"])
def test_refused_writes_announce_nothing(app, events, create, attempt):
    article = create("/v1/articles", {"title": "t"})
    events.clear()
    url = f"/v1/articles/{article['id']}"
    if attempt == "schema":
        app.patch_json(url, {"data": {"title": 1}}, headers=ALICE, status=400)
    elif attempt == "precondition":
        app.delete(url, headers={**ALICE, "If-Match": '"1"'}, status=412)
    elif attempt == "forbidden":
        app.put_json(url, {"data": {"title": "x"}}, headers=BOB, status=403)
    else:
        app.delete(f"/v1/things/{uuid.uuid4()}", headers=ALICE, status=404)
    assert events.events == []


def test_a_request_failing_after_its_write_rolls_back_and_announces_nothing(app, events, create):
    kept = create("/v1/fragiles", {"n": 1})
    events.clear()
    response = app.post_json("/v1/fragiles", {"data": {"explode": True}}, headers=ALICE, status=500)
    assert_error(response, 500, 999)
    response = app.put_json(f"/v1/fragiles/{kept['id']}", {"data": {"explode": True}}, headers=ALICE, status=500)
    assert events.events == []
    assert app.get("/v1/fragiles", headers=ALICE).json["data"] == [kept]


def test_a_failing_resource_changed_subscriber_rolls_the_request_back(app, events):
    def veto(event):
        if type(event).__name__ == "ResourceChanged":
            raise RuntimeError("a subscriber refused the change")

    events.on_event = veto
    app.post_json("/v1/things", {"data": {"n": 1}}, headers=ALICE, status=500)
    assert [type(event).__name__ for event in events.events] == ["ResourceChanged"]
    events.clear()
    assert app.get("/v1/things", headers=ALICE).json["data"] == []


def test_reads_are_announced_with_what_was_read(app, reads, create):
    objects = [create("/v1/things", {"n": n}) for n in range(3)]
    reads.clear()
    app.get("/v1/things?_sort=n&_limit=2", headers=ALICE)
    (event,) = reads.events
    assert event.payload["action"] == "read" and event.payload["uri"] == "/things"
    assert event.payload["resource_name"] == "thing" and event.payload["user_id"] == userid("alice")
    assert event.read_objects == objects[:2]
    reads.clear()
    app.get(f"/v1/things/{objects[0]['id']}", headers=BOB)
    (event,) = reads.events
    assert event.payload["uri"] == f"/things/{objects[0]['id']}"
    assert event.payload["thing_id"] == objects[0]["id"]
    assert event.read_objects == [objects[0]]


def test_a_batch_announces_its_changes_once_after_commit(app, events, create):
    obj = create("/v1/things", {"n": 0})
    events.clear()
    requests = [
        {"method": "POST", "path": "/things", "body": {"data": {"n": 1}}},
        {"method": "POST", "path": "/things", "body": {"data": {"n": 2}}},
        {"method": "PATCH", "path": f"/things/{obj['id']}", "body": {"data": {"n": 3}}},
    ]
    responses = app.post_json("/v1/batch", {"requests": requests}, headers=ALICE).json["responses"]
    assert [response["status"] for response in responses] == [201, 201, 200]
    summary = [(type(event).__name__, event.payload["action"], len(event.impacted_objects)) for event in events.events]
    assert sorted(summary) == sorted(
        [
            ("ResourceChanged", "create", 2),
            ("ResourceChanged", "update", 1),
            ("AfterResourceChanged", "create", 2),
            ("AfterResourceChanged", "update", 1),
        ]
    )
    created = next(event for event in events.events if event.payload["action"] == "create")
    assert [entry["new"] for entry in created.impacted_objects] == [
        responses[0]["body"]["data"],
        responses[1]["body"]["data"],
    ]
