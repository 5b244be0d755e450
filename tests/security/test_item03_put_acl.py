"""Item 3: a PUT replaces what it is given, keeps what it is not given, and answers what is stored.

As Kinto 26.5.0 (checked side by side): ``permissions`` in a PUT replace the
whole ACL of the object (the writer keeps ``write``); a PUT without
``permissions`` (or with an empty object) keeps the ACL and adds the writer; a
PUT without ``data`` keeps the data (kinto-http's ``setPermissions`` relies on
it). On every level of the hierarchy, directly or through a batch.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import ALICE, BOB, CAROL, userid

LEVELS = {
    "bucket": "/buckets/b",
    "collection": "/buckets/b/collections/c",
    "group": "/buckets/b/groups/g",
    "record": "/buckets/b/collections/c/records/r",
}


def acl(**permissions: list[str]) -> dict[str, list[str]]:
    """An ACL as answered: user names turned into user ids, principals sorted."""
    return {perm: sorted(userid(name) for name in names) for perm, names in permissions.items()}


def normal(permissions: dict[str, list[str]]) -> dict[str, list[str]]:
    return {perm: sorted(principals) for perm, principals in permissions.items() if principals}


def stored_permissions(app: Any, path: str, headers: dict[str, str] = ALICE) -> dict[str, list[str]]:
    return normal(app.get(f"/v1{path}", headers=headers).json["permissions"])


@pytest.fixture
def hierarchy(app: Any, put: Any) -> Any:
    """Alice's bucket, collection and group (no record yet)."""
    put(app, "/buckets/b")
    put(app, "/buckets/b/collections/c")
    put(app, "/buckets/b/groups/g", {"members": []})
    return app


def shared(app: Any, put: Any, level: str) -> str:
    """The object of ``level``, readable by Carol and writable by Bob (and Alice, its writer)."""
    path = LEVELS[level]
    put(
        app,
        path,
        {"members": []} if level == "group" else {"title": "shared"},
        permissions={"read": [userid("carol")], "write": [userid("bob")]},
    )
    assert stored_permissions(app, path) == acl(read=["carol"], write=["alice", "bob"])
    return path


@pytest.mark.parametrize("level", LEVELS)
def test_put_with_permissions_revokes_every_permission_it_leaves_out(hierarchy, put, level):
    app = hierarchy
    path = shared(app, put, level)

    answer = put(
        app, path, {"members": []} if level == "group" else {"title": "mine"}, permissions={"write": [userid("alice")]}
    )

    assert normal(answer["permissions"]) == acl(write=["alice"])
    assert stored_permissions(app, path) == acl(write=["alice"])
    assert app.get(f"/v1{path}", headers=CAROL, expect_errors=True).status_code == 403
    response = app.put_json(f"/v1{path}", {"data": {}}, headers=BOB, expect_errors=True)
    assert response.status_code == 403


def test_the_writer_keeps_write_when_a_put_replaces_the_acl(hierarchy, put):
    app = hierarchy
    path = shared(app, put, "record")

    answer = app.put_json(
        f"/v1{path}", {"data": {"by": "bob"}, "permissions": {"read": [userid("carol")]}}, headers=BOB
    ).json

    assert normal(answer["permissions"]) == acl(read=["carol"], write=["bob"])
    assert stored_permissions(app, path) == acl(read=["carol"], write=["bob"])


@pytest.mark.parametrize("level", LEVELS)
def test_put_without_permissions_keeps_the_acl_and_answers_it(hierarchy, put, level):
    app = hierarchy
    path = shared(app, put, level)

    answer = app.put_json(
        f"/v1{path}", {"data": {"members": []} if level == "group" else {"title": "new"}}, headers=ALICE
    ).json

    assert normal(answer["permissions"]) == acl(read=["carol"], write=["alice", "bob"])
    assert stored_permissions(app, path) == acl(read=["carol"], write=["alice", "bob"])
    assert app.get(f"/v1{path}", headers=CAROL).status_code == 200


def test_put_with_empty_permissions_keeps_the_acl_as_kinto_does(hierarchy, put):
    app = hierarchy
    path = shared(app, put, "record")

    answer = app.put_json(f"/v1{path}", {"data": {"title": "new"}, "permissions": {}}, headers=ALICE).json

    assert normal(answer["permissions"]) == acl(read=["carol"], write=["alice", "bob"])
    assert stored_permissions(app, path) == acl(read=["carol"], write=["alice", "bob"])


def test_put_without_permissions_by_an_inherited_writer_adds_the_writer(hierarchy, put):
    app = hierarchy
    path = LEVELS["record"]
    app.put_json(f"/v1{path}", {"data": {}, "permissions": {"write": [userid("bob")]}}, headers=ALICE)
    app.put_json(f"/v1{path}", {"data": {}, "permissions": {"read": [userid("carol")]}}, headers=BOB)
    assert stored_permissions(app, path) == acl(read=["carol"], write=["bob"])

    # Alice writes through the bucket: as in Kinto, the writer is added, nothing is removed.
    answer = app.put_json(f"/v1{path}", {"data": {"title": "by alice"}}, headers=ALICE).json

    assert normal(answer["permissions"]) == acl(read=["carol"], write=["alice", "bob"])
    assert stored_permissions(app, path) == acl(read=["carol"], write=["alice", "bob"])


@pytest.mark.parametrize("level", LEVELS)
def test_put_without_data_keeps_the_data(hierarchy, put, level):
    app = hierarchy
    data = {"members": [userid("bob")], "title": "kept"} if level == "group" else {"title": "kept", "n": 1}
    path = LEVELS[level]
    put(app, path, data)

    answer = app.put_json(f"/v1{path}", {"permissions": {"read": [userid("carol")]}}, headers=ALICE).json

    for body in (answer, app.get(f"/v1{path}", headers=ALICE).json):
        assert {key: body["data"][key] for key in data} == data
        assert normal(body["permissions"]) == acl(read=["carol"], write=["alice"])


def test_a_group_put_without_data_keeps_its_members_in_their_principals(hierarchy, put):
    app = hierarchy
    put(app, "/buckets/b/groups/g", {"members": [userid("bob")]})
    put(app, "/buckets/b/collections/c/records/r", {}, permissions={"read": ["/buckets/b/groups/g"]})

    app.put_json("/v1/buckets/b/groups/g", {"permissions": {"read": [userid("carol")]}}, headers=ALICE)

    assert app.get("/v1/buckets/b/collections/c/records/r", headers=BOB).status_code == 200


def test_put_without_data_on_a_new_object_creates_it_empty(hierarchy):
    app = hierarchy
    response = app.put_json(
        "/v1/buckets/b/collections/c/records/new", {"permissions": {"read": [userid("carol")]}}, headers=ALICE
    )

    assert response.status_code == 201
    assert set(response.json["data"]) == {"id", "last_modified"}
    assert normal(response.json["permissions"]) == acl(read=["carol"], write=["alice"])


def test_a_batch_put_replaces_the_acl_too(hierarchy, put):
    app = hierarchy
    path = shared(app, put, "record")

    batch = {
        "requests": [
            {
                "method": "PUT",
                "path": path,
                "body": {"data": {"title": "mine"}, "permissions": {"write": [userid("alice")]}},
            }
        ]
    }
    response = app.post_json("/v1/batch", batch, headers=ALICE).json["responses"][0]

    assert response["status"] == 200
    assert normal(response["body"]["permissions"]) == acl(write=["alice"])
    assert app.get(f"/v1{path}", headers=CAROL, expect_errors=True).status_code == 403
