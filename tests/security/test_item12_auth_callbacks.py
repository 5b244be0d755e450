"""Item 12: an authentication policy's own checks decide who is authenticated.

A policy named by ``multiauth.policy.<name>.use`` is a Pyramid authentication
policy: ``unauthenticated_userid`` reads the credentials, ``authenticated_userid``
also checks them (Pyramid's Basic Auth calls its ``check`` callback with the
password). Only the former was asked, so a wrong password still identified
the user and reached everything they own. Policies are now asked as
pyramid_multiauth asks them: the first ``authenticated_userid`` found wins.
"""

from __future__ import annotations

from typing import Any

from pyramid.authentication import BasicAuthAuthenticationPolicy

from kinto.core.testing import basic_auth_header

from .conftest import assert_error, userid

PASSWORDS = {"alice": "right"}
RIGHT = basic_auth_header("alice", "right")
WRONG = basic_auth_header("alice", "wrong")


def _check_password(username: str, password: str, request: Any) -> list[str] | None:
    """Pyramid's check callback: the user's groups, or ``None`` to refuse the login."""
    return [] if PASSWORDS.get(username) == password else None


def password_checked_policy(realm: str = "Realm") -> BasicAuthAuthenticationPolicy:
    """What a deployment's ``multiauth.policy.<name>.use`` names: Basic Auth against known passwords."""
    return BasicAuthAuthenticationPolicy(check=_check_password, realm=realm)


def _settings(policies: str = "pwd") -> dict[str, str]:
    return {"multiauth.policies": policies, "multiauth.policy.pwd.use": f"{__name__}.password_checked_policy"}


def test_the_accepted_password_authenticates_under_the_policy_name(make_app):
    app = make_app(_settings())
    assert app.get("/v1/", headers=RIGHT).json["user"]["id"] == "pwd:alice"


def test_a_refused_password_is_anonymous(make_app):
    app = make_app(_settings())

    assert "user" not in app.get("/v1/", headers=WRONG).json
    assert_error(app.put_json("/v1/buckets/b", {"data": {}}, headers=WRONG, status="*"), 401, 104)


def test_a_refused_password_reaches_nothing_the_user_owns(make_app):
    app = make_app(_settings())
    app.put_json("/v1/buckets/b", {"data": {}}, headers=RIGHT)

    assert_error(app.get("/v1/buckets/b", headers=WRONG, status="*"), 401, 104)
    assert_error(app.delete("/v1/buckets/b", headers=WRONG, status="*"), 401, 104)
    assert app.get("/v1/buckets/b", headers=RIGHT).json["data"]["id"] == "b"


def test_a_policy_that_refuses_lets_the_next_one_decide(make_app):
    app = make_app(_settings("pwd basicauth"))

    assert app.get("/v1/", headers=WRONG).json["user"]["id"] == userid("alice", "wrong")
    assert app.get("/v1/", headers=RIGHT).json["user"]["id"] == "pwd:alice"
