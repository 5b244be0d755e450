"""FluentRenderer: records at the receiver, the classic line locally, and Fluentd's outages never felt."""

import datetime
import logging
import multiprocessing
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from kinto.core.logs import ClassicLogRenderer
from pyramid.path import DottedNameResolver

from kinto_fluent import FluentRenderer

SUMMARY = {
    "event": "request.summary",
    "method": "POST",
    "path": "/v1/buckets",
    "querystring": "",
    "code": 201,
    "t": 4,
    "uid": "basicauth:ab12",
    "errno": 0,
    "agent": "pytest",
    "lang": "fr",
    "level": "info",
}
LOGGER = logging.getLogger("kinto.core.summary")


def summary(**fields: Any) -> dict[str, Any]:
    return {**SUMMARY, **fields}


def render(renderer: FluentRenderer, count: int, **fields: Any) -> None:
    for number in range(count):
        renderer(LOGGER, "info", summary(number=number, **fields))


def numbered(event) -> bool:
    return "number" in event.record


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_an_event_arrives_as_one_record_with_its_fields(fluentd, make_renderer):
    renderer = make_renderer(fluentd.settings())

    renderer(LOGGER, "info", summary())

    [event] = fluentd.receiver.wait_for(1)
    record = dict(event.record)
    timestamp = record.pop("timestamp")
    assert event.tag == "kinto"
    assert record == {**SUMMARY, "logger": "kinto.core.summary", "hostname": socket.gethostname(), "pid": os.getpid()}
    assert abs(datetime.datetime.fromisoformat(timestamp).timestamp() - event.time) < 1


def test_the_record_time_has_nanoseconds_unless_disabled(fluentd, make_renderer):
    precise = make_renderer(fluentd.settings())
    whole = make_renderer(
        fluentd.settings(**{"kinto_fluent.nanosecond_precision": False, "kinto_fluent.tag": "kinto.seconds"})
    )

    precise(LOGGER, "info", summary())
    whole(LOGGER, "info", summary())

    times = {event.tag: event.time for event in fluentd.receiver.wait_for(2)}
    assert times["kinto.seconds"] == int(times["kinto.seconds"])
    assert times["kinto"] != int(times["kinto"])


def test_the_tag_comes_from_the_settings(fluentd, make_renderer):
    renderer = make_renderer(fluentd.settings(**{"kinto_fluent.tag": "kinto.production"}))

    renderer(LOGGER, "info", {"event": "hello"})

    assert [event.tag for event in fluentd.receiver.wait_for(1)] == ["kinto.production"]


def test_it_returns_the_line_of_the_classic_renderer(receiver, make_renderer):
    renderer = make_renderer({"kinto_fluent.port": receiver.port, "kinto_fluent.host": "127.0.0.1"})

    line = renderer(LOGGER, "info", summary())

    assert line == ClassicLogRenderer()(LOGGER, "info", summary())
    assert line.startswith("POST /v1/buckets 201 (4 ms) request.summary")


def test_the_event_dict_is_not_changed(receiver, make_renderer):
    renderer = make_renderer({"kinto_fluent.port": receiver.port, "kinto_fluent.host": "127.0.0.1"})
    event = summary(nested={"when": ("a", b"b")})

    renderer(LOGGER, "info", event)

    assert event == summary(nested={"when": ("a", b"b")})


def test_events_in_order_all_arrive(fluentd, make_renderer):
    renderer = make_renderer(fluentd.settings())

    render(renderer, 200)

    events = fluentd.receiver.wait_for(200, numbered)
    assert [event.record["number"] for event in events] == list(range(200))
    assert renderer.dropped == 0


def test_with_fluentd_down_events_are_kept_and_arrive_when_it_comes_back(receiver, make_renderer, caplog):
    renderer = make_renderer({"kinto_fluent.port": receiver.port, "kinto_fluent.host": "127.0.0.1"})
    receiver.stop()

    render(renderer, 50)
    receiver.start()

    # No event follows the outage: the sender retries on its own.
    events = receiver.wait_for(50, numbered)
    assert [event.record["number"] for event in events] == list(range(50))
    assert renderer.dropped == 0
    assert not [record for record in caplog.records if record.name == "kinto_fluent"]


def test_a_burst_larger_than_the_queue_drops_the_oldest_counts_them_and_reports_once(receiver, make_renderer, caplog):
    renderer = make_renderer(
        {"kinto_fluent.port": receiver.port, "kinto_fluent.host": "127.0.0.1", "kinto_fluent.queue_size": 10}
    )
    renderer(LOGGER, "info", {"event": "connected"})
    receiver.wait_for(1)
    receiver.pause()  # Fluentd too slow: the socket's buffers fill, then the queue.

    render(renderer, 5000, padding="x" * 1000)
    receiver.resume()
    renderer.close(timeout=10)

    assert wait_until(lambda: len(receiver.received(numbered)) + renderer.dropped == 5000)
    numbers = [event.record["number"] for event in receiver.received(numbered)]
    assert renderer.dropped > 0
    assert len(numbers) + renderer.dropped == 5000
    assert numbers == sorted(numbers)
    assert numbers[-1] == 4999  # the newest are kept
    warnings = [record for record in caplog.records if record.name == "kinto_fluent"]
    assert len(warnings) == 1
    assert f"127.0.0.1:{receiver.port}" in warnings[0].getMessage()


def test_a_burst_larger_than_the_retry_buffer_keeps_the_newest_events(receiver, make_renderer, caplog):
    renderer = make_renderer(
        {
            "kinto_fluent.port": receiver.port,
            "kinto_fluent.host": "127.0.0.1",
            "kinto_fluent.buffer_size_bytes": 20_000,
            "kinto_fluent.queue_size": 100_000,
        }
    )
    receiver.stop()

    render(renderer, 1000, padding="y" * 100)
    receiver.start()

    # The idle sender retries on its own once Fluentd is back: no new event is needed.
    assert wait_until(lambda: len(receiver.received(numbered)) + renderer.dropped == 1000)
    numbers = [event.record["number"] for event in receiver.received(numbered)]
    assert 0 < renderer.dropped < 1000
    assert numbers == list(range(renderer.dropped, 1000))
    assert len([record for record in caplog.records if record.name == "kinto_fluent"]) == 1


def test_rendering_never_waits_for_a_stalled_fluentd(receiver, make_renderer):
    renderer = make_renderer(
        {"kinto_fluent.port": receiver.port, "kinto_fluent.host": "127.0.0.1", "kinto_fluent.queue_size": 5}
    )
    renderer(LOGGER, "info", {"event": "connected"})
    receiver.wait_for(1)
    receiver.pause()
    lines: list[str] = []

    worker = threading.Thread(target=lambda: lines.extend(renderer(LOGGER, "info", summary()) for _ in range(20_000)))
    worker.start()
    worker.join(60)

    # Deadlock check, not a speed check: all calls returned while the receiver still reads nothing.
    assert not worker.is_alive()
    assert len(lines) == 20_000
    assert renderer.dropped > 0
    receiver.resume()


def test_closing_delivers_what_is_queued(fluentd, make_renderer):
    renderer = make_renderer(fluentd.settings())

    render(renderer, 100)
    renderer.close()

    assert len(fluentd.receiver.wait_for(100, numbered)) == 100


def test_closing_with_fluentd_unreachable_waits_at_most_the_timeout(receiver, make_renderer):
    renderer = make_renderer({"kinto_fluent.port": receiver.port, "kinto_fluent.host": "127.0.0.1"})
    receiver.pause()
    render(renderer, 100, padding="z" * 100_000)

    closer = threading.Thread(target=renderer.close, kwargs={"timeout": 0.5})
    closer.start()
    closer.join(30)

    assert not closer.is_alive()
    receiver.resume()


def test_after_close_events_still_render_locally(receiver, make_renderer):
    renderer = make_renderer({"kinto_fluent.port": receiver.port, "kinto_fluent.host": "127.0.0.1"})
    renderer.close()

    line = renderer(LOGGER, "info", {"event": "late"})

    assert line == "late"
    assert renderer.dropped == 0


def _render_in_child(renderer: FluentRenderer) -> None:
    renderer(LOGGER, "info", {"event": "from the child"})
    renderer.close(timeout=5)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_worker_starts_its_own_sender(receiver, make_renderer):
    renderer = make_renderer({"kinto_fluent.port": receiver.port, "kinto_fluent.host": "127.0.0.1"})
    renderer(LOGGER, "info", {"event": "from the parent"})
    receiver.wait_for(1)

    child = multiprocessing.get_context("fork").Process(target=_render_in_child, args=(renderer,))
    child.start()
    child.join(30)

    [event] = receiver.wait_for(1, lambda event: event.record["event"] == "from the child")
    assert child.exitcode == 0
    assert event.record["pid"] == child.pid


def test_an_unreachable_host_name_fails_nothing(make_renderer):
    renderer = make_renderer({"kinto_fluent.host": "unix:///nonexistent/fluentd.sock"})

    line = renderer(LOGGER, "info", {"event": "nobody listens"})

    assert line == "nobody listens"


@pytest.mark.parametrize("dotted", ["kinto_fluent.FluentRenderer", "cliquet_fluent.FluentRenderer"])
def test_the_documented_dotted_names_resolve_to_the_renderer(dotted):
    assert DottedNameResolver().resolve(dotted) is FluentRenderer


def test_the_renderer_is_advertised_under_a_short_name():
    from importlib.metadata import entry_points

    [entry_point] = [entry for entry in entry_points(group="kinto.renderer") if entry.name == "fluent"]
    assert entry_point.load() is FluentRenderer
