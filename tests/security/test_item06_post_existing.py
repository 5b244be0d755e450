"""Item 6: POSTing the id of an existing object answers what a GET would show the caller.

The ACL of an object (who may read or write it) is shown to those who may write
the object only. A POST whose ``data.id`` names an existing object reads it: as
in Kinto 26.5.0, a caller who may read it gets it (200, without its ACL unless
it may write it), whether or not it may create; a caller who may create but not
read it gets the 403 any read would answer, and nothing of the object.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import ALICE, BOB, CAROL, assert_error, userid

RECORDS = "/v1/buckets/b/collections/c/records"


@pytest.fixture
def shared(app: Any, put: Any) -> Any:
    """Alice's bucket ``b`` (Bob reads it), collection ``c`` (Carol may create records in it),
    record ``r`` (readable by Carol) and record ``hidden`` (nobody but Alice)."""
    put(app, "/buckets/b", permissions={"read": [userid("bob")]})
    put(app, "/buckets/b/collections/c", permissions={"record:create": [userid("carol")]})
    put(app, "/buckets/b/collections/c/records/r", {"title": "shared"}, permissions={"read": [userid("carol")]})
    put(app, "/buckets/b/collections/c/records/hidden", {"title": "secret"})
    return app


def test_a_bucket_reader_posting_an_existing_bucket_id_gets_no_acl(shared):
    app = shared
    response = app.post_json("/v1/buckets", {"data": {"id": "b"}}, headers=BOB)

    assert response.status_code == 200
    assert response.json["permissions"] == {}
    assert response.json == app.get("/v1/buckets/b", headers=BOB).json
    assert userid("alice") not in response.text


def test_a_record_creator_posting_a_readable_record_id_gets_no_acl(shared):
    app = shared
    response = app.post_json(RECORDS, {"data": {"id": "r"}}, headers=CAROL)

    assert response.status_code == 200
    assert response.json == app.get(f"{RECORDS}/r", headers=CAROL).json
    assert response.json["permissions"] == {}
    assert userid("alice") not in response.text


def test_a_record_creator_posting_an_unreadable_record_id_gets_the_403_of_a_read(shared):
    app = shared
    response = app.post_json(
        RECORDS, {"data": {"id": "hidden", "title": "overwrite?"}}, headers=CAROL, expect_errors=True
    )

    body = assert_error(response, 403, 121)
    assert body["message"] == app.get(f"{RECORDS}/hidden", headers=CAROL, expect_errors=True).json["message"]
    assert "secret" not in response.text
    assert app.get(f"{RECORDS}/hidden", headers=ALICE).json["data"]["title"] == "secret"


def test_a_reader_who_may_not_create_reads_an_existing_object_by_posting_its_id(shared):
    app = shared
    response = app.post_json("/v1/buckets/b/collections", {"data": {"id": "c"}}, headers=BOB)

    assert response.status_code == 200
    assert response.json == app.get("/v1/buckets/b/collections/c", headers=BOB).json
    assert response.json["permissions"] == {}
    # A new id still needs the create permission.
    response = app.post_json("/v1/buckets/b/collections", {"data": {"id": "new"}}, headers=BOB, expect_errors=True)
    assert_error(response, 403, 121)


def test_a_writer_posting_an_existing_id_still_gets_the_acl(shared):
    app = shared
    response = app.post_json(RECORDS, {"data": {"id": "r"}}, headers=ALICE)

    assert response.status_code == 200
    assert response.json["permissions"] == app.get(f"{RECORDS}/r", headers=ALICE).json["permissions"]
    assert userid("carol") in response.json["permissions"]["read"]


def test_a_batch_post_of_an_existing_id_shows_no_acl_to_a_reader(shared):
    app = shared
    batch = {
        "requests": [
            {"method": "POST", "path": "/buckets", "body": {"data": {"id": "b"}}},
            {"method": "POST", "path": "/buckets/b/collections/c/records", "body": {"data": {"id": "r"}}},
        ]
    }
    bob, carol = (app.post_json("/v1/batch", batch, headers=who).json["responses"] for who in (BOB, CAROL))

    assert bob[0]["status"] == 200 and bob[0]["body"]["permissions"] == {}
    assert carol[1]["status"] == 200 and carol[1]["body"]["permissions"] == {}
    assert userid("alice") not in str(bob) + str(carol)
