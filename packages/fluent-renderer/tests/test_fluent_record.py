import datetime
import decimal
import logging
import os
import socket

import msgpack
from hypothesis import given
from hypothesis import strategies as st

from kinto_fluent.record import MAX_DEPTH, build_record, plain_text_fields, to_msgpack_safe, with_encodable_text

SUMMARY = {
    "event": "request.summary",
    "method": "GET",
    "path": "/v1/",
    "querystring": "",
    "code": 200,
    "t": 3,
    "uid": "basicauth:ab12",
    "errno": 0,
    "agent": "curl/8",
    "lang": None,
    "level": "info",
}


def test_a_request_summary_becomes_a_record_with_every_field():
    record = build_record(logging.getLogger("kinto.core"), "info", SUMMARY)

    timestamp = record.pop("timestamp")
    assert record == {
        **SUMMARY,
        "logger": "kinto.core",
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
    }
    assert datetime.datetime.fromisoformat(timestamp).tzinfo is not None


def test_the_level_comes_from_the_method_name_when_the_event_has_none():
    record = build_record(None, "warning", {"event": "something odd"})

    assert (record["level"], record["event"], record["logger"]) == ("warning", "something odd", "")


def test_a_timestamp_already_in_the_event_is_kept():
    record = build_record(None, "info", {"event": "x", "timestamp": "2024-01-01T00:00:00Z"})

    assert record["timestamp"] == "2024-01-01T00:00:00Z"


def test_the_event_dict_is_left_untouched():
    event = {"event": "x", "values": (1, 2)}

    build_record(None, "info", event)

    assert event == {"event": "x", "values": (1, 2)}


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@given(json_values)
def test_json_like_values_are_sent_unchanged(value):
    assert msgpack.unpackb(msgpack.packb(to_msgpack_safe(value)), raw=False, strict_map_key=False) == value


class Opaque:
    def __str__(self) -> str:
        return "opaque!"


any_values = st.recursive(
    st.none()
    | st.integers()
    | st.floats()
    | st.text()
    | st.binary()
    | st.datetimes()
    | st.dates()
    | st.decimals()
    | st.builds(Opaque),
    lambda children: (
        st.lists(children).map(tuple)
        | st.frozensets(st.integers())
        | st.dictionaries(st.integers() | st.text(), children)
    ),
    max_leaves=30,
)


@given(any_values)
def test_any_value_can_be_packed(value):
    msgpack.packb(to_msgpack_safe(value))


def test_values_msgpack_cannot_pack_are_sent_as_text():
    value = {
        1: b"caf\xc3\xa9",
        "when": datetime.date(2024, 5, 1),
        "huge": 2**70,
        "amount": decimal.Decimal("1.5"),
        "other": Opaque(),
    }

    assert to_msgpack_safe(value) == {
        "1": "café",
        "when": "2024-05-01",
        "huge": str(2**70),
        "amount": "1.5",
        "other": "opaque!",
    }


def test_nesting_deeper_than_the_limit_is_cut_into_text():
    value: list = []
    for _ in range(10_000):
        value = [value]

    safe = to_msgpack_safe(value)

    msgpack.packb(safe)
    for _ in range(MAX_DEPTH):
        safe = safe[0]
    assert isinstance(safe, str)


def test_strings_with_lone_surrogates_are_made_encodable():
    record = {"value": "a\ud800b", "list": ["\udfff"], "\ud800": 1}

    encodable = with_encodable_text(record)

    msgpack.packb(encodable)
    assert encodable == {"value": "a\\ud800b", "list": ["\\udfff"], "\\ud800": 1}


def test_plain_text_fields_turns_every_value_into_text():
    loop: dict = {}
    loop["self"] = loop

    fields = plain_text_fields({"querystring": {1, 2}, 3: loop, "path": "/v1/"})

    assert fields["querystring"] == "{1, 2}"
    assert fields["3"].startswith("{'self': {'self': ")
    assert fields["path"] == "/v1/"
