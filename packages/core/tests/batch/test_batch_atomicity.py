"""One transaction per batch: a 5xx rolls everything back, a 4xx undoes its own sub-request (a
savepoint) and the rest commits, events are announced once, after the commit, and never for what
was rolled back."""

import threading

import pytest

from .services_for_batch import stored_items

URL = "/v1/batch"
SQL_BACKENDS = ("sqlite", "postgresql")


def put(object_id, **data):
    return {"method": "PUT", "path": f"/items/{object_id}", "body": {"data": data}}


def delete(object_id):
    return {"method": "DELETE", "path": f"/items/{object_id}"}


def fail(how):
    return {"method": "POST", "path": f"/fail/{how}"}


def stored_data(app):
    return {obj["id"]: obj for obj in app.get("/v1/items").json["data"]}


@pytest.mark.parametrize(
    "how, status, errno",
    [("crash", 500, 999), ("backend", 503, 201), ("sql", 503, 201), ("status-502", 502, 999)],
)
def test_a_server_error_rolls_the_whole_batch_back(app, stored, how, status, errno):
    app.put_json("/v1/items/kept", {"data": {"v": 1}})
    before = stored_data(app)
    requests = [put("a"), put("kept", v=2), delete("kept"), fail(how), put("after")]
    response = app.post_json(URL, {"requests": requests}, status=status)
    body = response.json
    assert body["code"] == status
    assert body["errno"] == errno
    assert body["details"] == {"index": 3, "method": "POST", "path": f"/v1/fail/{how}", "status": status}
    assert f"/v1/fail/{how}" in body["message"]
    assert stored_data(app) == before
    assert stored() == ["kept"]


def test_a_backend_failure_answers_retry_after(app):
    response = app.post_json(URL, {"requests": [put("a"), fail("backend")]}, status=503)
    assert int(response.headers["Retry-After"]) > 0


def test_client_errors_are_reported_and_the_others_commit(app, stored):
    requests = [
        put("a", n=1),
        {"method": "PUT", "path": "/items/bad", "body": {"nodata": True}},
        {"path": "/items/missing"},
        {"path": "/nowhere"},
        delete("missing"),
        put("b", n=2),
    ]
    response = app.post_json(URL, {"requests": requests})
    assert [r["status"] for r in response.json["responses"]] == [200, 400, 404, 404, 404, 200]
    assert stored() == ["a", "b"]


def test_later_sub_requests_see_earlier_writes(app):
    responses = app.post_json(URL, {"requests": [put("a", n=1), put("a", n=2), {"path": "/items/a"}]}).json
    assert responses["responses"][2]["body"]["data"]["n"] == 2


def test_events_of_the_batch_are_announced_once_changed_then_after_commit(app, events):
    app.put_json("/v1/items/old", {"data": {}})
    events.clear()
    requests = [put("a"), put("b"), put("old", v=2), delete("a"), {"path": "/nowhere"}]
    app.post_json(URL, {"requests": requests})
    assert events.summary() == [
        ("ResourceChanged", "create", ["a", "b"]),
        ("ResourceChanged", "update", ["old"]),
        ("ResourceChanged", "delete", ["a"]),
        ("AfterResourceChanged", "create", ["a", "b"]),
        ("AfterResourceChanged", "update", ["old"]),
        ("AfterResourceChanged", "delete", ["a"]),
    ]
    update = events.events[1]
    assert update.impacted_objects[0]["old"]["id"] == "old"
    assert update.impacted_objects[0]["new"]["v"] == 2


def test_events_carry_the_sub_requests_user(app, events):
    from kinto.core.testing import basic_auth_header

    alice = basic_auth_header("alice", "secret")
    app.post_json(URL, {"requests": [{**put("a"), "headers": alice}]})
    userid = app.get("/v1/whoami", headers=alice).json["userid"]
    assert {event.payload["user_id"] for event in events.events} == {userid}


@pytest.mark.parametrize("how", ["crash", "backend", "sql", "status-502"])
def test_nothing_is_announced_for_a_rolled_back_batch(app, events, how):
    app.post_json(URL, {"requests": [put("a"), put("b"), fail(how)]}, status=(500, 502, 503))
    assert events.events == []


def test_a_batch_without_writes_announces_nothing(app, events):
    app.post_json(URL, {"requests": [{"path": "/items"}, {"path": "/items/x"}]})
    assert events.events == []


def test_changes_are_visible_to_others_only_once_committed(app, events, backend):
    if backend not in SQL_BACKENDS:
        pytest.skip("the memory backend has no isolation between threads: uncommitted writes are visible")
    registry = app.app.registry
    seen = []

    def look_from_another_thread(event):
        result = {}
        reader = threading.Thread(target=lambda: result.setdefault("ids", stored_items(registry)))
        reader.start()
        reader.join(10)
        seen.append((type(event).__name__, result.get("ids")))

    events.on_event = look_from_another_thread
    app.post_json(URL, {"requests": [put("a"), put("b")]})
    assert seen == [("ResourceChanged", []), ("AfterResourceChanged", ["a", "b"])]


@pytest.mark.parametrize("how", ["sql", "crash", "backend"])
def test_a_failed_batch_leaves_no_broken_connection(app, stored, how):
    # More rounds than the connection pool holds: a connection left in an
    # aborted transaction, or never returned, would show up here.
    for round_number in range(12):
        app.post_json(URL, {"requests": [put(f"lost{round_number}"), fail(how)]}, status=(500, 503))
        response = app.post_json(URL, {"requests": [put(f"ok{round_number}"), {"path": "/items"}]})
        assert [r["status"] for r in response.json["responses"]] == [200, 200]
        assert app.get(f"/v1/items/ok{round_number}").status_code == 200
    assert stored() == sorted(f"ok{n}" for n in range(12))


def test_a_database_error_hidden_by_a_view_is_undone_with_its_sub_request(app, stored, events):
    """The view answers 409 after a failed statement: its savepoint is rolled back, which on
    SQL backends also clears the failed statement, so the other sub-requests commit."""
    response = app.post_json(URL, {"requests": [put("a"), fail("swallowed-sql"), put("b")]})
    assert [r["status"] for r in response.json["responses"]] == [200, 409, 200]
    assert stored() == ["a", "b"]
    assert "doomed-swallowed-sql" not in {i for _, _, ids in events.summary() for i in ids}
    assert app.post_json(URL, {"requests": [put("c")]}).status_code == 200
    assert "c" in stored()


def test_a_sub_request_answering_4xx_after_writing_leaves_nothing_behind(app, stored, events):
    app.put_json("/v1/items/kept", {"data": {"v": 1}})
    events.clear()
    requests = [put("a"), put("kept", v=2), fail("client-error"), delete("a"), put("b")]
    response = app.post_json(URL, {"requests": requests})
    assert [r["status"] for r in response.json["responses"]] == [200, 200, 400, 200, 200]
    assert stored() == ["b", "kept"]
    assert stored_data(app)["kept"]["v"] == 2
    assert events.summary() == [
        ("ResourceChanged", "create", ["a", "b"]),
        ("ResourceChanged", "update", ["kept"]),
        ("ResourceChanged", "delete", ["a"]),
        ("AfterResourceChanged", "create", ["a", "b"]),
        ("AfterResourceChanged", "update", ["kept"]),
        ("AfterResourceChanged", "delete", ["a"]),
    ]


def test_an_undone_sub_request_leaves_earlier_events_of_the_same_kind_intact(app, stored, events):
    """Changes of one action and resource are merged into one event: undoing a
    sub-request removes its objects from it, and its timestamp."""
    response = app.post_json(URL, {"requests": [put("a"), fail("client-error")]})
    assert [r["status"] for r in response.json["responses"]] == [200, 400]
    created = events.events[0]
    assert [change["new"]["id"] for change in created.impacted_objects] == ["a"]
    assert created.payload["timestamp"] == created.impacted_objects[0]["new"]["last_modified"]
    assert stored() == ["a"]


def test_many_undone_sub_requests_in_a_row(app, stored):
    requests = [fail("client-error") if n % 2 else put(f"k{n}") for n in range(10)]
    response = app.post_json(URL, {"requests": requests})
    assert [r["status"] for r in response.json["responses"]] == [200, 400] * 5
    assert stored() == ["k0", "k2", "k4", "k6", "k8"]


def test_concurrent_batches_do_not_mix(app, stored, backend):
    errors = []

    def run(prefix):
        try:
            for round_number in range(5):
                requests = [put(f"{prefix}{round_number}-{n}") for n in range(3)]
                if round_number % 2:
                    requests.append(fail("crash"))
                app.post_json(URL, {"requests": requests}, status=(200, 500))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(prefix,)) for prefix in "xyz"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    expected = sorted(f"{prefix}{r}-{n}" for prefix in "xyz" for r in (0, 2, 4) for n in range(3))
    assert stored() == expected
