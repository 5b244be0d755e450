"""Permissions inherited from a parent object, and what a missing child answers."""

from .conftest import ALICE, BOB, CAROL, assert_error, userid


def _folder_with_doc(app, readers=(), writers=()):
    app.put_json("/v1/folders/f1", {"permissions": {"read": list(readers), "write": list(writers)}}, headers=ALICE)
    return app.post_json("/v1/folders/f1/docs", {"data": {"title": "plan"}}, headers=ALICE).json["data"]


def test_a_parent_reader_reads_every_child_and_the_list(app):
    doc = _folder_with_doc(app, readers=[userid("bob")])
    assert app.get(f"/v1/folders/f1/docs/{doc['id']}", headers=BOB).json["data"]["title"] == "plan"
    assert [d["id"] for d in app.get("/v1/folders/f1/docs", headers=BOB).json["data"]] == [doc["id"]]
    assert_error(app.get(f"/v1/folders/f1/docs/{doc['id']}", headers=CAROL, status=403), 403)


def test_a_parent_reader_may_not_write_children(app):
    doc = _folder_with_doc(app, readers=[userid("bob")])
    assert_error(app.patch_json(f"/v1/folders/f1/docs/{doc['id']}", {"data": {"x": 1}}, headers=BOB, status=403), 403)
    assert_error(app.post_json("/v1/folders/f1/docs", {"data": {}}, headers=BOB, status=403), 403)


def test_a_parent_writer_creates_and_writes_children(app):
    doc = _folder_with_doc(app, writers=[userid("bob")])
    app.patch_json(f"/v1/folders/f1/docs/{doc['id']}", {"data": {"x": 1}}, headers=BOB)
    created = app.post_json("/v1/folders/f1/docs", {"data": {"title": "bob's"}}, headers=BOB, status=201)
    assert userid("bob") in created.json["permissions"]["write"]


def test_a_missing_child_is_a_404_for_parent_readers_and_a_403_for_others(app):
    _folder_with_doc(app, readers=[userid("bob")])
    missing = "/v1/folders/f1/docs/6f3bc1d4-3e0a-4f7e-9d59-1f0d53d0a0aa"
    for method in ("get", "patch_json", "delete"):
        args = (missing, {"data": {"x": 1}}) if method == "patch_json" else (missing,)
        assert_error(getattr(app, method)(*args, headers=BOB, status=404), 404, 110)
        assert_error(getattr(app, method)(*args, headers=CAROL, status=403), 403)
        assert_error(getattr(app, method)(*args, status=401), 401)


def test_an_invalid_child_id_is_a_400_to_whom_the_parent_allows_the_request(app):
    _folder_with_doc(app, readers=[userid("bob")])
    invalid = "/v1/folders/f1/docs/not-a-uuid"
    assert_error(app.get(invalid, headers=BOB, status=400), 400, 107)
    assert_error(app.put_json(invalid, {"data": {}}, headers=ALICE, status=400), 400, 107)
    # As Kinto, the permission comes first: who could not make the request learns nothing of the id.
    assert_error(app.patch_json(invalid, {"data": {}}, headers=BOB, status=403), 403)
    assert_error(app.get(invalid, headers=CAROL, status=403), 403)
    assert_error(app.get(invalid, status=401), 401)


def test_a_doc_shared_alone_is_readable_without_the_folder(app):
    doc = _folder_with_doc(app)
    app.patch_json(f"/v1/folders/f1/docs/{doc['id']}", {"permissions": {"read": [userid("carol")]}}, headers=ALICE)
    assert app.get(f"/v1/folders/f1/docs/{doc['id']}", headers=CAROL).json["data"]["id"] == doc["id"]
    assert [d["id"] for d in app.get("/v1/folders/f1/docs", headers=CAROL).json["data"]] == [doc["id"]]
    # Write permissions are not shown to readers.
    assert app.get(f"/v1/folders/f1/docs/{doc['id']}", headers=CAROL).json["permissions"] == {}
