"""The log renderer contract suite.

Subclass ``RendererContract`` and provide a ``renderer_factory`` fixture:
``renderer_factory(settings) -> renderer``, building the renderer the way the
core does (``Cls(settings)`` for a ``kinto.core.logs.Renderer`` subclass, the
callable itself otherwise). The pytest plugin provides one for
``--kinto-backend=dotted.Renderer``.

A renderer turns any event into a string, whatever the values it carries, and
never changes the caller's event dict: it runs last in every log call, so an
exception there would break the request being logged.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import logging
import math
import uuid
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinto.core.logs import REQUEST_SUMMARY_EVENT
from kinto.core.testing.plugin import CONTRACT_HEALTH_CHECKS, run_in_threads

__all__ = ["RendererContract", "request_summary"]

LEVELS = ["debug", "info", "warning", "warn", "error", "critical", "exception", "msg"]


def request_summary(**overrides: Any) -> dict[str, Any]:
    """A request summary event as the core logs it, with ``overrides`` applied."""
    event = {
        "event": REQUEST_SUMMARY_EVENT,
        "method": "GET",
        "path": "/v1/buckets/blog/collections/articles/records",
        "querystring": "_limit=10&_sort=-last_modified",
        "code": 200,
        "t": 3,
        "time": "2026-12-07T10:00:00.123000",
        "rid": "2f5b7a0e-3c4d-4e8f-9a1b-0c2d3e4f5a6b",
        "uid": "basicauth:5b1e2c",
        "authn_type": "basicauth",
        "errno": 0,
        "agent": "kinto-http/11.0",
        "lang": None,
    }
    event.update(overrides)
    return event


ODD_VALUES = [
    pytest.param(object(), id="object"),
    pytest.param({1, 2, 3}, id="set"),
    pytest.param(b"\x00\xffbytes", id="bytes"),
    pytest.param(datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC), id="datetime"),
    pytest.param(decimal.Decimal("1.10"), id="decimal"),
    pytest.param(uuid.UUID(int=1), id="uuid"),
    pytest.param(math.nan, id="nan"),
    pytest.param(-math.inf, id="infinity"),
    pytest.param(2**200, id="huge-int"),
    pytest.param("\u00e9t\u00e9 \u65e5\u672c \U0001f600 \u202e rtl", id="unicode"),
    pytest.param("\ud800 lone surrogate", id="lone-surrogate"),
    pytest.param("line\nbreak\ttab\x00nul\x1bescape", id="control-characters"),
    pytest.param("x" * 1_000_000, id="huge-string"),
    pytest.param(list(range(10_000)), id="long-list"),
    pytest.param({1: "int key", (2, 3): "tuple key", None: "none key"}, id="non-string-keys"),
    pytest.param(ValueError("boom"), id="exception"),
    pytest.param(lambda: None, id="function"),
]


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": True}
    for _ in range(depth):
        value = {"child": value}
    return value


class RendererContract:
    """The behaviour every log renderer must show."""

    pytestmark: ClassVar[list[Any]] = [pytest.mark.contract]

    @pytest.fixture
    def renderer(self, renderer_factory: Any) -> Any:
        return renderer_factory({})

    def render(self, renderer: Any, event: dict[str, Any], method_name: str = "info") -> str:
        line = renderer(logging.getLogger("kinto.conformance"), method_name, event)
        assert isinstance(line, str), f"the renderer returned {type(line).__name__}, not str"
        return line

    # -- shape --------------------------------------------------------------

    def test_the_renderer_is_callable(self, renderer):
        assert callable(renderer)

    def test_a_request_summary_renders_to_a_string_naming_the_request(self, renderer):
        line = self.render(renderer, request_summary())
        assert "/v1/buckets/blog/collections/articles/records" in line
        assert "GET" in line

    @pytest.mark.parametrize("code", [200, 304, 401, 404, 500, 503])
    def test_request_summaries_of_any_status_render(self, renderer, code):
        line = self.render(renderer, request_summary(code=code, errno=0 if code < 400 else 110))
        assert str(code) in line

    def test_a_request_summary_with_missing_fields_renders(self, renderer):
        self.render(renderer, {"event": REQUEST_SUMMARY_EVENT, "path": "/v1/"})

    def test_a_request_summary_with_none_everywhere_renders(self, renderer):
        self.render(renderer, request_summary(method=None, path=None, code=None, t=None, uid=None, errno=None))

    def test_an_arbitrary_event_renders_to_a_string_naming_it(self, renderer):
        line = self.render(renderer, {"event": "cache.miss", "key": "token:abc", "count": 3})
        assert "cache.miss" in line

    def test_an_event_without_a_name_renders(self, renderer):
        self.render(renderer, {"key": "value"})

    def test_an_empty_event_renders(self, renderer):
        self.render(renderer, {})

    def test_a_free_text_message_renders(self, renderer):
        line = self.render(renderer, {"event": "Backend reached after 3 retries"})
        assert "Backend reached" in line

    @pytest.mark.parametrize("method_name", LEVELS)
    def test_every_level_renders(self, renderer, method_name):
        self.render(renderer, {"event": "something.happened", "level": method_name}, method_name)

    def test_an_unknown_level_renders(self, renderer):
        self.render(renderer, {"event": "odd"}, "notalevel")

    def test_a_missing_logger_is_accepted(self, renderer):
        line = renderer(None, "info", {"event": "no.logger"})
        assert isinstance(line, str)

    def test_an_event_with_exception_text_renders(self, renderer):
        try:
            raise ValueError("boom")
        except ValueError:
            import traceback

            text = traceback.format_exc()
        self.render(renderer, {"event": "request.failed", "exception": text}, "error")

    # -- odd values -----------------------------------------------------------

    @pytest.mark.parametrize("value", ODD_VALUES)
    def test_odd_values_in_an_event_do_not_raise(self, renderer, value):
        self.render(renderer, {"event": "odd.value", "value": value})

    @pytest.mark.parametrize("value", ODD_VALUES)
    def test_odd_values_in_a_request_summary_do_not_raise(self, renderer, value):
        self.render(renderer, request_summary(agent=value, querystring=value))

    def test_an_odd_event_name_does_not_raise(self, renderer):
        for name in (None, 42, b"bytes", object(), "\u65e5\u672c", "x" * 100_000):
            self.render(renderer, {"event": name})

    def test_deeply_nested_values_do_not_raise(self, renderer):
        self.render(renderer, {"event": "deep", "value": _nested(200)})

    def test_a_self_referencing_value_does_not_raise(self, renderer):
        loop: dict[str, Any] = {"name": "loop"}
        loop["self"] = loop
        self.render(renderer, {"event": "loop", "value": loop})

    def test_many_fields_render(self, renderer):
        event = {f"field_{index}": index for index in range(2000)}
        event["event"] = "wide"
        self.render(renderer, event)

    @settings(max_examples=50, deadline=None, suppress_health_check=CONTRACT_HEALTH_CHECKS)
    @given(
        fields=st.dictionaries(
            st.text(max_size=12),
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children),
                max_leaves=10,
            ),
            max_size=8,
        ),
        method_name=st.sampled_from(LEVELS),
    )
    def test_any_event_renders_to_a_string(self, renderer, fields, method_name):
        self.render(renderer, dict(fields), method_name)

    # -- the caller's dict ------------------------------------------------------

    def test_the_callers_event_dict_is_not_changed(self, renderer):
        nested = {"tags": ["a", "b"], "meta": {"n": 1}}
        event = request_summary(extra=nested)
        expected = copy.deepcopy(event)
        self.render(renderer, event)
        assert event == expected
        assert event["extra"] is nested
        assert nested == {"tags": ["a", "b"], "meta": {"n": 1}}

    def test_an_arbitrary_event_dict_is_not_changed(self, renderer):
        event = {"event": "thing", "timestamp": "2026-01-01T00:00:00Z", "level": "info", "value": [1, {"a": 2}]}
        expected = copy.deepcopy(event)
        self.render(renderer, event)
        assert event == expected

    def test_rendering_twice_gives_equivalent_lines(self, renderer):
        event = {"event": "stable", "key": "value"}
        first = self.render(renderer, dict(event))
        second = self.render(renderer, dict(event))
        assert ("stable" in first) == ("stable" in second)

    # -- settings and threads -------------------------------------------------

    def test_the_renderer_builds_from_empty_settings(self, renderer_factory):
        self.render(renderer_factory({}), {"event": "built"})

    def test_the_renderer_builds_from_the_core_settings(self, renderer_factory):
        settings = {"project_name": "conformance", "kinto.project_name": "conformance", "logging_renderer": ""}
        self.render(renderer_factory(settings), request_summary())

    def test_threads_can_render_at_once(self, renderer):
        lines: list[str] = []

        def work(thread: int) -> None:
            for index in range(50):
                lines.append(self.render(renderer, request_summary(t=index, uid=f"user-{thread}")))

        run_in_threads(work, count=4)
        assert len(lines) == 200
