"""An OAuth2 server for tests, speaking the parts of Firefox Accounts' OAuth API the plugin uses.

``OAuthStandIn`` runs on 127.0.0.1 (an ephemeral port) in a thread, built on
authlib's ``AuthorizationServer``:

* ``GET /v1/jwks``: its public RSA keys (``kid`` set; ``rotate_keys()`` adds one);
* ``GET /v1/authorization``: the authorization endpoint of the code flow. There
  is no login page: the user named by ``signed_in_user`` approves at once
  (``None``: the user refuses, ``error=access_denied``);
* ``POST /v1/token``: the token endpoint (``authorization_code`` grant, client
  secret in the body or Basic auth), issuing JWT access tokens signed RS256
  (``typ: at+jwt``) or, with ``issue_jwt = False``, opaque hex tokens;
* ``POST /v1/verify``: FxA's verification of a token (``{"token": ...}``),
  answering ``{"user", "client_id", "scope": [...]}`` or 400 / errno 108;
* ``POST /v1/introspect``: RFC 7662 introspection (client Basic auth);
* ``GET /__heartbeat__``; ``GET /webapp``: a page to land on at the end of a login.

Tokens can also be minted directly (``issue_jwt_token``, ``issue_opaque_token``),
revoked (``revoke``), and faults injected: ``fail_with(503)`` answers every
request with that status, ``stall(seconds)`` delays every answer, ``stop()``
closes the port. ``hits`` counts requests per path, to tell cached verifications
from remote ones. These controls, ``url`` and the life cycle come from
``kinto.core.testing.standin.WSGIStandIn``; ``url`` is the server's root, the API is under ``/v1``.

::

    with OAuthStandIn() as server:
        server.register_client("app", "secret")
        token = server.issue_jwt_token("alice", scope="profile kinto", client_id="app")
        settings = {"fxa-oauth.oauth_uri": server.url + "/v1", "fxa-oauth.jwt_issuer": server.issuer}
"""

from __future__ import annotations

import json
import secrets
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    OAuth2Payload,
    OAuth2Request,
    TokenMixin,
    grants,
)
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from kinto.core.testing.standin import WSGIStandIn, json_response
from webob import Request, Response

__all__ = ["OAuthStandIn", "StandInClient"]

DEFAULT_USER = "0f2e6ad1c7b84bd7a1c3e5f7a9b0c2d4"


@dataclass
class StandInClient(ClientMixin):
    """A registered relier: its secret, redirect URIs (empty: any) and the scopes it may ask for (empty: any)."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...] = ()
    allowed_scopes: tuple[str, ...] = ()

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        requested = (scope or "").split()
        if self.allowed_scopes:
            requested = [item for item in requested if item in self.allowed_scopes]
        return " ".join(requested)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return not self.redirect_uris or redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class _IssuedToken(TokenMixin):
    access_token: str
    user: str
    client_id: str
    scope: str
    expires_at: float
    revoked: bool = False

    def check_client(self, client: Any) -> bool:
        return True  # any registered client may introspect any token here

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int(self.expires_at - time.time()))

    def is_expired(self) -> bool:
        return time.time() >= self.expires_at

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> str:
        return self.user

    def get_client(self) -> Any:
        return self.client_id


@dataclass
class _AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: str
    expires_at: float = field(default_factory=lambda: time.time() + 600)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


class _Payload(OAuth2Payload):
    def __init__(self, values: Any) -> None:
        self._values = values

    @property
    def data(self) -> Any:
        return self._values

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        values: defaultdict[str, list[str]] = defaultdict(list)
        for key in self._values:
            values[key] = list(self._values.getall(key))
        return values


class _WebObOAuth2Request(OAuth2Request):
    def __init__(self, request: Request) -> None:
        super().__init__(method=request.method, uri=request.url, headers=request.headers)
        self._request = request
        self.payload = _Payload(request.params)

    @property
    def args(self) -> Any:
        return self._request.GET

    @property
    def form(self) -> Any:
        return self._request.POST


class _CodeGrant(grants.AuthorizationCodeGrant):
    def save_authorization_code(self, code: str, request: Any) -> None:
        standin: OAuthStandIn = self.server.standin
        standin._codes[code] = _AuthorizationCode(
            code, request.client.client_id, request.payload.redirect_uri or "", request.scope or "", request.user
        )

    def query_authorization_code(self, code: str, client: Any) -> _AuthorizationCode | None:
        found = self.server.standin._codes.get(code)
        if found is None or found.client_id != client.client_id or time.time() >= found.expires_at:
            return None
        return found

    def delete_authorization_code(self, authorization_code: _AuthorizationCode) -> None:
        self.server.standin._codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: _AuthorizationCode) -> str:
        return authorization_code.user


class _Introspection(IntrospectionEndpoint):
    def query_token(self, token_string: str, token_type_hint: str | None) -> _IssuedToken | None:
        return self.server.standin._tokens.get(token_string)

    def check_permission(self, token: _IssuedToken, client: Any, request: Any) -> bool:
        return True

    def introspect_token(self, token: _IssuedToken) -> dict[str, Any]:
        return {
            "active": True,
            "client_id": token.client_id,
            "token_type": "access_token",
            "scope": token.scope,
            "sub": token.user,
            "exp": int(token.expires_at),
            "iss": self.server.standin.issuer,
        }


class _Server(AuthorizationServer):
    def __init__(self, standin: OAuthStandIn) -> None:
        super().__init__()
        self.standin = standin
        self.register_grant(_CodeGrant)
        self.register_endpoint(_Introspection)
        self.register_token_generator("default", self._generate_token)

    def query_client(self, client_id: str) -> StandInClient | None:
        return self.standin.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        pass  # tokens are recorded when generated

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        return request if isinstance(request, OAuth2Request) else _WebObOAuth2Request(request)

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError

    def handle_response(self, status: int, body: Any, headers: Iterable[tuple[str, str]]) -> Response:
        text = json.dumps(body) if isinstance(body, dict) else (body or "")
        response = Response(status=status, headerlist=[(str(k), str(v)) for k, v in headers])
        response.body = text.encode()
        return response

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def _generate_token(
        self,
        grant_type: str,
        client: Any,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        lifetime = expires_in or self.standin.token_lifetime
        if self.standin.issue_jwt:
            access_token = self.standin.issue_jwt_token(str(user), scope or "", client.client_id, lifetime)
        else:
            access_token = self.standin.issue_opaque_token(str(user), scope or "", client.client_id, lifetime)
        return {"access_token": access_token, "token_type": "bearer", "expires_in": lifetime, "scope": scope or ""}


class OAuthStandIn(WSGIStandIn):
    """A Firefox Accounts-like OAuth server on 127.0.0.1, for tests (see the module docstring)."""

    thread_name = "oauth-standin"

    def __init__(self, issue_jwt: bool = True, token_lifetime: int = 3600) -> None:
        super().__init__()
        self.issue_jwt = issue_jwt
        self.token_lifetime = token_lifetime
        self.signed_in_user: str | None = DEFAULT_USER
        self.clients: dict[str, StandInClient] = {}
        self._keys: list[RSAKey] = []
        self._tokens: dict[str, _IssuedToken] = {}
        self._codes: dict[str, _AuthorizationCode] = {}
        self._server = _Server(self)
        self.rotate_keys()

    @property
    def issuer(self) -> str:
        return self.url

    # --- tokens and keys ----------------------------------------------------------------------------

    def register_client(
        self, client_id: str, client_secret: str, redirect_uris: Iterable[str] = (), allowed_scopes: Iterable[str] = ()
    ) -> StandInClient:
        client = StandInClient(client_id, client_secret, tuple(redirect_uris), tuple(allowed_scopes))
        self.clients[client_id] = client
        return client

    def rotate_keys(self) -> str:
        """Add a new signing key (the old ones stay published); return its ``kid``."""
        kid = f"key-{len(self._keys) + 1}-{secrets.token_hex(4)}"
        self._keys.append(RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"}))
        return kid

    def withdraw_key(self, kid: str) -> None:
        """Stop publishing (and signing with) the key ``kid``."""
        self._keys = [key for key in self._keys if key.kid != kid]

    @property
    def current_kid(self) -> str:
        return str(self._keys[-1].kid)

    def jwks(self) -> dict[str, Any]:
        return KeySet(list(self._keys)).as_dict(private=False)

    def issue_jwt_token(
        self,
        user: str,
        scope: str = "profile",
        client_id: str = "client",
        expires_in: float = 3600,
        *,
        issuer: str | None = None,
        kid: str | None = None,
        signing_key: RSAKey | None = None,
        typ: str = "at+jwt",
        **claims: Any,
    ) -> str:
        """A JWT access token as FxA issues them; the keyword-only arguments make bad ones."""
        key = signing_key or (next(k for k in self._keys if k.kid == kid) if kid else self._keys[-1])
        now = int(time.time())
        body = {
            "iss": self.issuer if issuer is None else issuer,
            "sub": user,
            "aud": client_id,
            "client_id": client_id,
            "scope": scope,
            "iat": now,
            "exp": now + expires_in,
            "jti": secrets.token_hex(8),
            **claims,
        }
        header = {"alg": "RS256", "kid": kid or key.kid, "typ": typ}
        token = jwt.encode(header, body, key, algorithms=["RS256"])
        self._tokens[token] = _IssuedToken(token, user, client_id, scope, now + expires_in)
        return token

    def issue_opaque_token(
        self, user: str, scope: str = "profile", client_id: str = "client", expires_in: float = 3600
    ) -> str:
        token = secrets.token_hex(32)
        self._tokens[token] = _IssuedToken(token, user, client_id, scope, time.time() + expires_in)
        return token

    def revoke(self, token: str) -> None:
        self._tokens[token].revoked = True

    # --- HTTP ---------------------------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        routes = {
            ("GET", "/__heartbeat__"): lambda: json_response({}),
            ("GET", "/webapp"): lambda: Response("You are signed in.", content_type="text/plain", charset="utf-8"),
            ("GET", "/v1/jwks"): lambda: json_response(self.jwks()),
            ("POST", "/v1/verify"): lambda: self._verify(request),
            ("POST", "/v1/introspect"): lambda: self._server.create_endpoint_response("introspection", request),
            ("GET", "/v1/authorization"): lambda: self._authorize(request),
            ("POST", "/v1/token"): lambda: self._server.create_token_response(request),
        }
        handler = routes.get((request.method, request.path))
        if handler is None:
            return json_response({"code": 404, "message": "Not found"}, status=404)
        return handler()

    def _verify(self, request: Request) -> Response:
        try:
            token = request.json_body.get("token")
        except (ValueError, AttributeError):
            token = None
        issued = self._tokens.get(token) if isinstance(token, str) else None
        if issued is None or issued.revoked or issued.is_expired():
            return json_response(
                {"code": 400, "errno": 108, "error": "Bad Request", "message": "Invalid token"}, status=400
            )
        return json_response(
            {
                "user": issued.user,
                "client_id": issued.client_id,
                "scope": issued.scope.split(),
                "generation": 1,
                "profile_changed_at": 1,
            }
        )

    def _authorize(self, request: Request) -> Response:
        try:
            grant = self._server.get_consent_grant(request, end_user=self.signed_in_user)
        except OAuth2Error as error:
            return self._server.handle_error_response(None, error)
        return self._server.create_authorization_response(request, grant_user=self.signed_in_user, grant=grant)
