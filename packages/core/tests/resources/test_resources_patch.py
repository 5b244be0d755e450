"""PATCH flavours: Kinto's ``application/json`` update, JSON merge patch, JSON Patch on data and permissions,
Response-Behavior, no-ops."""

import json

import pytest

from .conftest import ALICE, BOB, assert_error, userid

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"


def patch(app, url, body, content_type="application/json", headers=ALICE, status=200):
    return app.patch(url, json.dumps(body), headers={**headers, "Content-Type": content_type}, status=status)


@pytest.fixture
def thing(create):
    return create("/v1/things", {"a": 1, "b": {"c": 1, "d": {"e": 1, "f": 2}}, "list": [1, 2], "s": "x"})


@pytest.fixture
def url(thing):
    return f"/v1/things/{thing['id']}"


def current(app, url):
    return app.get(url, headers=ALICE).json["data"]


# --- application/json: Kinto's shallow update ----------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_a_json_patch_replaces_the_top_level_fields_it_sends_and_stores_nulls(app, create, content_type):
    # As Kinto 26.5.0: no merge into nested objects, and a null is a value like any other.
    thing = create("/v1/things", {"n": {"x": 1, "y": 2}, "k": 1, "s": "x"})
    url = f"/v1/things/{thing['id']}"
    data = patch(app, url, {"data": {"n": {"x": 5}, "k": None}}, content_type).json["data"]
    assert {key: value for key, value in data.items() if key not in ("id", "last_modified")} == {
        "n": {"x": 5},
        "k": None,
        "s": "x",
    }
    assert current(app, url) == data
    assert app.get("/v1/things?k=null", headers=ALICE).json["data"] == [data]


def test_a_json_patch_ignores_null_permissions_and_a_merge_patch_removes_them(app, article):
    url = f"/v1/articles/{article['id']}"
    patch(app, url, {"permissions": {"read": [userid("bob")]}})
    response = patch(app, url, {"permissions": {"read": None}})
    assert response.json["permissions"]["read"] == [userid("bob")]
    response = patch(app, url, {"permissions": {"read": None}}, MERGE_PATCH)
    assert "read" not in response.json["permissions"] or response.json["permissions"]["read"] == []
    app.get(url, headers=BOB, status=403)


# --- merge patch -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [MERGE_PATCH, MERGE_PATCH + "; charset=utf-8"])
def test_merge_patch_merges_nested_objects_and_null_removes(app, url, content_type):
    body = {"data": {"a": None, "b": {"d": {"e": None, "g": 3}}, "list": [3], "new": {"k": None, "m": 1}}}
    data = patch(app, url, body, content_type).json["data"]
    assert "a" not in data
    assert data["b"] == {"c": 1, "d": {"f": 2, "g": 3}}
    assert data["list"] == [3]
    assert data["new"] == {"m": 1}
    assert data["s"] == "x"
    assert current(app, url) == data


def test_merge_patch_may_replace_an_object_by_a_scalar_and_back(app, url):
    assert patch(app, url, {"data": {"b": 5}}, MERGE_PATCH).json["data"]["b"] == 5
    assert patch(app, url, {"data": {"b": {"z": None, "y": 1}}}, MERGE_PATCH).json["data"]["b"] == {"y": 1}


def test_patch_with_empty_data_changes_nothing(app, url, thing):
    assert patch(app, url, {"data": {}}).json["data"] == thing


def test_patch_naming_neither_data_nor_permissions_is_a_400_as_kinto(app, url, thing):
    body = assert_error(patch(app, url, {}, status=400), 400, 107)
    assert body["message"] == "Provide at least one of data or permissions"
    assert app.get(url, headers=ALICE).json["data"] == thing


def test_a_no_op_patch_keeps_the_timestamp_and_emits_nothing(app, url, thing, events):
    events.clear()
    response = patch(app, url, {"data": {"a": 1, "b": {"c": 1}}}, MERGE_PATCH)
    assert response.json["data"] == thing
    assert response.headers["ETag"] == f'"{thing["last_modified"]}"'
    assert current(app, url)["last_modified"] == thing["last_modified"]
    removing_nothing = patch(app, url, {"data": {"absent": None}}, MERGE_PATCH)
    assert removing_nothing.json["data"]["last_modified"] == thing["last_modified"]
    same_fields = patch(app, url, {"data": {"a": 1, "s": "x"}})
    assert same_fields.json["data"]["last_modified"] == thing["last_modified"]
    assert events.events == []


def test_patch_cannot_change_the_id(app, url, thing):
    response = patch(app, url, {"data": {"id": "00000000-0000-4000-8000-000000000000"}}, status=400)
    assert_error(response, 400)
    assert patch(app, url, {"data": {"id": thing["id"], "a": 2}}).json["data"]["a"] == 2


def test_patch_may_bump_the_timestamp_forward_only(app, url, thing):
    data = patch(app, url, {"data": {"a": 2, "last_modified": 1}}).json["data"]
    assert data["last_modified"] > thing["last_modified"]


# --- JSON Patch --------------------------------------------------------------------------------------------


def test_json_patch_operations_on_data(app, url):
    operations = [
        {"op": "test", "path": "/data/a", "value": 1},
        {"op": "replace", "path": "/data/a", "value": 10},
        {"op": "add", "path": "/data/list/-", "value": 3},
        {"op": "remove", "path": "/data/b/d/e"},
        {"op": "copy", "from": "/data/s", "path": "/data/t"},
        {"op": "move", "from": "/data/b/c", "path": "/data/c"},
        {"op": "add", "path": "/data/new", "value": {"x": [1]}},
    ]
    data = patch(app, url, operations, JSON_PATCH).json["data"]
    assert data["a"] == 10 and data["list"] == [1, 2, 3] and data["b"] == {"d": {"f": 2}}
    assert data["t"] == "x" and data["c"] == 1 and data["new"] == {"x": [1]}
    assert current(app, url) == data


BAD_PATCHES = [
    {"op": "test", "path": "/data/a", "value": 2},
    {"op": "remove", "path": "/data/missing"},
    {"op": "replace", "path": "/data/missing/deeper", "value": 1},
    {"op": "add", "path": "/data/list/10", "value": 1},
    {"op": "add", "path": "/elsewhere", "value": 1},
    {"op": "add", "path": "/", "value": 1},
    {"op": "replace", "path": "/data", "value": [1]},
    {"op": "remove", "path": "/data"},
    {"op": "frobnicate", "path": "/data/a"},
    {"op": "add", "path": "/data/a"},
    {"op": "move", "from": "/data/missing", "path": "/data/a"},
    {"op": "add"},
    {"path": "/data/a", "value": 1},
    {"op": "add", "path": 12, "value": 1},
    {"op": "add", "path": "data/a", "value": 1},
    {"op": "add", "path": "/permissions/read/x", "value": True},
    "replace",
    None,
]


@pytest.mark.parametrize("operation", BAD_PATCHES, ids=[json.dumps(op) for op in BAD_PATCHES])
def test_bad_json_patches_are_a_400_and_change_nothing(app, url, thing, operation):
    operations = [{"op": "replace", "path": "/data/a", "value": 99}, operation]
    response = patch(app, url, operations, JSON_PATCH, status=400)
    assert_error(response, 400)
    assert current(app, url) == thing


@pytest.mark.parametrize("body", [{"op": "add"}, {}, "x", 1, None])
def test_a_json_patch_that_is_not_a_list_is_a_400(app, url, thing, body):
    assert_error(patch(app, url, body, JSON_PATCH, status=400), 400)
    assert current(app, url) == thing


def test_json_patch_keeps_the_schema(app, create):
    article = create("/v1/articles", {"title": "t"})
    url = f"/v1/articles/{article['id']}"
    response = patch(app, url, [{"op": "remove", "path": "/data/title"}], JSON_PATCH, status=400)
    assert assert_error(response, 400, 107)["details"][0]["name"] == "data.title"
    response = patch(app, url, [{"op": "replace", "path": "/data/author", "value": "me"}], JSON_PATCH, status=400)
    assert_error(response, 400, 107)


# --- permissions -----------------------------------------------------------------------------------------


@pytest.fixture
def article(create):
    return create("/v1/articles", {"title": "t"})


def permissions_of(app, article):
    return app.get(f"/v1/articles/{article['id']}", headers=ALICE).json["permissions"]


def test_json_patch_adds_and_removes_principals(app, article):
    url = f"/v1/articles/{article['id']}"
    bob, carol = userid("bob"), userid("carol")
    operations = [
        {"op": "add", "path": f"/permissions/read/{bob}"},
        {"op": "add", "path": f"/permissions/read/{carol}", "value": True},
        {"op": "add", "path": "/permissions/write/system.Authenticated"},
    ]
    response = patch(app, url, operations, JSON_PATCH)
    permissions = response.json["permissions"]
    assert permissions["read"] == sorted([bob, carol])
    assert permissions["write"] == sorted([userid("alice"), "system.Authenticated"])
    app.get(url, headers=BOB, status=200)
    response = patch(
        app,
        url,
        [
            {"op": "remove", "path": f"/permissions/read/{carol}"},
            {"op": "remove", "path": "/permissions/write/system.Authenticated"},
        ],
        JSON_PATCH,
    )
    assert response.json["permissions"]["read"] == [bob]
    assert permissions_of(app, article) == {"read": [bob], "write": [userid("alice")]}


def test_json_patch_on_data_and_permissions_at_once(app, article):
    url = f"/v1/articles/{article['id']}"
    operations = [
        {"op": "replace", "path": "/data/title", "value": "u"},
        {"op": "add", "path": f"/permissions/read/{userid('bob')}"},
    ]
    response = patch(app, url, operations, JSON_PATCH)
    assert response.json["data"]["title"] == "u"
    assert app.get(url, headers=BOB).json["data"]["title"] == "u"


def test_json_patch_replaces_a_whole_permission(app, article):
    url = f"/v1/articles/{article['id']}"
    response = patch(app, url, [{"op": "replace", "path": "/permissions/read", "value": [userid("bob")]}], JSON_PATCH)
    assert response.json["permissions"]["read"] == [userid("bob")]


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "add", "path": "/permissions/admin/x"},
        {"op": "add", "path": "/permissions"},
        {"op": "remove", "path": "/permissions/read/nobody"},
        {"op": "replace", "path": "/permissions/read", "value": "everyone"},
        {"op": "replace", "path": "/permissions/read", "value": [1]},
        {"op": "add", "path": "/permissions/read/a\u0000b"},
    ],
)
def test_bad_permission_patches_are_a_400(app, article, operation):
    before = permissions_of(app, article)
    response = patch(app, f"/v1/articles/{article['id']}", [operation], JSON_PATCH, status=400)
    assert_error(response, 400)
    assert permissions_of(app, article) == before


def test_merge_patch_of_permissions_replaces_the_named_ones(app, article):
    url = f"/v1/articles/{article['id']}"
    body = {"permissions": {"read": [userid("bob")]}}
    response = patch(app, url, body)
    assert response.json["permissions"] == {"read": [userid("bob")], "write": [userid("alice")]}
    assert response.json["data"]["last_modified"] > article["last_modified"]
    again = patch(app, url, body)
    assert again.json["data"]["last_modified"] == response.json["data"]["last_modified"]
    bad = patch(app, url, {"permissions": {"admin": ["x"]}}, status=400)
    assert_error(bad, 400, 107)


def test_the_creator_keeps_write_whatever_the_patch(app, article):
    url = f"/v1/articles/{article['id']}"
    response = patch(app, url, {"permissions": {"write": [userid("bob")]}})
    assert userid("alice") in response.json["permissions"]["write"]


# --- Response-Behavior ----------------------------------------------------------------------------------


def test_response_behavior_full_is_the_default(app, url, thing):
    full = patch(app, url, {"data": {"a": 2}}, headers={**ALICE, "Response-Behavior": "full"}).json["data"]
    assert full == {**thing, "a": 2, "last_modified": full["last_modified"]}


def test_response_behavior_light_returns_the_fields_the_patch_changed(app, url, article):
    # As Kinto: "s" is sent unchanged, so it is left out; no permissions either.
    body = {"data": {"a": 2, "s": "x", "k": 3}}
    response = patch(app, url, body, headers={**ALICE, "Response-Behavior": "light"})
    assert response.json == {"data": {"a": 2, "k": 3}}
    response = patch(
        app, f"/v1/articles/{article['id']}", {"data": {"title": "u"}}, headers={**ALICE, "Response-Behavior": "light"}
    )
    assert response.json == {"data": {"title": "u"}}


def test_response_behavior_diff_returns_what_differs_from_what_was_sent(app, create):
    article = create("/v1/articles", {"title": "t"})
    url = f"/v1/articles/{article['id']}"
    body = {"data": {"title": "u", "rank": 1}}
    data = patch(app, url, body, headers={**ALICE, "Response-Behavior": "diff"}).json["data"]
    assert data == {}
    body = {"data": {"b": {"c": 2}, "a": 5}}
    thing = create("/v1/things", {"a": 1, "b": {"c": 1, "d": 1}})
    url = f"/v1/things/{thing['id']}"
    response = patch(app, url, body, MERGE_PATCH, headers={**ALICE, "Response-Behavior": "diff"})
    assert response.json == {"data": {"b": {"c": 2, "d": 1}}}
    response = patch(app, url, {"data": {"b": {"c": 3}}}, headers={**ALICE, "Response-Behavior": "diff"})
    assert response.json == {"data": {}}


def test_an_unknown_response_behavior_is_a_400_and_changes_nothing(app, url, thing):
    response = patch(app, url, {"data": {"a": 2}}, headers={**ALICE, "Response-Behavior": "fancy"}, status=400)
    assert_error(response, 400, 107)
    assert current(app, url) == thing
