"""Filters, sorting, ``_fields``, ``_since``/``_before`` and ``Total-Objects`` on plural endpoints."""

import json
from urllib.parse import quote

import pytest

from .conftest import ALICE, assert_error
from .reference import sort_objects

# Values of several JSON types under the same fields: comparisons must respect types.
OBJECTS = {
    "one": {
        "name": "alpha",
        "n": 1,
        "s": "1",
        "flag": True,
        "tags": ["a", "b"],
        "nested": {"x": 1, "y": "p"},
        "nul": None,
    },
    "two": {"name": "Beta", "n": 2.5, "s": "10", "flag": False, "tags": ["b"], "nested": {"x": 2}},
    "three": {"name": "gamma", "n": "2", "s": 2, "tags": [], "nested": {"x": "1"}},
    "four": {"name": "delta", "n": 10, "flag": "true", "tags": "b", "nested": 1},
    "five": {"other": True},
}


@pytest.fixture
def things(app, create):
    """Create ``OBJECTS`` in order; return ``{label: object}``."""
    return {label: create("/v1/things", data) for label, data in OBJECTS.items()}


def labels(app, things, querystring, status=200):
    response = app.get(f"/v1/things?{querystring}", headers=ALICE, status=status)
    by_id = {obj["id"]: label for label, obj in things.items()}
    return sorted(by_id[obj["id"]] for obj in response.json["data"])


def ordered_labels(app, things, querystring):
    response = app.get(f"/v1/things?{querystring}", headers=ALICE)
    by_id = {obj["id"]: label for label, obj in things.items()}
    return [by_id[obj["id"]] for obj in response.json["data"]]


def q(value):
    return quote(value, safe="")


# --- every operator ---------------------------------------------------------------------------------

CASES = [
    # equality is typed: 1, "1", true, "true" and null are different values
    ("n=1", ["one"]),
    ("eq_n=1", ["one"]),
    ("n=1.0", ["one"]),
    ("n=" + q('"2"'), ["three"]),
    ("n=2", []),
    ("flag=true", ["one"]),
    ("flag=" + q('"true"'), ["four"]),
    ("nul=null", ["one"]),
    ("name=alpha", ["one"]),
    ("name=ALPHA", []),
    ("nested.x=1", ["one"]),
    ("nested.x=" + q('"1"'), ["three"]),
    ("nested.y=p", ["one"]),
    # not_ is the complement of eq_, missing fields included
    ("not_n=1", ["five", "four", "three", "two"]),
    ("not_nested.x=1", ["five", "four", "three", "two"]),
    ("not_flag=false", ["five", "four", "one", "three"]),
    # in_ / exclude_
    ("in_n=1,10", ["four", "one"]),
    ("in_nested.x=1," + q('"1"'), ["one", "three"]),
    ("in_n=" + q('[1, "2"]'), ["one", "three"]),
    ("exclude_n=1,10", ["five", "three", "two"]),
    ("in_name=alpha,gamma,zeta", ["one", "three"]),
    # ranges only match values of the operand's type
    ("min_n=2", ["four", "two"]),
    ("gt_n=1", ["four", "two"]),
    ("gt_n=2.5", ["four"]),
    ("min_n=2.5", ["four", "two"]),
    ("lt_n=10", ["one", "two"]),
    ("max_n=10", ["four", "one", "two"]),
    ("lt_n=1", []),
    ("gt_s=" + q('"1"'), ["two"]),
    ("min_s=" + q('"1"'), ["one", "two"]),
    ("gt_s=1", ["three"]),
    ("lt_name=b", ["one", "two"]),
    ("gt_name=b", ["four", "three"]),
    ("gt_nested.x=1", ["two"]),
    ("max_nested.x=2", ["one", "two"]),
    ("gt_flag=false", ["one"]),
    ("lt_flag=true", ["two"]),
    # has_: the field exists (even null)
    ("has_flag=true", ["four", "one", "two"]),
    ("has_flag=1", ["four", "one", "two"]),
    ("has_flag=false", ["five", "three"]),
    ("has_flag=0", ["five", "three"]),
    ("has_nul=true", ["one"]),
    ("has_nested.x=true", ["one", "three", "two"]),
    ("has_nested.x=false", ["five", "four"]),
    # like_: strings only, case-insensitive, * for any sequence
    ("like_name=ET", ["two"]),
    ("like_name=*a", ["four", "one", "three", "two"]),
    ("like_name=a*", ["one"]),
    ("like_name=g*m*a", ["three"]),
    ("like_n=1", []),
    ("like_nested.y=P", ["one"]),
    # contains_ / contains_any_: arrays only
    ("contains_tags=b", ["one", "two"]),
    ("contains_tags=a,b", ["one"]),
    ("contains_tags=" + q('["a", "b"]'), ["one"]),
    ("contains_tags=a,z", []),
    ("contains_any_tags=a,z", ["one"]),
    ("contains_any_tags=b", ["one", "two"]),
    ("contains_any_tags=z", []),
    # several filters are combined with AND
    ("has_flag=true&gt_n=1", ["four", "two"]),
    ("like_name=*a&not_n=1&has_tags=true", ["four", "three", "two"]),
]


@pytest.mark.parametrize(("querystring", "expected"), CASES, ids=[case[0] for case in CASES])
def test_filters(app, things, querystring, expected):
    assert labels(app, things, querystring) == expected


def test_filters_on_ids_and_timestamps(app, things):
    one, two = things["one"], things["two"]
    assert labels(app, things, f"id={one['id']}") == ["one"]
    assert labels(app, things, f"in_id={one['id']},{two['id']}") == ["one", "two"]
    assert labels(app, things, f"exclude_id={one['id']},{two['id']}") == ["five", "four", "three"]
    assert labels(app, things, f"not_id={one['id']}") == ["five", "four", "three", "two"]
    assert labels(app, things, f"last_modified={two['last_modified']}") == ["two"]
    assert labels(app, things, f"gt_last_modified={two['last_modified']}") == ["five", "four", "three"]
    assert labels(app, things, f"max_last_modified={two['last_modified']}") == ["one", "two"]
    assert labels(app, things, f"in_last_modified={one['last_modified']},{two['last_modified']}") == ["one", "two"]


def test_plural_delete_accepts_the_same_filters(app, things):
    deleted = app.delete("/v1/things?has_flag=true&gt_n=1", headers=ALICE).json["data"]
    assert sorted(obj["id"] for obj in deleted) == sorted([things["two"]["id"], things["four"]["id"]])
    assert labels(app, things, "") == ["five", "one", "three"]


BAD_QUERIES = [
    "_limit=-1",
    "_limit=abc",
    "_sort=a%20b",
    "has_flag=maybe",
    "last_modified=abc",
    "gt_last_modified=1.5",
    "in_last_modified=" + q('["1"]'),
    "contains_id=a",
    "contains_any_last_modified=1",
    "_since=yesterday",
    "_before=",
    "_fields=a%20b",
    "a..b=1",
    "a" + q(chr(0)) + "b=1",
    "name=" + q(chr(0)),
    "in_name=a," + q(chr(0)),
    "like_name=a" + q(chr(0)),
    "_sort=a" + q(chr(0)),
    "_since=1" + q(chr(0)),
    "name=" + q('"\\ud800"'),
    "in_name=" + q('["a", "\\udc00"]'),
    "_since=--5",
    "_since=" + q("\u00b2"),
    "_before=" + q("\u0661"),
    "_limit=" + q("\u00b2"),
    "_since=99999999999999999999999",
    "last_modified=99999999999999999999999",
    "in_last_modified=1,99999999999999999999999",
]


@pytest.mark.parametrize("querystring", BAD_QUERIES)
def test_invalid_querystrings_are_a_400(app, things, querystring):
    for method in ("get", "delete", "head"):
        response = getattr(app, method)(f"/v1/things?{querystring}", headers=ALICE, status=400)
        if method != "head":
            body = assert_error(response, 400, 107)
            assert body["details"][0]["location"] == "querystring"
    assert len(labels(app, things, "")) == 5


def test_an_undecodable_querystring_is_a_400(app):
    assert_error(app.get("/v1/things?name=%ff", headers=ALICE, status=400), 400)


# --- sorting ------------------------------------------------------------------------------------------


def test_default_sort_is_newest_first(app, things):
    assert ordered_labels(app, things, "") == ["five", "four", "three", "two", "one"]


def test_sort_follows_the_type_order_and_puts_missing_fields_last(app, things):
    # null < strings < numbers < booleans < arrays < objects < missing
    assert ordered_labels(app, things, "_sort=n") == ["three", "one", "two", "four", "five"]
    assert ordered_labels(app, things, "_sort=-n") == ["five", "four", "two", "one", "three"]
    for sort in ("flag", "-flag", "tags", "-tags", "nested.x", "-nested.x", "nested", "s", "-s", "nul,name"):
        sorting = [(field.lstrip("-"), -1 if field.startswith("-") else 1) for field in sort.split(",")]
        expected = sort_objects(list(things.values()), sorting)
        response = app.get(f"/v1/things?_sort={sort}", headers=ALICE)
        assert [obj["id"] for obj in response.json["data"]] == [obj["id"] for obj in expected], sort
    assert ordered_labels(app, things, "_sort=flag")[:3] == ["four", "two", "one"]


@pytest.mark.parametrize(
    "sort", ["group,-rank", "-group,rank", "-group,-rank", "rank,group", "group,rank,-id", "-rank,id"]
)
def test_sort_on_several_fields_with_missing_values(app, create, sort):
    rows = [
        {"group": "b", "rank": 2},
        {"group": "a", "rank": 1},
        {"group": "b"},
        {"rank": 3},
        {"group": "a", "rank": 5},
        {"group": "b", "rank": 2},
        {},
        {"group": "a"},
        {"group": None, "rank": 2},
        {"group": 1, "rank": "2"},
    ]
    created = [create("/v1/things", row) for row in rows]
    sorting = [(field.lstrip("-"), -1 if field.startswith("-") else 1) for field in sort.split(",")]
    expected = sort_objects(created, sorting)
    response = app.get(f"/v1/things?_sort={sort}", headers=ALICE)
    assert [obj["id"] for obj in response.json["data"]] == [obj["id"] for obj in expected]


def test_ties_are_broken_by_id(app, create):
    created = [create("/v1/things", {"same": 1}) for _ in range(6)]
    ids = sorted(obj["id"] for obj in created)
    assert [obj["id"] for obj in app.get("/v1/things?_sort=same", headers=ALICE).json["data"]] == ids


# --- partial responses ----------------------------------------------------------------------------------


def test_fields_on_a_list(app, things):
    data = app.get("/v1/things?_fields=name,nested.x&_sort=name", headers=ALICE).json["data"]
    assert [obj.get("name") for obj in data] == ["Beta", "alpha", "delta", "gamma", None]
    one = next(obj for obj in data if obj.get("name") == "alpha")
    assert one == {
        "id": things["one"]["id"],
        "last_modified": things["one"]["last_modified"],
        "name": "alpha",
        "nested": {"x": 1},
    }
    assert next(obj for obj in data if obj.get("name") == "delta") == {
        "id": things["four"]["id"],
        "last_modified": things["four"]["last_modified"],
        "name": "delta",
    }


# --- synchronisation: _since, _before and tombstones ---------------------------------------------------


def test_since_returns_changes_with_tombstones(app, create):
    a = create("/v1/things", {"v": "a"})
    b = create("/v1/things", {"v": "b"})
    c = create("/v1/things", {"v": "c"})
    tombstone = app.delete(f"/v1/things/{b['id']}", headers=ALICE).json["data"]
    changes = app.get(f"/v1/things?_since={a['last_modified']}", headers=ALICE).json["data"]
    assert changes == [tombstone, c]
    assert tombstone == {"id": b["id"], "last_modified": tombstone["last_modified"], "deleted": True}
    quoted = app.get(f"/v1/things?_since=%22{a['last_modified']}%22", headers=ALICE).json["data"]
    assert quoted == changes
    assert app.get(f"/v1/things?_since={tombstone['last_modified']}", headers=ALICE).json["data"] == []
    # Without _since, tombstones never show.
    assert app.get("/v1/things", headers=ALICE).json["data"] == [c, a]


def test_before_returns_older_live_objects(app, create):
    a = create("/v1/things", {"v": "a"})
    b = create("/v1/things", {"v": "b"})
    c = create("/v1/things", {"v": "c"})
    app.delete(f"/v1/things/{a['id']}", headers=ALICE)
    assert app.get(f"/v1/things?_before={c['last_modified']}", headers=ALICE).json["data"] == [b]
    window = f"_since={a['last_modified']}&_before={c['last_modified']}"
    assert app.get(f"/v1/things?{window}", headers=ALICE).json["data"] == [b]
    assert app.get(f"/v1/things?_to={c['last_modified']}", headers=ALICE).json["data"] == [b]


def test_to_is_an_alias_of_before_with_kintos_deprecation_alert(app, create):
    a = create("/v1/things", {"v": "a"})
    b = create("/v1/things", {"v": "b"})
    for method in ("get", "head", "delete"):
        response = getattr(app, method)(f"/v1/things?_to={b['last_modified']}", headers=ALICE)
        assert json.loads(response.headers["Alert"]) == {
            "code": "soft-eol",
            "message": "_to is deprecated: use _before instead",
            "url": "https://kinto.readthedocs.io/en/2.4.0/api/resource.html#list-of-available-url-parameters",
        }
        if method != "head":
            assert [obj["id"] for obj in response.json["data"]] == [a["id"]]
    assert "Alert" not in app.get(f"/v1/things?_before={b['last_modified']}", headers=ALICE).headers


@pytest.mark.parametrize("querystring", ["_expected=123", "_foo=&_bar=x", "_=1700000000", "_expected=1&_sort=-n"])
def test_unknown_underscore_parameters_are_ignored(app, things, querystring):
    # As Kinto: clients pass their own (kinto-http's _expected, cache busters) and expect a 200.
    for method in ("get", "head"):
        getattr(app, method)(f"/v1/things?{querystring}", headers=ALICE, status=200)
    assert labels(app, things, querystring) == labels(app, things, "")
    deleted = app.delete(f"/v1/things?{querystring}", headers=ALICE, status=200).json["data"]
    assert len(deleted) == len(things)


@pytest.mark.parametrize(
    "querystring", ["_limit=0", "_limit=", "_sort=", "_sort=,,", "_sort=-", "_fields=", "_fields=,"]
)
def test_empty_sort_limit_and_fields_mean_the_defaults(app, things, querystring):
    # As Kinto, which answers them as if they were absent.
    default = app.get("/v1/things", headers=ALICE).json["data"]
    assert app.get(f"/v1/things?{querystring}", headers=ALICE, status=200).json["data"] == default


def test_empty_items_of_a_sort_are_skipped(app, things):
    assert ordered_labels(app, things, "_sort=n,,-name") == ordered_labels(app, things, "_sort=n,-name")


def test_since_after_an_update_returns_the_new_version(app, create):
    a = create("/v1/things", {"v": 1})
    b = create("/v1/things", {"v": 1})
    updated = app.patch_json(f"/v1/things/{a['id']}", {"data": {"v": 2}}, headers=ALICE).json["data"]
    assert app.get(f"/v1/things?_since={b['last_modified']}", headers=ALICE).json["data"] == [updated]


# --- counting -----------------------------------------------------------------------------------------------


def test_head_gives_total_objects_of_the_filtered_list(app, things):
    response = app.head("/v1/things", headers=ALICE, status=200)
    assert response.headers["Total-Objects"] == "5"
    assert response.body == b""
    assert app.head("/v1/things?has_flag=true", headers=ALICE).headers["Total-Objects"] == "3"
    assert app.head("/v1/things?_limit=1", headers=ALICE).headers["Total-Objects"] == "5"
    app.delete(f"/v1/things/{things['one']['id']}", headers=ALICE)
    assert app.head("/v1/things", headers=ALICE).headers["Total-Objects"] == "4"


def test_numbers_json_lacks_are_compared_as_strings(app, create):
    create("/v1/things", {"n": 1, "s": "NaN"})
    create("/v1/things", {"n": 2, "s": "Infinity"})
    for querystring in ("gt_n=1e400", "lt_n=-Infinity", "n=NaN", "in_n=NaN,Infinity"):
        assert app.get(f"/v1/things?{querystring}", headers=ALICE).json["data"] == []
    assert [obj["n"] for obj in app.get("/v1/things?s=NaN", headers=ALICE).json["data"]] == [1]
    assert [obj["n"] for obj in app.get("/v1/things?in_s=NaN,Infinity&_sort=n", headers=ALICE).json["data"]] == [1, 2]


def test_integers_beyond_64_bits_are_answered(app, create):
    create("/v1/things", {"n": 10**30})
    assert len(app.get("/v1/things?n=1000000000000000000000000000000", headers=ALICE).json["data"]) == 1
    assert app.get("/v1/things?gt_n=99999999999999999999999999999999", headers=ALICE).json["data"] == []
