"""What the shipped renderers write for values JSON cannot hold as they are.

The renderer contract (``kinto.core.testing.renderer``) only demands that
nothing raises; these tests pin down that the line stays useful too.
"""

import datetime
import json
import math
import uuid

import pytest

from kinto.core.logs import ClassicLogRenderer, JsonLogRenderer
from kinto.core.testing.renderer import request_summary


def classic(event):
    return ClassicLogRenderer()(None, "info", event)


def json_fields(event):
    line = JsonLogRenderer()(None, "info", event)
    return json.loads(line)["Fields"]


def self_referencing():
    loop = {"name": "loop"}
    loop["self"] = loop
    return loop


def test_a_cycle_is_written_with_a_marker():
    assert classic({"event": "e", "v": self_referencing()}) == 'e v={"name":"loop","self":"<circular reference>"}'
    assert json_fields({"event": "e", "v": self_referencing()})["v"] == {
        "name": "loop",
        "self": "<circular reference>",
    }


def test_a_value_shared_by_two_fields_is_not_taken_for_a_cycle():
    shared = [1, 2]
    fields = json_fields({"event": "e", "v": {"a": shared, "b": shared, (1,): "tuple key"}})
    assert fields["v"] == {"a": [1, 2], "b": [1, 2], "(1,)": "tuple key"}


def test_non_string_keys_are_written_as_text():
    assert classic({"event": "e", "v": {1: "a", (2, 3): "b"}}) == 'e v={"1":"a","(2, 3)":"b"}'
    assert json_fields({"event": "e", "v": {(2, 3): "b", None: "c"}})["v"] == {"(2, 3)": "b", "None": "c"}


@pytest.mark.parametrize(("value", "name"), [(math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity")])
def test_the_json_renderer_writes_strict_json_for_non_finite_floats(value, name):
    line = JsonLogRenderer()(None, "info", {"event": "e", "v": value})
    record = json.loads(line, parse_constant=lambda constant: pytest.fail(f"{constant} is not JSON"))
    assert record["Fields"]["v"] == name


def test_common_python_values_are_written_readably():
    moment = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    fields = json_fields(
        {"event": "e", "when": moment, "id": uuid.UUID(int=1), "tags": {"a"}, "raw": b"ok", "error": ValueError("boom")}
    )
    assert fields["when"] == "2026-01-02T03:04:05+00:00"
    assert fields["id"] == "00000000-0000-0000-0000-000000000001"
    assert fields["tags"] == ["a"] and fields["raw"] == "ok"
    assert fields["error"] == "ValueError('boom')"


def test_an_int_too_long_to_print_is_written_as_its_size():
    assert classic({"event": "e", "v": 2**20000}) == 'e v="<int of 20001 bits>"'
    assert json_fields({"event": "e", "v": [2**20000]})["v"] == ["<int of 20001 bits>"]


def test_nesting_deeper_than_json_allows_is_cut_with_a_marker():
    deep = {"leaf": True}
    for _ in range(5000):
        deep = {"child": deep}
    assert "<nested too deep>" in classic({"event": "e", "v": deep})
    assert "<nested too deep>" in json.dumps(json_fields({"event": "e", "v": deep}))


def test_a_value_whose_str_raises_is_written_by_its_repr():
    class Stubborn:
        def __str__(self):
            raise RuntimeError("no")

        def __repr__(self):
            return "<Stubborn>"

    assert classic({"event": "e", "v": Stubborn()}) == 'e v="<Stubborn>"'
    assert json_fields({"event": "e", "v": Stubborn()})["v"] == "<Stubborn>"


def test_control_characters_in_a_request_cannot_split_the_classic_line():
    line = classic(request_summary(path="/v1/\nGET /admin 200", querystring="a=\r\n", agent="x\ny"))
    assert "\n" not in line and "\r" not in line
    assert line.startswith("GET /v1/\\nGET /admin 200?a=\\r\\n 200 (3 ms) request.summary")
    assert 'agent="x\\ny"' in line


def test_a_non_string_querystring_is_written_after_the_question_mark():
    assert classic(request_summary(querystring=["a", 1])).startswith(
        "GET /v1/buckets/blog/collections/articles/records?['a', 1] 200"
    )
