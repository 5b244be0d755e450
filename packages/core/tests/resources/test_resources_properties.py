"""Random filter, sort and page combinations, checked against the Python reference of the semantics."""

import json
import random
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import ALICE, flush, known_bug_on
from .reference import MISSING, matches, sort_objects

SCALARS = [None, 0, 1, -1, 2.5, 10, "", "a", "B", "ab", "10", "a%", "a_b", True, False]
VALUES = [*SCALARS, [1, "a"], ["b"], [], ["a", "b", 1], {"c": 1}, {"c": "x"}, MISSING]
FIELDS = ["a", "b.c", "s", "tags"]
OPERATORS = ["eq", "not", "in", "exclude", "lt", "gt", "min", "max", "has", "like", "contains", "contains_any"]


def random_objects(count, seed=20):
    rng = random.Random(seed)
    objects = []
    for index in range(count):
        obj = {"index": index}
        for field in ("a", "s", "tags"):
            value = rng.choice(VALUES)
            if value is not MISSING:
                obj[field] = value
        nested = rng.choice([MISSING, None, 5, {}, {"c": rng.choice(VALUES)}])
        if nested is not MISSING:
            if isinstance(nested, dict) and nested.get("c", None) is MISSING:
                nested = {}
            obj["b"] = nested
        objects.append(obj)
    return objects


@pytest.fixture(scope="module")
def dataset(shared_app):
    flush(shared_app)
    storage = shared_app.app.registry.storage
    with storage.transaction():
        stored = [storage.create("thing", "", obj) for obj in random_objects(60)]
    yield shared_app, stored
    flush(shared_app)


scalars = st.sampled_from(SCALARS)
scalar_lists = st.lists(scalars, min_size=1, max_size=3)
like_patterns = st.text(alphabet="aAbB1*%_", min_size=1, max_size=4)


@st.composite
def filters(draw):
    operator = draw(st.sampled_from(OPERATORS))
    field = draw(st.sampled_from(FIELDS))
    if operator in ("in", "exclude", "contains", "contains_any"):
        operand = draw(scalar_lists)
        raw = json.dumps(operand)
    elif operator == "has":
        operand = draw(st.booleans())
        raw = json.dumps(operand)
    elif operator == "like":
        operand = draw(like_patterns)
        raw = operand
    elif operator in ("lt", "gt", "min", "max"):
        operand = draw(scalars)
        raw = json.dumps(operand)
    else:
        operand = draw(scalars)
        raw = json.dumps(operand)
    return operator, field, operand, raw


sorts = st.lists(
    st.tuples(st.sampled_from([*FIELDS, "b", "index"]), st.sampled_from([1, -1])),
    max_size=3,
    unique_by=lambda item: item[0],
)


def querystring(chosen_filters, sorting, extra=()):
    params = [(f"{operator}_{field}", raw) for operator, field, _, raw in chosen_filters]
    if sorting:
        params.append(("_sort", ",".join(("-" if direction < 0 else "") + field for field, direction in sorting)))
    return urlencode([*params, *extra])


def expected_ids(stored, chosen_filters, sorting):
    selected = [obj for obj in stored if all(matches(obj, f, op, operand) for op, f, operand, _ in chosen_filters)]
    return [obj["id"] for obj in sort_objects(selected, sorting or [("last_modified", -1)])]


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(chosen_filters=st.lists(filters(), max_size=3), sorting=sorts)
def test_filters_and_sorts_match_the_reference(dataset, chosen_filters, sorting):
    app, stored = dataset
    query = querystring(chosen_filters, sorting)
    response = app.get(f"/v1/things?{query}", headers=ALICE)
    assert [obj["id"] for obj in response.json["data"]] == expected_ids(stored, chosen_filters, sorting), query
    count = app.head(f"/v1/things?{query}", headers=ALICE).headers["Total-Objects"]
    assert int(count) == len(response.json["data"])


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(chosen_filters=st.lists(filters(), max_size=1), sorting=sorts, limit=st.integers(1, 25))
def test_pages_match_the_reference(dataset, chosen_filters, sorting, limit):
    app, stored = dataset
    url = f"/v1/things?{querystring(chosen_filters, sorting, [('_limit', str(limit))])}"
    listed = []
    while url:
        response = app.get(url, headers=ALICE)
        assert len(response.json["data"]) <= limit
        listed += [obj["id"] for obj in response.json["data"]]
        url = response.headers.get("Next-Page")
        url = url[url.index("/v1/") :] if url else None
    assert listed == expected_ids(stored, chosen_filters, sorting)


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    # Beyond 1e16 PostgreSQL hands floats back as integers: see test_large_floats_are_read_back.
    st.floats(min_value=-1e15, max_value=1e15, allow_nan=False, allow_infinity=False, width=64),
    st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=20),
)
json_keys = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), min_size=1, max_size=10)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(json_keys, children, max_size=4)),
    max_leaves=12,
)
json_objects = st.dictionaries(
    json_keys.filter(lambda key: key not in ("id", "last_modified")), json_values, max_size=5
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=json_objects)
def test_what_is_written_is_read_back(dataset, data):
    app, _ = dataset
    created = app.post_json("/v1/things", {"data": data}, headers=ALICE, status=201).json["data"]
    read = app.get(f"/v1/things/{created['id']}", headers=ALICE).json["data"]
    assert read == created
    assert {key: value for key, value in read.items() if key not in ("id", "last_modified")} == data
    app.delete(f"/v1/things/{created['id']}", headers=ALICE)


def test_large_floats_are_read_back(dataset, request):
    known_bug_on(
        request,
        ["postgresql"],
        "kinto.core.storage.postgresql: JSONB prints 3.874663786421405e+16 as "
        "38746637864214050, read back as another (integer) number",
    )
    app, _ = dataset
    data = {"big": 3.874663786421405e16, "huge": 1.5e300, "tiny": 5e-324}
    created = app.post_json("/v1/things", {"data": data}, headers=ALICE, status=201).json["data"]
    read = app.get(f"/v1/things/{created['id']}", headers=ALICE).json["data"]
    app.delete(f"/v1/things/{created['id']}", headers=ALICE)
    assert {key: read[key] for key in data} == data
    assert all(isinstance(read[key], float) for key in data)
