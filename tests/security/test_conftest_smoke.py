"""The fixtures every security module relies on: an application per backend, users that differ."""

from .conftest import ALICE, BOB, userid


def test_each_backend_answers_an_authenticated_root(app):
    assert app.get("/v1/", headers=ALICE).json["user"]["id"] == userid("alice")
    assert userid("alice") != userid("bob")
    assert app.get("/v1/", headers=BOB).json["user"]["id"] == userid("bob")
