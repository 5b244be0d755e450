"""Create, read, update and delete on the plural and object endpoints, and the bad input around them."""

import json
import re
import uuid

import pytest

from .conftest import ALICE, MAX_BODY_BYTES, assert_error, userid

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def new_id():
    return str(uuid.uuid4())


# --- the endpoints ----------------------------------------------------------------------------------


def test_post_creates_an_object_with_a_generated_id(app):
    response = app.post_json("/v1/things", {"data": {"name": "a", "n": 1}}, headers=ALICE, status=201)
    data = response.json["data"]
    assert UUID.match(data["id"])
    assert data["name"] == "a" and data["n"] == 1
    assert response.headers["ETag"] == f'"{data["last_modified"]}"'
    assert app.get(f"/v1/things/{data['id']}", headers=ALICE).json["data"] == data


def test_post_without_body_creates_an_empty_object(app):
    data = app.post("/v1/things", headers=ALICE, status=201).json["data"]
    assert set(data) == {"id", "last_modified"}


def test_get_list_returns_every_object_newest_first(app, create):
    first = create("/v1/things", {"name": "a"})
    second = create("/v1/things", {"name": "b"})
    response = app.get("/v1/things", headers=ALICE)
    assert response.json["data"] == [second, first]
    assert response.headers["ETag"] == f'"{second["last_modified"]}"'


def test_head_of_an_object_has_headers_and_no_body(app, create):
    obj = create("/v1/things", {"name": "a"})
    response = app.head(f"/v1/things/{obj['id']}", headers=ALICE, status=200)
    assert response.body == b""
    assert response.headers["ETag"] == f'"{obj["last_modified"]}"'


def test_put_creates_then_replaces(app):
    object_id = new_id()
    created = app.put_json(f"/v1/things/{object_id}", {"data": {"a": 1, "b": 2}}, headers=ALICE, status=201)
    assert created.json["data"]["id"] == object_id
    replaced = app.put_json(f"/v1/things/{object_id}", {"data": {"c": 3}}, headers=ALICE, status=200)
    data = replaced.json["data"]
    assert {k: v for k, v in data.items() if k != "last_modified"} == {"id": object_id, "c": 3}
    assert data["last_modified"] > created.json["data"]["last_modified"]
    assert app.get(f"/v1/things/{object_id}", headers=ALICE).json["data"] == data


def test_put_with_another_id_in_the_body_is_refused(app):
    object_id = new_id()
    response = app.put_json(f"/v1/things/{object_id}", {"data": {"id": new_id()}}, headers=ALICE, status=400)
    assert_error(response, 400, 107)
    app.get(f"/v1/things/{object_id}", headers=ALICE, status=404)


def test_patch_replaces_the_fields_it_sends(app, create):
    obj = create("/v1/things", {"a": 1, "b": {"c": 1, "d": 2}})
    response = app.patch_json(f"/v1/things/{obj['id']}", {"data": {"b": {"c": 5}, "e": 3}}, headers=ALICE)
    data = response.json["data"]
    assert data["a"] == 1 and data["b"] == {"c": 5} and data["e"] == 3
    assert data["last_modified"] > obj["last_modified"]


def test_patch_of_a_missing_object_is_a_404(app):
    response = app.patch_json(f"/v1/things/{new_id()}", {"data": {"a": 1}}, headers=ALICE, status=404)
    assert_error(response, 404, 110)


def test_delete_returns_a_tombstone_and_the_object_is_gone(app, create):
    obj = create("/v1/things", {"a": 1})
    response = app.delete(f"/v1/things/{obj['id']}", headers=ALICE, status=200)
    tombstone = response.json["data"]
    assert tombstone["id"] == obj["id"] and tombstone["deleted"] is True
    assert tombstone["last_modified"] > obj["last_modified"]
    assert_error(app.get(f"/v1/things/{obj['id']}", headers=ALICE, status=404), 404, 110)
    assert_error(app.delete(f"/v1/things/{obj['id']}", headers=ALICE, status=404), 404, 110)
    assert app.get("/v1/things", headers=ALICE).json["data"] == []


def test_plural_delete_removes_what_the_filters_select(app, create):
    keep = create("/v1/things", {"kind": "keep"})
    drop = [create("/v1/things", {"kind": "drop"}) for _ in range(3)]
    response = app.delete("/v1/things?kind=drop", headers=ALICE, status=200)
    assert sorted(obj["id"] for obj in response.json["data"]) == sorted(obj["id"] for obj in drop)
    assert all(obj["deleted"] for obj in response.json["data"])
    assert [obj["id"] for obj in app.get("/v1/things", headers=ALICE).json["data"]] == [keep["id"]]
    app.delete("/v1/things", headers=ALICE, status=200)
    assert app.get("/v1/things", headers=ALICE).json["data"] == []


def test_post_of_an_existing_id_answers_200_with_the_object_unchanged(app, create):
    obj = create("/v1/things", {"a": 1})
    response = app.post_json("/v1/things", {"data": {"id": obj["id"], "a": 2}}, headers=ALICE, status=200)
    assert response.json["data"] == obj
    assert app.get(f"/v1/things/{obj['id']}", headers=ALICE).json["data"] == obj


def test_post_of_a_deleted_id_creates_it_again(app, create):
    obj = create("/v1/things", {"a": 1})
    app.delete(f"/v1/things/{obj['id']}", headers=ALICE)
    response = app.post_json("/v1/things", {"data": {"id": obj["id"], "a": 2}}, headers=ALICE, status=201)
    assert response.json["data"]["a"] == 2


def test_client_timestamps_are_never_older_than_the_collection(app, create):
    obj = create("/v1/things", {"a": 1})
    replaced = app.put_json(f"/v1/things/{obj['id']}", {"data": {"last_modified": 1, "a": 2}}, headers=ALICE)
    assert replaced.json["data"]["last_modified"] > obj["last_modified"]


def test_a_newer_client_timestamp_is_kept(app, create):
    obj = create("/v1/things", {"a": 1})
    wanted = obj["last_modified"] + 1000
    replaced = app.put_json(f"/v1/things/{obj['id']}", {"data": {"last_modified": wanted}}, headers=ALICE)
    assert replaced.json["data"]["last_modified"] == wanted
    patched = app.patch_json(f"/v1/things/{obj['id']}", {"data": {"a": 2, "last_modified": wanted + 5}}, headers=ALICE)
    assert patched.json["data"]["last_modified"] == wanted + 5


@pytest.mark.parametrize("value", ["abc", 1.5, True, None, [1], {"a": 1}])
def test_client_timestamps_that_are_not_integers_are_ignored(app, create, value):
    obj = create("/v1/things", {"a": 1})
    created = app.post_json("/v1/things", {"data": {"last_modified": value}}, headers=ALICE, status=201)
    assert created.json["data"]["last_modified"] > obj["last_modified"]
    replaced = app.put_json(f"/v1/things/{obj['id']}", {"data": {"last_modified": value}}, headers=ALICE)
    assert isinstance(replaced.json["data"]["last_modified"], int)


@pytest.mark.parametrize("value", [-5, 2**62, 10**30])
def test_client_timestamps_out_of_range_are_a_400(app, create, value):
    obj = create("/v1/things", {"a": 1})
    body = {"data": {"last_modified": value}}
    assert_error(app.post_json("/v1/things", body, headers=ALICE, status=400), 400, 107)
    assert_error(app.put_json(f"/v1/things/{new_id()}", body, headers=ALICE, status=400), 400, 107)
    assert_error(app.put_json(f"/v1/things/{obj['id']}", body, headers=ALICE, status=400), 400, 107)
    assert_error(app.patch_json(f"/v1/things/{obj['id']}", body, headers=ALICE, status=400), 400, 107)
    assert app.get("/v1/things", headers=ALICE).json["data"] == [obj]


# --- ids ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "delete", "put_json", "patch_json"])
def test_an_invalid_id_in_the_url_is_a_400_errno_107(app, method):
    kwargs = {"params": {"data": {}}} if method.endswith("_json") else {}
    response = getattr(app, method)("/v1/things/not-a-uuid", headers=ALICE, status=400, **kwargs)
    body = assert_error(response, 400, 107)
    assert body["details"][0]["location"] == "path"


def test_a_custom_id_generator_draws_and_validates_ids(app):
    drawn = app.post_json("/v1/tags", {"data": {"label": "x"}}, headers=ALICE, status=201).json["data"]["id"]
    assert re.match(r"^[a-z][a-z0-9-]{0,30}$", drawn)
    chosen = app.post_json("/v1/tags", {"data": {"id": "my-tag", "label": "y"}}, headers=ALICE, status=201)
    assert chosen.json["data"]["id"] == "my-tag"
    assert app.get("/v1/tags/my-tag", headers=ALICE).json["data"]["label"] == "y"
    assert_error(app.get("/v1/tags/My_Tag", headers=ALICE, status=400), 400, 107)
    response = app.post_json("/v1/tags", {"data": {"id": "Not A Slug"}}, headers=ALICE, status=400)
    assert_error(response, 400, 107)
    response = app.post_json("/v1/tags", {"data": {"id": 12}}, headers=ALICE, status=400)
    assert_error(response, 400, 107)


def test_an_id_with_a_nul_character_is_a_400(app):
    assert_error(app.get("/v1/tags/a%00b", headers=ALICE, status=400), 400)
    assert_error(app.put_json("/v1/things/a%00b", {"data": {}}, headers=ALICE, status=400), 400)
    response = app.post_json("/v1/tags", {"data": {"id": "a\x00b"}}, headers=ALICE, status=400)
    assert_error(response, 400)


# --- methods and content types --------------------------------------------------------------------


def test_methods_not_offered_are_405_with_allow(app):
    response = app.put_json("/v1/tags/abc", {"data": {}}, headers=ALICE, status=405)
    assert_error(response, 405, 115)
    assert sorted(response.headers["Allow"].split(", ")) == ["GET", "HEAD"]
    response = app.delete("/v1/tags", headers=ALICE, status=405)
    assert sorted(response.headers["Allow"].split(", ")) == ["GET", "HEAD", "POST"]
    response = app.patch_json("/v1/things", {"data": {}}, headers=ALICE, status=405)
    assert sorted(response.headers["Allow"].split(", ")) == ["DELETE", "GET", "HEAD", "POST"]


def test_head_is_served_wherever_get_is(app):
    tag = app.post_json("/v1/tags", {"data": {"label": "x"}}, headers=ALICE).json["data"]
    listing = app.head("/v1/tags", headers=ALICE, status=200)
    assert listing.body == b"" and listing.headers["Total-Objects"] == "1"
    single = app.head(f"/v1/tags/{tag['id']}", headers=ALICE, status=200)
    assert single.body == b"" and single.headers["ETag"] == f'"{tag["last_modified"]}"'


def test_a_body_that_is_not_json_is_a_415(app):
    response = app.post("/v1/things", "a=1", headers={**ALICE, "Content-Type": "text/plain"}, status=415)
    assert_error(response, 415)
    obj = app.post_json("/v1/things", {"data": {}}, headers=ALICE).json["data"]
    response = app.patch(
        f"/v1/things/{obj['id']}", "<a/>", headers={**ALICE, "Content-Type": "application/xml"}, status=415
    )
    assert_error(response, 415)
    assert app.get("/v1/things", headers=ALICE).json["data"] == [obj]


@pytest.mark.parametrize("path", ["/v1/things", "/v1/things/{id}"])
def test_accepting_html_only_is_a_406(app, create, path):
    obj = create("/v1/things", {})
    response = app.get(path.format(id=obj["id"]), headers={**ALICE, "Accept": "text/html"}, status=406)
    assert_error(response, 406)


def test_accept_headers_allowing_json_are_served(app):
    for accept in ("application/json", "*/*", "text/html, application/json;q=0.5", "application/*"):
        app.get("/v1/things", headers={**ALICE, "Accept": accept}, status=200)


# --- bad bodies -----------------------------------------------------------------------------------


def post_raw(app, path, body, status, method="post"):
    return getattr(app, method)(path, body, headers={**ALICE, "Content-Type": "application/json"}, status=status)


def test_invalid_json_is_a_400_errno_107(app):
    assert_error(post_raw(app, "/v1/things", "{not json", 400), 400, 107)
    assert_error(post_raw(app, "/v1/things", b"\xff\xfe", 400), 400, 107)


def test_json_nested_ten_thousand_levels_is_a_400(app):
    body = "[" * 10_000 + "]" * 10_000
    assert_error(post_raw(app, "/v1/things", body, 400), 400)
    body = '{"data": ' + '{"a": ' * 10_000 + "1" + "}" * 10_001
    assert_error(post_raw(app, "/v1/things", body, 400), 400)
    assert app.get("/v1/things", headers=ALICE).json["data"] == []


@pytest.mark.parametrize(
    "body", ["[]", "[1]", '"text"', "3", "null", '{"data": []}', '{"data": "x"}', '{"data": {}, "permissions": []}']
)
def test_bodies_of_the_wrong_shape_are_a_400(app, body):
    assert_error(post_raw(app, "/v1/things", body, 400), 400)
    assert_error(post_raw(app, f"/v1/things/{new_id()}", body, 400, method="put"), 400)
    assert app.get("/v1/things", headers=ALICE).json["data"] == []


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_numbers_json_lacks_are_a_400(app, number):
    response = post_raw(app, "/v1/things", '{"data": {"x": ' + number + "}}", 400)
    assert_error(response, 400, 107)
    assert app.get("/v1/things", headers=ALICE).json["data"] == []


def test_a_body_larger_than_the_setting_is_a_413(app):
    body = json.dumps({"data": {"blob": "x" * MAX_BODY_BYTES}})
    assert_error(post_raw(app, "/v1/things", body, 413), 413, 113)
    assert app.get("/v1/things", headers=ALICE).json["data"] == []


def test_nul_characters_in_fields_and_values_are_a_400(app, create):
    for data in ({"a\x00b": 1}, {"a": "x\x00y"}, {"a": {"b": ["\x00"]}}):
        assert_error(app.post_json("/v1/things", {"data": data}, headers=ALICE, status=400), 400)
        assert_error(app.put_json(f"/v1/things/{new_id()}", {"data": data}, headers=ALICE, status=400), 400)
    obj = create("/v1/things", {"a": 1})
    response = app.patch_json(f"/v1/things/{obj['id']}", {"data": {"a": "\x00"}}, headers=ALICE, status=400)
    assert_error(response, 400)
    response = app.post_json("/v1/memos", {"data": {}, "permissions": {"read": ["a\x00"]}}, headers=ALICE, status=400)
    assert_error(response, 400)
    assert app.get("/v1/things", headers=ALICE).json["data"] == [obj]


@pytest.mark.parametrize(
    "body", ['{"data": {"a": "\\ud800"}}', '{"data": {"\\udfff": 1}}', '{"data": {"a": ["x", {"b": "\\ud83d"}]}}']
)
def test_lone_surrogates_in_bodies_are_a_400(app, body):
    assert_error(post_raw(app, "/v1/things", body, 400), 400, 107)
    assert app.get("/v1/things", headers=ALICE).json["data"] == []


def test_lone_surrogates_in_principals_are_a_400(app):
    body = '{"data": {"title": "t"}, "permissions": {"read": ["\\ud800"]}}'
    assert_error(post_raw(app, "/v1/articles", body, 400), 400, 107)


# --- schemas and read-only fields -------------------------------------------------------------------


def test_schema_errors_name_the_field(app):
    response = app.post_json("/v1/articles", {"data": {"rank": 1}}, headers=ALICE, status=400)
    body = assert_error(response, 400, 107)
    assert body["details"][0]["name"] == "data.title"
    assert body["details"][0]["location"] == "body"
    response = app.post_json("/v1/articles", {"data": {"title": "t", "rank": "high"}}, headers=ALICE, status=400)
    assert assert_error(response, 400, 107)["details"][0]["name"] == "data.rank"
    response = app.post_json("/v1/articles", {"data": {"title": "t", "tags": ["a", 2]}}, headers=ALICE, status=400)
    assert assert_error(response, 400, 107)["details"][0]["name"] == "data.tags.1"
    response = app.post_json("/v1/tags", {"data": {"label": "x", "color": "red"}}, headers=ALICE, status=400)
    assert assert_error(response, 400, 107)["details"][0]["name"] == "data.color"
    assert app.get("/v1/articles", headers=ALICE).json["data"] == []


def test_schema_applies_to_put_and_patch(app, create):
    article = create("/v1/articles", {"title": "t"})
    url = f"/v1/articles/{article['id']}"
    response = app.patch_json(url, {"data": {"status": "gone"}}, headers=ALICE, status=400)
    assert assert_error(response, 400, 107)["details"][0]["name"] == "data.status"
    response = app.patch_json(url, {"data": {"title": None}}, headers=ALICE, status=400)
    assert assert_error(response, 400, 107)["details"][0]["name"] == "data.title"
    response = app.put_json(url, {"data": {"status": "draft"}}, headers=ALICE, status=400)
    assert assert_error(response, 400, 107)["details"][0]["name"] == "data.title"
    assert app.get(url, headers=ALICE).json["data"] == article


def test_a_resource_schema_class_validates(app, create):
    book = create("/v1/books", {"isbn": "978-3", "title": "t"})
    app.patch_json(f"/v1/books/{book['id']}", {"data": {"title": "u"}}, headers=ALICE, status=200)
    response = app.post_json("/v1/books", {"data": {"isbn": "x"}}, headers=ALICE, status=400)
    assert assert_error(response, 400, 107)["details"][0]["name"] == "data.isbn"
    response = app.patch_json(f"/v1/books/{book['id']}", {"data": {"extra": 1}}, headers=ALICE, status=400)
    assert assert_error(response, 400, 107)["details"][0]["name"] == "data.extra"


def test_colander_nodes_on_a_resource_schema_validate(app, create):
    pytest.importorskip("colander", reason="colander schemas need colander, which applications bring")
    obj = create("/v1/kintostyles", {"title": "t", "pages": "3", "extra": True})
    assert obj["pages"] == 3 and obj["extra"] is True
    response = app.post_json("/v1/kintostyles", {"data": {"pages": 3}}, headers=ALICE, status=400)
    assert assert_error(response, 400)["details"][0]["name"] == "data.title"
    assert app.get("/v1/kintostyles", headers=ALICE).json["data"] == [obj]


def test_a_colander_schema_validates_and_deserializes(app, create):
    pytest.importorskip("colander", reason="colander schemas need colander, which applications bring")
    legacy = create("/v1/legacys", {"title": "t", "pages": "12"})
    assert legacy["pages"] == 12
    response = app.post_json("/v1/legacys", {"data": {"pages": 3}}, headers=ALICE, status=400)
    assert assert_error(response, 400, 107)["details"][0]["name"] == "data.title"
    response = app.post_json("/v1/legacys", {"data": {"title": "t", "pages": "many"}}, headers=ALICE, status=400)
    assert assert_error(response, 400, 107)["details"][0]["name"] == "data.pages"
    assert app.get("/v1/legacys", headers=ALICE).json["data"] == [legacy]


def test_readonly_fields_are_set_by_the_server_only(app, create):
    response = app.post_json("/v1/articles", {"data": {"title": "t", "author": "me"}}, headers=ALICE, status=400)
    assert assert_error(response, 400, 107)["details"][0]["name"] == "author"
    article = create("/v1/articles", {"title": "t"})
    assert article["author"] == userid("alice")
    url = f"/v1/articles/{article['id']}"
    response = app.patch_json(url, {"data": {"author": "me"}}, headers=ALICE, status=400)
    assert_error(response, 400, 107)
    patched = app.patch_json(url, {"data": {"title": "u"}}, headers=ALICE).json["data"]
    assert patched["author"] == userid("alice")
    replaced = app.put_json(url, {"data": {"title": "v"}}, headers=ALICE).json["data"]
    assert replaced["author"] == userid("alice")
    same = app.put_json(url, {"data": {"title": "w", "author": userid("alice")}}, headers=ALICE).json["data"]
    assert same["author"] == userid("alice")


def test_fields_of_an_object(app, create):
    obj = create("/v1/things", {"a": 1, "b": {"c": 2, "d": 3}, "e": 4})
    data = app.get(f"/v1/things/{obj['id']}?_fields=a,b.c,missing", headers=ALICE).json["data"]
    assert data == {"id": obj["id"], "last_modified": obj["last_modified"], "a": 1, "b": {"c": 2}}
    response = app.get(f"/v1/things/{obj['id']}?_fields=a%20b", headers=ALICE, status=400)
    assert_error(response, 400, 107)
