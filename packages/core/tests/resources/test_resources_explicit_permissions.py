"""``explicit_permissions = false``: writers are not added to the objects they write."""

import pytest

from .conftest import ALICE, BOB, assert_error, userid


@pytest.fixture(scope="module")
def extra_settings():
    return {"explicit_permissions": False}


def test_the_creator_is_not_made_a_writer(app):
    response = app.post_json(
        "/v1/articles", {"data": {"title": "t"}, "permissions": {"read": [userid("bob")]}}, headers=ALICE, status=201
    )
    assert response.json["permissions"] == {"read": [userid("bob")]}
    url = f"/v1/articles/{response.json['data']['id']}"
    # Nothing but the object's own permissions (and no inheritance here): alice lost her access.
    assert_error(app.get(url, headers=ALICE, status=403), 403)
    assert app.get(url, headers=BOB).json["data"]["title"] == "t"


def test_a_writer_stays_out_of_the_acl_after_an_update(app):
    body = {"data": {"title": "t"}, "permissions": {"write": [userid("bob")]}}
    created = app.post_json("/v1/articles", body, headers=ALICE).json
    url = f"/v1/articles/{created['data']['id']}"
    patched = app.patch_json(url, {"permissions": {"read": ["system.Everyone"]}}, headers=BOB).json
    assert patched["permissions"] == {"read": ["system.Everyone"], "write": [userid("bob")]}
