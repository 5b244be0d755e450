"""Who may do what: shareable objects, private (user) objects, create principals, 401 versus 403."""

import uuid

import pytest

from .conftest import ALICE, BOB, CAROL, assert_error, userid

EVERYONE, AUTHENTICATED = "system.Everyone", "system.Authenticated"


def ids(response):
    return sorted(obj["id"] for obj in response.json["data"])


@pytest.fixture
def article(create):
    return create("/v1/articles", {"title": "alice's"})


@pytest.fixture
def url(article):
    return f"/v1/articles/{article['id']}"


def share(app, url, **permissions):
    app.patch_json(url, {"permissions": permissions}, headers=ALICE, status=200)


# --- shareable objects ---------------------------------------------------------------------------------


def test_the_creator_gets_write_and_sees_the_permissions(app, article, url):
    response = app.get(url, headers=ALICE)
    assert response.json == {"data": article, "permissions": {"write": [userid("alice")]}}


def test_others_get_403_and_anonymous_401(app, url):
    assert_error(app.get(url, headers=BOB, status=403), 403, 121)
    assert_error(app.get(url, status=401), 401, 104)
    for method in ("patch_json", "put_json"):
        assert_error(getattr(app, method)(url, {"data": {"title": "x"}}, headers=BOB, status=403), 403, 121)
        assert_error(getattr(app, method)(url, {"data": {"title": "x"}}, status=401), 401, 104)
    assert_error(app.delete(url, headers=BOB, status=403), 403, 121)
    assert_error(app.delete(url, status=401), 401, 104)
    assert app.get(url, headers=ALICE).json["data"]["title"] == "alice's"


def test_an_unreadable_object_answers_like_a_missing_one(app, url):
    missing = app.get(f"/v1/articles/{uuid.uuid4()}", headers=BOB, expect_errors=True)
    forbidden = app.get(url, headers=BOB, expect_errors=True)
    assert missing.status_code == forbidden.status_code
    assert missing.json["errno"] == forbidden.json["errno"]


def test_read_sharing(app, article, url):
    share(app, url, read=[userid("bob")])
    response = app.get(url, headers=BOB, status=200)
    assert response.json["data"] == app.get(url, headers=ALICE).json["data"]
    assert response.json["permissions"] == {}  # only writers see who may do what
    assert_error(app.patch_json(url, {"data": {"title": "bob's"}}, headers=BOB, status=403), 403)
    assert_error(app.delete(url, headers=BOB, status=403), 403)
    assert_error(app.get(url, headers=CAROL, status=403), 403)


def test_write_sharing(app, url):
    share(app, url, write=[userid("bob")])
    response = app.patch_json(url, {"data": {"title": "bob's"}}, headers=BOB, status=200)
    assert response.json["data"]["title"] == "bob's"
    assert response.json["data"]["author"] == userid("alice")
    assert userid("bob") in app.get(url, headers=BOB).json["permissions"]["write"]
    app.delete(url, headers=BOB, status=200)


def test_the_plural_list_shows_only_readable_objects(app, create, article):
    bobs = create("/v1/articles", {"title": "bob's"}, headers=BOB)
    shared = create("/v1/articles", {"title": "shared"}, permissions={"read": [userid("bob")]})
    writable = create("/v1/articles", {"title": "writable"}, permissions={"write": [userid("bob")]})
    assert ids(app.get("/v1/articles", headers=BOB)) == sorted([bobs["id"], shared["id"], writable["id"]])
    assert ids(app.get("/v1/articles", headers=ALICE)) == sorted([article["id"], shared["id"], writable["id"]])
    assert ids(app.get("/v1/articles", headers=CAROL)) == []
    assert app.head("/v1/articles", headers=BOB).headers["Total-Objects"] == "3"
    assert ids(app.get(f"/v1/articles?title={article['title']}", headers=BOB)) == []


def test_a_list_with_nothing_readable_is_refused_to_those_who_cannot_create(app, create):
    create("/v1/articles", {"title": "private"})
    create("/v1/memos", {"text": "private"})
    # Anyone authenticated may create articles: an empty list. Nobody but alice may create memos.
    assert app.get("/v1/articles", headers=CAROL).json["data"] == []
    assert_error(app.get("/v1/memos", headers=CAROL, status=403), 403, 121)
    assert_error(app.delete("/v1/memos", headers=CAROL, status=403), 403, 121)
    assert_error(app.get("/v1/articles", status=401), 401, 104)
    assert_error(app.delete("/v1/articles", status=401), 401, 104)
    assert len(app.get("/v1/articles", headers=ALICE).json["data"]) == 1


def test_pages_of_a_filtered_list_hold_only_readable_objects(app, create):
    readable = [create("/v1/articles", {"title": f"r{n}"}, permissions={"read": [userid("bob")]}) for n in range(7)]
    for n in range(5):
        create("/v1/articles", {"title": f"p{n}"})
    seen, url = [], "/v1/articles?_limit=3&_sort=title"
    while url:
        response = app.get(url, headers=BOB)
        seen += [obj["id"] for obj in response.json["data"]]
        url = response.headers.get("Next-Page")
        url = url[url.index("/v1/") :] if url else None
    assert seen == [obj["id"] for obj in sorted(readable, key=lambda obj: obj["title"])]


def test_sharing_between_pages_does_not_break_the_walk(app, create):
    readable = [create("/v1/articles", {"title": f"r{n}"}, permissions={"read": [userid("bob")]}) for n in range(7)]
    seen, url, late = [], "/v1/articles?_limit=3&_sort=title", []
    while url:
        response = app.get(url, headers=BOB)
        seen += [obj["id"] for obj in response.json["data"]]
        url = response.headers.get("Next-Page")
        url = url[url.index("/v1/") :] if url else None
        # Between pages, bob gets another object to read, and creates one.
        late.append(create("/v1/articles", {"title": f"s{len(late)}"}, permissions={"read": [userid("bob")]}))
        late.append(create("/v1/articles", {"title": f"b{len(late)}"}, headers=BOB))
    assert len(seen) == len(set(seen))
    assert {obj["id"] for obj in readable} <= set(seen) <= {obj["id"] for obj in readable + late}


def test_plural_delete_removes_only_writable_objects(app, create, article):
    readable = create("/v1/articles", {"title": "readable"}, permissions={"read": [userid("bob")]})
    writable = create("/v1/articles", {"title": "writable"}, permissions={"write": [userid("bob")]})
    bobs = create("/v1/articles", {"title": "bob's"}, headers=BOB)
    deleted = app.delete("/v1/articles", headers=BOB).json["data"]
    assert sorted(obj["id"] for obj in deleted) == sorted([writable["id"], bobs["id"]])
    assert ids(app.get("/v1/articles", headers=ALICE)) == sorted([article["id"], readable["id"]])


def test_public_objects(app, create):
    public = create("/v1/articles", {"title": "public"}, permissions={"read": [EVERYONE]})
    create("/v1/articles", {"title": "private"})
    assert app.get(f"/v1/articles/{public['id']}").json["data"]["title"] == "public"
    assert ids(app.get("/v1/articles")) == [public["id"]]
    assert ids(app.get("/v1/articles", headers=CAROL)) == [public["id"]]
    assert_error(app.patch_json(f"/v1/articles/{public['id']}", {"data": {"title": "x"}}, status=401), 401)
    members = create("/v1/articles", {"title": "members"}, permissions={"write": [AUTHENTICATED]})
    app.patch_json(f"/v1/articles/{members['id']}", {"data": {"title": "carol's"}}, headers=CAROL, status=200)


def test_permissions_are_deleted_with_the_object(app, article, url):
    share(app, url, read=[userid("bob")])
    app.delete(url, headers=ALICE)
    # Re-created under the same id by someone else: nothing of the old sharing remains.
    app.put_json(url, {"data": {"title": "carol's"}}, headers=CAROL, status=201)
    assert_error(app.get(url, headers=BOB, status=403), 403)
    assert app.get(url, headers=CAROL).json["permissions"] == {"write": [userid("carol")]}


# --- creation versus replacement -----------------------------------------------------------------------


def test_put_creates_with_create_and_replaces_with_write(app, url):
    new = f"/v1/articles/{uuid.uuid4()}"
    response = app.put_json(new, {"data": {"title": "bob's"}}, headers=BOB, status=201)
    assert response.json["permissions"]["write"] == [userid("bob")]
    assert_error(app.put_json(url, {"data": {"title": "stolen"}}, headers=BOB, status=403), 403)
    assert app.get(url, headers=ALICE).json["data"]["title"] == "alice's"
    share(app, url, write=[userid("bob")])
    app.put_json(url, {"data": {"title": "replaced"}}, headers=BOB, status=200)


def test_put_replaces_permissions_but_the_writer_keeps_write(app, url):
    share(app, url, read=[userid("bob")], write=[userid("carol")])
    response = app.put_json(
        url, {"data": {"title": "t"}, "permissions": {"read": [userid("carol")]}}, headers=ALICE, status=200
    )
    assert response.json["permissions"] == {"read": [userid("carol")], "write": [userid("alice")]}
    assert_error(app.get(url, headers=BOB, status=403), 403)


def test_post_of_an_existing_id_needs_read(app, article):
    body = {"data": {"id": article["id"], "title": "other"}}
    assert_error(app.post_json("/v1/articles", body, headers=BOB, status=403), 403)
    assert app.post_json("/v1/articles", body, headers=ALICE, status=200).json["data"] == article


def test_create_principals_come_from_the_setting(app, create):
    # memo_create_principals names alice only.
    memo = create("/v1/memos", {"text": "alice's"})
    assert_error(app.post_json("/v1/memos", {"data": {}}, headers=BOB, status=403), 403, 121)
    assert_error(app.post_json("/v1/memos", {"data": {}}, status=401), 401, 104)
    new = f"/v1/memos/{uuid.uuid4()}"
    assert_error(app.put_json(new, {"data": {}}, headers=BOB, status=403), 403)
    app.put_json(new, {"data": {}}, headers=ALICE, status=201)
    # Writing an existing memo needs write on it, not create.
    memo_url = f"/v1/memos/{memo['id']}"
    app.patch_json(memo_url, {"permissions": {"write": [userid("bob")]}}, headers=ALICE)
    app.put_json(memo_url, {"data": {"text": "bob's"}}, headers=BOB, status=200)
    assert ids(app.get("/v1/memos", headers=BOB)) == [memo["id"]]


def test_permissions_in_bodies_are_validated(app, url):
    for permissions in ({"admin": ["x"]}, {"read": "x"}, {"read": [1]}, {"read": [""]}, ["read"]):
        response = app.patch_json(url, {"permissions": permissions}, headers=ALICE, status=400)
        assert_error(response, 400, 107)
        response = app.post_json(
            "/v1/articles", {"data": {"title": "t"}, "permissions": permissions}, headers=ALICE, status=400
        )
        assert_error(response, 400, 107)
    assert_error(app.post_json("/v1/things", {"data": {}, "permissions": {}}, headers=ALICE, status=400), 400)


# --- private objects ------------------------------------------------------------------------------------


def test_users_never_see_each_others_notes(app, create):
    alices = create("/v1/mynotes", {"text": "alice's"})
    bobs = create("/v1/mynotes", {"text": "bob's"}, headers=BOB)
    assert ids(app.get("/v1/mynotes", headers=ALICE)) == [alices["id"]]
    assert ids(app.get("/v1/mynotes", headers=BOB)) == [bobs["id"]]
    assert_error(app.get(f"/v1/mynotes/{alices['id']}", headers=BOB, status=404), 404, 110)
    assert_error(app.patch_json(f"/v1/mynotes/{alices['id']}", {"data": {}}, headers=BOB, status=404), 404)
    assert_error(app.delete(f"/v1/mynotes/{alices['id']}", headers=BOB, status=404), 404)
    # The same id is another object for bob.
    app.put_json(f"/v1/mynotes/{alices['id']}", {"data": {"text": "bob's too"}}, headers=BOB, status=201)
    assert app.get(f"/v1/mynotes/{alices['id']}", headers=ALICE).json["data"]["text"] == "alice's"
    app.delete("/v1/mynotes", headers=BOB)
    assert ids(app.get("/v1/mynotes", headers=ALICE)) == [alices["id"]]
    assert app.head("/v1/mynotes", headers=BOB).headers["Total-Objects"] == "0"
    bob_changes = app.get(f"/v1/mynotes?_since={alices['last_modified']}", headers=BOB).json["data"]
    assert all(obj["deleted"] for obj in bob_changes)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/mynotes"),
        ("head", "/v1/mynotes"),
        ("post_json", "/v1/mynotes"),
        ("delete", "/v1/mynotes"),
        ("get", "/v1/mynotes/{id}"),
        ("put_json", "/v1/mynotes/{id}"),
        ("patch_json", "/v1/mynotes/{id}"),
        ("delete", "/v1/mynotes/{id}"),
    ],
)
def test_notes_need_authentication(app, create, method, path):
    note = create("/v1/mynotes", {"text": "alice's"})
    kwargs = {"params": {"data": {"text": "x"}}} if method.endswith("_json") else {}
    response = getattr(app, method)(path.format(id=note["id"]), status=401, **kwargs)
    if method != "head":
        assert_error(response, 401, 104)
    assert app.get(f"/v1/mynotes/{note['id']}", headers=ALICE).json["data"] == note


def test_notes_have_no_object_permissions(app, create):
    note = create("/v1/mynotes", {"text": "t"})
    assert "permissions" not in app.get(f"/v1/mynotes/{note['id']}", headers=ALICE).json
    body = {"data": {}, "permissions": {"read": [userid("bob")]}}
    assert_error(app.post_json("/v1/mynotes", body, headers=ALICE, status=400), 400)


# --- resources open to authenticated users ---------------------------------------------------------------


def test_plain_resources_need_an_authenticated_user(app, create):
    thing = create("/v1/things", {"n": 1})
    assert_error(app.get("/v1/things", status=401), 401, 104)
    assert_error(app.get(f"/v1/things/{thing['id']}", status=401), 401)
    assert_error(app.post_json("/v1/things", {"data": {}}, status=401), 401)
    assert app.get(f"/v1/things/{thing['id']}", headers=BOB).json["data"] == thing


def test_plain_resources_take_their_principals_from_the_settings(app, create):
    # tag_read_principals = system.Everyone; writing keeps the default (authenticated users).
    tag = create("/v1/tags", {"label": "x"})
    assert app.get("/v1/tags").json["data"] == [tag]
    assert app.get(f"/v1/tags/{tag['id']}").json["data"] == tag
    assert_error(app.post_json("/v1/tags", {"data": {"label": "y"}}, status=401), 401, 104)
