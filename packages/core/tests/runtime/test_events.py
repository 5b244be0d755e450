"""The event bus with synthetic events: batching, commit/rollback semantics, listeners from settings."""

import pytest

from kinto.core import Service
from kinto.core.events import (
    ACTIONS,
    AfterResourceChanged,
    ResourceChanged,
    notify_resource_event,
)
from kinto.core.testing import make_app

from . import listeners_for_tests

write = Service(name="write", path="/write/{outcome}")


@write.post()
def write_view(request):
    outcome = request.matchdict["outcome"]
    for index in range(2):
        notify_resource_event(request, "/buckets/b1", 100 + index, {"id": f"r{index}"}, ACTIONS.CREATE,
                              resource_name="record", resource_data={"bucket_id": "b1"})
    notify_resource_event(request, "/buckets/b1", 200, {"id": "r0", "v": 2}, ACTIONS.UPDATE,
                          old={"id": "r0"}, resource_name="record")
    if outcome == "crash":
        raise RuntimeError("after notifying")
    if outcome == "server-error":
        request.response.status = 502
    return {"ok": True}


class Recorder:
    def __init__(self):
        self.events = []

    def __call__(self, event):
        self.events.append(event)


@pytest.fixture
def recorded():
    return {"changed": Recorder(), "after": Recorder()}


@pytest.fixture
def app(recorded):
    def include(config):
        config.scan(__name__)
        config.add_subscriber(recorded["changed"], ResourceChanged)
        config.add_subscriber(recorded["after"], AfterResourceChanged)

    return make_app({}, [include])


def test_changes_are_batched_per_action_resource_and_parent(app, recorded):
    app.post_json("/v1/write/ok", {})
    changed = [e for e in recorded["changed"].events if not isinstance(e, AfterResourceChanged)]
    assert [e.payload["action"] for e in changed] == ["create", "update"]
    create = changed[0]
    assert [obj["new"]["id"] for obj in create.impacted_objects] == ["r0", "r1"]
    assert create.payload["timestamp"] == 101
    assert create.payload["resource_name"] == "record"
    assert create.payload["bucket_id"] == "b1"
    assert create.payload["uri"] == "/v1/write/ok"
    assert create.payload["user_id"] is None
    update = changed[1]
    assert update.impacted_objects == [{"new": {"id": "r0", "v": 2}, "old": {"id": "r0"}}]


def test_after_resource_changed_follows_the_commit(app, recorded):
    app.post_json("/v1/write/ok", {})
    after = recorded["after"].events
    assert [e.payload["action"] for e in after] == ["create", "update"]


def test_nothing_after_commit_when_the_view_crashes(app, recorded):
    app.post_json("/v1/write/crash", {}, status=500)
    assert recorded["after"].events == []
    assert [e for e in recorded["changed"].events if not isinstance(e, AfterResourceChanged)] == []


def test_nothing_after_commit_on_a_server_error_response(app, recorded):
    app.post_json("/v1/write/server-error", {}, status=502)
    assert recorded["after"].events == []


def test_a_failing_resource_changed_subscriber_rolls_back():
    after = Recorder()

    def boom(event):
        raise RuntimeError("veto")

    def include(config):
        config.scan(__name__)
        config.add_subscriber(boom, ResourceChanged)
        config.add_subscriber(after, AfterResourceChanged)

    app = make_app({}, [include])
    app.post_json("/v1/write/ok", {}, status=500)
    assert after.events == []


def test_a_failing_after_commit_subscriber_does_not_change_the_response():
    def boom(event):
        raise RuntimeError("late")

    def include(config):
        config.scan(__name__)
        config.add_subscriber(boom, AfterResourceChanged)

    assert make_app({}, [include]).post_json("/v1/write/ok", {}).json == {"ok": True}


def test_subscriber_predicates_filter_actions_and_resources():
    only_updates, only_groups = Recorder(), Recorder()

    def include(config):
        config.scan(__name__)
        config.add_subscriber(only_updates, AfterResourceChanged, for_actions=(ACTIONS.UPDATE,))
        config.add_subscriber(only_groups, AfterResourceChanged, for_resources=("group",))

    make_app({}, [include]).post_json("/v1/write/ok", {})
    assert [e.payload["action"] for e in only_updates.events] == ["update"]
    assert only_groups.events == []


def test_listeners_from_settings_with_filters():
    listeners_for_tests.RECEIVED.clear()
    settings = {
        "event_listeners": "all creates",
        "event_listeners.all.use": listeners_for_tests.__name__,
        "event_listeners.creates.use": listeners_for_tests.__name__,
        "event_listeners.creates.actions": "create",
        "event_listeners.creates.resources": "record",
    }

    def include(config):
        config.scan(__name__)

    make_app(settings, [include]).post_json("/v1/write/ok", {})
    assert [item[1]["action"] for item in listeners_for_tests.RECEIVED["all"]] == ["create", "update"]
    assert [item[1]["action"] for item in listeners_for_tests.RECEIVED["creates"]] == ["create"]
    assert {item[0] for item in listeners_for_tests.RECEIVED["all"]} == {"AfterResourceChanged"}


def test_listener_without_use_fails_start_up_naming_the_setting():
    from pyramid.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match=r"event_listeners\.x\.use"):
        make_app({"event_listeners": "x"})


def test_listener_with_unknown_action_fails_start_up():
    from pyramid.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="actions"):
        make_app({"event_listeners": "x", "event_listeners.x.use": listeners_for_tests.__name__,
                  "event_listeners.x.actions": "explode"})
