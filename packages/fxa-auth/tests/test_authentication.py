"""Bearer tokens through HTTP: who is let in, who gets 401, and what the challenge says."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from joserfc.jwk import RSAKey

from kinto_fxa.testing import OAuthStandIn

from .conftest import CLIENT_ID, USER, bearer


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def assert_refused(response: Any, error: str = "invalid_token") -> None:
    assert response.status_code == 401
    assert response.json["errno"] == 104
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="Kinto"')
    assert f'error="{error}"' in challenge


def test_a_valid_jwt_authenticates_the_user_as_fxa_uid(app: Any, oauth_server: OAuthStandIn) -> None:
    token = oauth_server.issue_jwt_token(USER, "profile kinto", CLIENT_ID)
    response = app.get("/v1/protected", headers=bearer(token))
    assert response.json == {"userid": f"fxa:{USER}"}


def test_the_root_url_shows_the_fxa_user(app: Any, oauth_server: OAuthStandIn) -> None:
    token = oauth_server.issue_jwt_token(USER, "kinto", CLIENT_ID)
    body = app.get("/v1/", headers=bearer(token)).json
    assert body["user"]["id"] == f"fxa:{USER}"
    assert "system.Authenticated" in body["user"]["principals"]


def test_a_valid_opaque_token_is_verified_by_the_server(app: Any, oauth_server: OAuthStandIn) -> None:
    token = oauth_server.issue_opaque_token(USER, "profile kinto", CLIENT_ID)
    assert app.get("/v1/protected", headers=bearer(token)).json == {"userid": f"fxa:{USER}"}
    assert oauth_server.hits["/v1/verify"] == 1


def test_opaque_tokens_may_be_introspected_instead(make_fxa_app: Any, oauth_server: OAuthStandIn) -> None:
    app = make_fxa_app(**{"fxa-oauth.opaque_token_verification": "introspect"})
    token = oauth_server.issue_opaque_token(USER, "kinto", CLIENT_ID)
    assert app.get("/v1/protected", headers=bearer(token)).json == {"userid": f"fxa:{USER}"}
    assert oauth_server.hits["/v1/introspect"] == 1
    assert oauth_server.hits["/v1/verify"] == 0


def test_a_revoked_opaque_token_is_refused_by_introspection(make_fxa_app: Any, oauth_server: OAuthStandIn) -> None:
    app = make_fxa_app(**{"fxa-oauth.opaque_token_verification": "introspect"})
    token = oauth_server.issue_opaque_token(USER, "kinto", CLIENT_ID)
    oauth_server.revoke(token)
    assert_refused(app.get("/v1/protected", headers=bearer(token), status=401))


def test_a_token_without_the_required_scope_is_refused(app: Any, oauth_server: OAuthStandIn) -> None:
    token = oauth_server.issue_jwt_token(USER, "profile", CLIENT_ID)
    response = app.get("/v1/protected", headers=bearer(token), status=401)
    assert_refused(response, "insufficient_scope")
    assert 'scope="kinto"' in response.headers["WWW-Authenticate"]


def test_an_opaque_token_without_the_required_scope_is_refused(app: Any, oauth_server: OAuthStandIn) -> None:
    token = oauth_server.issue_opaque_token(USER, "profile", CLIENT_ID)
    assert_refused(app.get("/v1/protected", headers=bearer(token), status=401), "insufficient_scope")


def test_a_broader_granted_scope_covers_the_required_one(make_fxa_app: Any, oauth_server: OAuthStandIn) -> None:
    app = make_fxa_app(**{"fxa-oauth.required_scope": "https://identity.example.com/apps/kinto"})
    token = oauth_server.issue_jwt_token(USER, "profile https://identity.example.com/apps#write", CLIENT_ID)
    assert app.get("/v1/protected", headers=bearer(token)).json == {"userid": f"fxa:{USER}"}


def test_an_expired_jwt_is_refused(app: Any, oauth_server: OAuthStandIn) -> None:
    token = oauth_server.issue_jwt_token(USER, "kinto", CLIENT_ID, expires_in=-1)
    assert_refused(app.get("/v1/protected", headers=bearer(token), status=401))


def test_an_expired_opaque_token_is_refused(app: Any, oauth_server: OAuthStandIn) -> None:
    token = oauth_server.issue_opaque_token(USER, "kinto", CLIENT_ID, expires_in=-1)
    assert_refused(app.get("/v1/protected", headers=bearer(token), status=401))


def test_a_jwt_with_a_forged_signature_is_refused(app: Any, oauth_server: OAuthStandIn) -> None:
    forger = RSAKey.generate_key(2048, parameters={"kid": oauth_server.current_kid})
    token = oauth_server.issue_jwt_token(USER, "kinto", CLIENT_ID, signing_key=forger)
    assert_refused(app.get("/v1/protected", headers=bearer(token), status=401))


def test_a_jwt_whose_claims_were_altered_is_refused(app: Any, oauth_server: OAuthStandIn) -> None:
    token = oauth_server.issue_jwt_token(USER, "profile", CLIENT_ID)
    other = oauth_server.issue_jwt_token("someone-else", "kinto", CLIENT_ID)
    spliced = ".".join([token.split(".")[0], other.split(".")[1], token.split(".")[2]])
    assert_refused(app.get("/v1/protected", headers=bearer(spliced), status=401))


def test_a_jwt_signed_with_the_public_key_as_hmac_secret_is_refused(app: Any, oauth_server: OAuthStandIn) -> None:
    # The classic algorithm confusion attack, built by hand since JOSE libraries refuse to.
    public_pem = RSAKey.import_key(oauth_server.jwks()["keys"][-1]).as_pem()
    header = {"alg": "HS256", "kid": oauth_server.current_kid, "typ": "at+jwt"}
    claims = {"sub": USER, "scope": "kinto", "client_id": CLIENT_ID, "iss": oauth_server.issuer, "exp": 2**40}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{_b64(signature)}"
    assert_refused(app.get("/v1/protected", headers=bearer(token), status=401))


def test_a_jwt_from_another_issuer_is_refused(app: Any, oauth_server: OAuthStandIn) -> None:
    token = oauth_server.issue_jwt_token(USER, "kinto", CLIENT_ID, issuer="https://evil.example.com")
    assert_refused(app.get("/v1/protected", headers=bearer(token), status=401))


def test_a_jwt_that_is_not_an_access_token_is_refused(app: Any, oauth_server: OAuthStandIn) -> None:
    id_token = oauth_server.issue_jwt_token(USER, "kinto", CLIENT_ID, typ="JWT")
    assert_refused(app.get("/v1/protected", headers=bearer(id_token), status=401))


def test_a_token_issued_to_another_client_is_refused(app: Any, oauth_server: OAuthStandIn) -> None:
    token = oauth_server.issue_jwt_token(USER, "kinto", "another-relier")
    assert_refused(app.get("/v1/protected", headers=bearer(token), status=401))


def test_a_revoked_opaque_token_is_refused(app: Any, oauth_server: OAuthStandIn) -> None:
    token = oauth_server.issue_opaque_token(USER, "kinto", CLIENT_ID)
    oauth_server.revoke(token)
    assert_refused(app.get("/v1/protected", headers=bearer(token), status=401))


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "x" * 5000, "é.ü.ö"])
def test_garbage_tokens_are_refused_without_error(app: Any, token: str) -> None:
    assert_refused(app.get("/v1/protected", headers={"Authorization": f"Bearer {token}"}, status=401))


def test_without_a_token_the_challenge_names_the_realm(app: Any) -> None:
    response = app.get("/v1/protected", status=401)
    assert response.json["errno"] == 104
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="Kinto"'


def test_a_refused_token_leaves_public_views_anonymous(app: Any) -> None:
    assert app.get("/v1/public", headers=bearer("garbage")).json == {"userid": None}


def test_other_policies_still_authenticate_their_requests(make_fxa_app: Any) -> None:
    from kinto.core.testing import basic_auth_header

    app = make_fxa_app(**{"multiauth.policies": "fxa basicauth", "userid_hmac_secret": "hmac"})
    userid = app.get("/v1/protected", headers=basic_auth_header()).json["userid"]
    assert userid.startswith("basicauth:")


def test_keys_rotated_by_the_server_are_fetched_again(app: Any, oauth_server: OAuthStandIn) -> None:
    first = oauth_server.issue_jwt_token(USER, "kinto", CLIENT_ID)
    app.get("/v1/protected", headers=bearer(first))
    oauth_server.rotate_keys()
    second = oauth_server.issue_jwt_token(USER, "kinto", CLIENT_ID)
    assert app.get("/v1/protected", headers=bearer(second)).json == {"userid": f"fxa:{USER}"}
    assert oauth_server.hits["/v1/jwks"] == 2


def test_keys_are_fetched_once_for_many_tokens(app: Any, oauth_server: OAuthStandIn) -> None:
    for user in ("alice", "bob", "carol"):
        token = oauth_server.issue_jwt_token(user, "kinto", CLIENT_ID)
        assert app.get("/v1/protected", headers=bearer(token)).json == {"userid": f"fxa:{user}"}
    assert oauth_server.hits["/v1/jwks"] == 1


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/"])
def test_the_oauth_uri_may_be_given_with_or_without_v1(
    make_fxa_app: Any, oauth_server: OAuthStandIn, suffix: str
) -> None:
    app = make_fxa_app(**{"fxa-oauth.oauth_uri": oauth_server.url + suffix})
    token = oauth_server.issue_opaque_token(USER, "kinto", CLIENT_ID)
    assert app.get("/v1/protected", headers=bearer(token)).json == {"userid": f"fxa:{USER}"}
    assert app.get("/v1/__heartbeat__").json["oauth"] is True
