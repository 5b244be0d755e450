"""``kinto.core.jsontext``: orjson's speed, never a value other than the standard library's."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinto.core import jsontext

# Integers and floats of any size, nested: what records and cached values hold.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=20,
)


@given(json_values)
def test_reads_what_the_standard_library_reads(value):
    text = json.dumps(value)
    for form in (text, text.encode(), bytearray(text.encode()), memoryview(text.encode())):
        read = jsontext.loads(form)
        assert read == json.loads(text)
        assert json.dumps(read) == json.dumps(json.loads(text))  # the same types: no int read as a float


@pytest.mark.parametrize(
    "text",
    [
        "123456789012345678901234567890",  # orjson reads it as a float
        "-9223372036854775809",
        '{"a": [18446744073709551616]}',
        "1e400",  # orjson refuses: infinity, as the standard library reads it
        '"\\ud800"',  # a lone surrogate
        "[" * 1500 + "]" * 1500,  # deeper than orjson goes
    ],
)
def test_what_orjson_reads_otherwise_is_read_by_the_standard_library(text):
    try:
        expected = json.loads(text)
    except RecursionError:
        with pytest.raises(RecursionError):
            jsontext.loads(text)
        return
    for form in (text, text.encode(), bytearray(text.encode()), memoryview(text.encode())):
        assert repr(jsontext.loads(form)) == repr(expected)


@pytest.mark.parametrize("digits", [18, 19, 20, 40])
def test_a_digit_run_of_any_length_keeps_its_value(digits):
    for sign in ("", "-"):
        text = f'{{"a": "x", "n": [{sign}{"9" * digits}, 1.5]}}'
        for form in (text, text.encode(), bytearray(text.encode()), memoryview(text.encode())):
            assert jsontext.loads(form) == {"a": "x", "n": [int(sign + "9" * digits), 1.5]}


def test_invalid_text_is_a_value_error():
    with pytest.raises(ValueError):
        jsontext.loads('{"unterminated": ')


def test_compact_writes_integers_beyond_64_bits():
    assert jsontext.compact({"n": 2**70}) == b'{"n":1180591620717411303424}'
