"""The event bus with synthetic events: batching, commit/rollback semantics, listeners from settings."""

import pytest
from pyramid.config import Configurator

from kinto.core import Service
from kinto.core.events import (
    ACTIONS,
    AfterResourceChanged,
    AfterResourceRead,
    ResourceChanged,
    ResourceRead,
    notify_resource_event,
)
from kinto.core.listeners import ListenerBase
from kinto.core.testing import make_app
from kinto.core.testing.metrics import RecordingMetricsService

from . import listeners_for_tests

write = Service(name="write", path="/write/{outcome}")
read = Service(name="read", path="/read/{id}")


@write.post()
def write_view(request):
    outcome = request.matchdict["outcome"]
    for index in range(2):
        notify_resource_event(
            request,
            "/buckets/b1",
            100 + index,
            {"id": f"r{index}"},
            ACTIONS.CREATE,
            resource_name="record",
            resource_data={"bucket_id": "b1"},
        )
    notify_resource_event(
        request, "/buckets/b1", 200, {"id": "r0", "v": 2}, ACTIONS.UPDATE, old={"id": "r0"}, resource_name="record"
    )
    if outcome == "crash":
        raise RuntimeError("after notifying")
    if outcome == "server-error":
        request.response.status = 502
    return {"ok": True}


@read.get()
def read_view(request):
    notify_resource_event(
        request, "/buckets/b1", 300, [{"id": request.matchdict["id"]}], ACTIONS.READ, resource_name="record"
    )
    return {"ok": True}


plugin_write = Service(name="plugin_write", path="/plugin-write/{id}")


@plugin_write.put()
def plugin_write_view(request):
    # As a plugin written for Kinto announces a change.
    request.notify_resource_event(
        parent_id="/buckets/b1",
        timestamp=400,
        data={"id": request.matchdict["id"]},
        action=ACTIONS.CREATE,
        resource_name="record",
    )
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
    assert create.payload["uri"] == "/write/ok"  # as Kinto: without the version prefix
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


def test_each_subscriber_hears_each_change_once():
    # Kinto's four event classes are unrelated: a ResourceChanged subscriber is not
    # handed the AfterResourceChanged of the same change as well.
    changed, after = Recorder(), Recorder()

    def include(config):
        config.scan(__name__)
        config.add_subscriber(changed, ResourceChanged)
        config.add_subscriber(after, AfterResourceChanged)

    make_app({}, [include]).post_json("/v1/write/ok", {})
    assert [type(e).__name__ for e in changed.events] == ["ResourceChanged", "ResourceChanged"]
    assert [type(e).__name__ for e in after.events] == ["AfterResourceChanged", "AfterResourceChanged"]


def test_reads_are_announced_inside_the_transaction_and_after_the_commit():
    read_events, after = Recorder(), Recorder()

    def include(config):
        config.scan(__name__)
        config.add_subscriber(read_events, ResourceRead)
        config.add_subscriber(after, AfterResourceRead)

    make_app({}, [include]).get("/v1/read/r7")
    (event,) = read_events.events
    (committed,) = after.events
    assert type(event) is ResourceRead and type(committed) is AfterResourceRead
    assert event.read_objects == committed.read_objects == [{"id": "r7"}]
    assert event.payload["action"] == "read"
    assert event.payload["resource_name"] == "record"
    assert event.payload["uri"] == "/read/r7"
    # Without resource data, the route's matchdict goes into the payload, ``id`` named after the resource.
    assert event.payload["record_id"] == "r7"


def test_a_plugin_announces_changes_through_the_request(app, recorded):
    app.put_json("/v1/plugin-write/r9", {})
    (event,) = recorded["after"].events
    assert event.impacted_objects == [{"new": {"id": "r9"}}]
    assert (event.payload["action"], event.payload["record_id"], event.payload["timestamp"]) == ("create", "r9", 400)


def test_former_names_of_the_objects_still_answer_with_a_warning(app, recorded):
    app.post_json("/v1/write/ok", {})
    event = recorded["changed"].events[0]
    with pytest.warns(DeprecationWarning, match="impacted_objects"):
        assert event.impacted_records == event.impacted_objects


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

    app = make_app(settings, [include])
    app.post_json("/v1/write/ok", {})
    app.get("/v1/read/r1")
    assert [item[1]["action"] for item in listeners_for_tests.RECEIVED["all"]] == ["create", "update"]
    assert [item[1]["action"] for item in listeners_for_tests.RECEIVED["creates"]] == ["create"]
    # As in Kinto: listeners hear ResourceChanged, inside the transaction, and no reads unless asked.
    assert {item[0] for item in listeners_for_tests.RECEIVED["all"]} == {"ResourceChanged"}


def test_a_listener_with_read_among_its_actions_hears_reads():
    listeners_for_tests.RECEIVED.clear()
    settings = {
        "event_listeners": "reads",
        "event_listeners.reads.use": listeners_for_tests.__name__,
        "event_listeners.reads.actions": "read create",
    }

    def include(config):
        config.scan(__name__)

    app = make_app(settings, [include])
    app.get("/v1/read/r1")
    app.post_json("/v1/write/ok", {})
    assert [(item[0], item[1]["action"]) for item in listeners_for_tests.RECEIVED["reads"]] == [
        ("ResourceRead", "read"),
        ("ResourceChanged", "create"),
    ]


def test_a_listener_named_by_its_module_alone_reads_its_options_under_the_last_part():
    listeners_for_tests.RECEIVED.clear()
    settings = {
        "event_listeners": listeners_for_tests.__name__,
        "event_listeners.listeners_for_tests.actions": "update",
    }

    def include(config):
        config.scan(__name__)

    make_app(settings, [include]).post_json("/v1/write/ok", {})
    assert [item[1]["action"] for item in listeners_for_tests.RECEIVED["listeners_for_tests"]] == ["update"]


def test_a_failing_listener_from_settings_fails_the_request_before_the_commit():
    after = Recorder()
    settings = {
        "event_listeners": "strict",
        "event_listeners.strict.use": listeners_for_tests.__name__,
        "event_listeners.strict.fail": "true",
    }

    def include(config):
        config.scan(__name__)
        config.add_subscriber(after, AfterResourceChanged)

    make_app(settings, [include]).post_json("/v1/write/ok", {}, status=500)
    assert after.events == []


def test_a_listener_may_ask_for_the_events_after_the_commit():
    listeners_for_tests.RECEIVED.clear()
    settings = {
        "event_listeners": "late",
        "event_listeners.late.use": listeners_for_tests.__name__,
        "event_listeners.late.events": "AfterResourceChanged",
    }

    def include(config):
        config.scan(__name__)

    make_app(settings, [include]).post_json("/v1/write/ok", {})
    assert [item[0] for item in listeners_for_tests.RECEIVED["late"]] == ["AfterResourceChanged"] * 2


def test_listeners_from_settings_are_listener_bases_timed_by_the_metrics_service():
    listeners_for_tests.RECEIVED.clear()
    service = RecordingMetricsService()
    settings = {"event_listeners": "audit", "event_listeners.audit.use": listeners_for_tests.__name__}
    built = listeners_for_tests.load_from_config(Configurator(settings={}), "event_listeners.audit.")
    assert isinstance(built, ListenerBase)

    def include(config):
        config.scan(__name__)

    make_app(settings, [include, service.include]).post_json("/v1/write/ok", {})
    assert [key for key, _ in service.timed if key.startswith("listeners.")] == ["listeners.audit.seconds"] * 2


def test_a_listener_base_must_be_given_a_call():
    with pytest.raises(NotImplementedError):
        ListenerBase("any", option=True)(object())


def test_listener_without_use_fails_start_up_naming_the_setting():
    from pyramid.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match=r"event_listeners\.x\.use"):
        make_app({"event_listeners": "x"})


def test_listener_with_unknown_action_fails_start_up():
    from pyramid.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="actions"):
        make_app(
            {
                "event_listeners": "x",
                "event_listeners.x.use": listeners_for_tests.__name__,
                "event_listeners.x.actions": "explode",
            }
        )
