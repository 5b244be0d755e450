import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinto.core.storage import COMPARISON, MISSING, Filter, Sort
from kinto.core.storage import query as q
from kinto.core.storage.exceptions import InvalidValueError
from kinto.core.storage.sql import like_pattern

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text())
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=5,
)


@given(st.lists(st.one_of(json_values, st.just(MISSING)), max_size=8))
def test_sort_keys_order_any_mix_of_values(values):
    ordered = sorted(values, key=q.sort_key)
    ranks = [q.type_rank(value) for value in ordered]
    assert ranks == sorted(ranks)


def test_type_order_is_null_string_number_boolean_array_object_missing():
    values = [MISSING, {"a": 1}, [1], True, 1, "a", None]
    assert sorted(values, key=q.sort_key) == list(reversed(values))


def test_booleans_are_not_numbers():
    assert not q.json_equal(True, 1)
    assert not q.json_equal(0, False)
    assert q.json_equal(1, 1.0)


@pytest.mark.parametrize(
    "field, obj, expected",
    [
        ("a", {"a": 1}, 1),
        ("a.b", {"a": {"b": None}}, None),
        ("a.b", {"a": [{"b": 1}]}, MISSING),
        ("a.b", {"a": "text"}, MISSING),
        ("a.b.c", {}, MISSING),
    ],
)
def test_field_paths_go_through_objects_only(field, obj, expected):
    assert q.field_value(obj, field) is expected or q.field_value(obj, field) == expected


@given(st.text())
def test_nul_is_rejected_exactly_when_present(text):
    serialized = json.dumps({"value": text})
    if "\x00" in text:
        with pytest.raises(InvalidValueError):
            q.check_storable(serialized)
    else:
        q.check_storable(serialized)


def test_the_text_of_an_escaped_nul_is_storable():
    q.check_storable(json.dumps("\\u0000"))
    q.check_storable(json.dumps("\\\\u0000"))


@pytest.mark.parametrize(
    "operand, text, matches",
    [
        ("b", "ABC", True),
        ("a*", "abc", True),
        ("a*", "cab", False),
        ("*c", "abc", True),
        ("a*c", "abxyzc", True),
        ("%", "50%", True),
        ("%", "50", False),
        (".", "abc", False),
        ("(", "f(x)", True),
    ],
)
def test_like_semantics(operand, text, matches):
    assert q.like_matcher(operand)(text.lower()) is matches


def test_like_patterns_escape_sql_wildcards():
    assert like_pattern("50%_off") == "%50\\%\\_off%"
    assert like_pattern("A*b") == "a%b"


def test_filters_are_normalised_as_kinto_passes_them():
    assert q.normalize_filter(Filter("id", 42, COMPARISON.EQ), "id", "last_modified").value == "42"
    assert q.normalize_filter(Filter("last_modified", "12", COMPARISON.GT), "id", "last_modified").value == 12
    assert q.normalize_filter(Filter("tags", "a", COMPARISON.IN), "id", "last_modified").value == ["a"]
    assert q.normalize_filter(Filter("f", "false", COMPARISON.HAS), "id", "last_modified").value is False
    assert q.normalize_filter(Filter("f", 12, COMPARISON.LIKE), "id", "last_modified").value == "12"


def test_the_id_breaks_ties_unless_sorted_on():
    assert q.sorting_with_tie_breaker([Sort("a", -1)], "id") == [Sort("a", -1), Sort("id", 1)]
    assert q.sorting_with_tie_breaker([Sort("id", -1)], "id") == [Sort("id", -1)]


small_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, 1.0, 2.5, -1.5]),
    st.sampled_from(["", "a", "b"]),
)
small_values = st.recursive(
    small_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=2), st.dictionaries(st.sampled_from("ab"), inner)),
    max_leaves=4,
)
filter_fields = st.sampled_from(["a", "b", "a.b", "a.b.c"])
documents = st.dictionaries(
    filter_fields.map(lambda f: f.split(".")[0]),
    st.one_of(
        small_values,
        st.dictionaries(st.sampled_from("bc"), st.one_of(small_values, st.dictionaries(st.just("c"), small_values))),
    ),
)


@st.composite
def normalized_filters(draw):
    operator = draw(st.sampled_from(list(COMPARISON)))
    if operator in (COMPARISON.IN, COMPARISON.EXCLUDE, COMPARISON.CONTAINS, COMPARISON.CONTAINS_ANY):
        operand = draw(st.lists(small_values, max_size=4))
    elif operator == COMPARISON.LIKE:
        operand = draw(st.sampled_from(["a", "*a", "b*", "*"]))
    else:
        operand = draw(small_values)
    return q.normalize_filter(Filter(draw(filter_fields), operand, operator), "id", "last_modified")


@given(documents, st.lists(normalized_filters(), max_size=3))
def test_compiled_filters_agree_with_the_reference_semantics(document, filters):
    predicate = q.compile_filters(filters)
    expected = all(q.matches(document, f) for f in filters)
    if predicate is None:
        assert filters == []
    else:
        assert predicate(document) is expected


@pytest.mark.parametrize(
    ("filter_", "matching"),
    [
        (Filter("n", 1, COMPARISON.EQ), [1, 1.0]),
        (Filter("n", True, COMPARISON.EQ), [True]),
        (Filter("n", None, COMPARISON.EQ), [None]),
        (
            Filter("n", "1", COMPARISON.NOT),
            [MISSING, 1, 1.0, 2, 1.5, True, False, None, "2", "a", "b", "", [1], [2], {"1": 1}],
        ),
        (Filter("n", [1, "1", None], COMPARISON.IN), [1, 1.0, "1", None]),
        (
            Filter("n", [True, 2], COMPARISON.EXCLUDE),
            [MISSING, 1, 1.0, 1.5, False, None, "1", "2", "a", "b", "", [1], [2], {"1": 1}],
        ),
        (Filter("n", 1, COMPARISON.GT), [2, 1.5]),
        (Filter("n", False, COMPARISON.GT), [True]),
        (Filter("n", "b", COMPARISON.MAX), ["1", "2", "a", "b", ""]),
        (
            Filter("n", True, COMPARISON.HAS),
            [1, 1.0, 2, 1.5, True, False, None, "1", "2", "a", "b", "", [1], [2], {"1": 1}],
        ),
    ],
)
def test_compiled_scalar_filters_keep_types_apart(filter_, matching):
    candidates = [MISSING, 1, 1.0, 2, 1.5, True, False, None, "1", "2", "a", "b", "", [1], [2], {"1": 1}]
    predicate = q.compile_filters([filter_])
    found = [value for value in candidates if predicate({} if value is MISSING else {"n": value})]
    assert found == [
        value for value in candidates if any(value is m or (value == m and type(value) is type(m)) for m in matching)
    ]
