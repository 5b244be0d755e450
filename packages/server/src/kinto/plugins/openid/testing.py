"""An OpenID Connect provider for tests, on 127.0.0.1, built on authlib's ``AuthorizationServer``.

``OIDCStandIn`` runs in a thread on an ephemeral port and serves:

* ``GET /.well-known/openid-configuration``: the discovery document (issuer = its URL);
* ``GET /authorize``: the code flow's authorization endpoint; no login page,
  ``signed_in_user`` approves at once (``None``: ``error=access_denied``);
* ``POST /token``: the token endpoint (``authorization_code`` grant, client
  secret in the body or Basic auth), issuing opaque access tokens, or JWTs
  signed RS256 with ``issue_jwt = True`` (``aud`` = ``audience``);
* ``GET /userinfo``: the claims of the bearer token's user (401 otherwise);
* ``GET /jwks``: its public keys.

Tokens can be minted directly (``issue_token``), revoked, and faults injected:
``fail_with(503)`` answers every request with that status, ``stop()`` closes the
port. ``hits`` counts requests per path, to tell cached verifications from
remote ones (these controls, ``url`` and the life cycle come from
``kinto.core.testing.standin.WSGIStandIn``)::

    with OIDCStandIn() as provider:
        provider.register_client("kinto", "secret")
        provider.add_user("alice", email="alice@example.com")
        token = provider.issue_token("alice")
"""

from __future__ import annotations

import json
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, ClassVar

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Payload, OAuth2Request, grants
from authlib.oauth2.rfc6749.errors import OAuth2Error
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from kinto.core.testing.standin import WSGIStandIn, json_response
from webob import Request, Response

__all__ = ["OIDCStandIn", "StandInClient"]


@dataclass
class StandInClient(ClientMixin):
    """A registered client: its secret and redirect URIs (empty: any)."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...] = ()

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        return scope or ""

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
class _Code:
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


class _WebObRequest(OAuth2Request):
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
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        self.server.standin._codes[code] = _Code(
            code, request.client.client_id, request.payload.redirect_uri or "", request.scope or "", request.user
        )

    def query_authorization_code(self, code: str, client: Any) -> _Code | None:
        found = self.server.standin._codes.get(code)
        if found is None or found.client_id != client.client_id or time.time() >= found.expires_at:
            return None
        return found

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        self.server.standin._codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: _Code) -> str:
        return authorization_code.user


class _Server(AuthorizationServer):
    def __init__(self, standin: OIDCStandIn) -> None:
        super().__init__()
        self.standin = standin
        self.register_grant(_CodeGrant)
        self.register_token_generator("default", self._generate_token)

    def query_client(self, client_id: str) -> StandInClient | None:
        return self.standin.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        pass  # tokens are recorded when generated

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        return request if isinstance(request, OAuth2Request) else _WebObRequest(request)

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError

    def handle_response(self, status: int, body: Any, headers: Any) -> Response:
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
        access_token = self.standin.issue_token(str(user), lifetime)
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": scope or "",
            "id_token": "not-checked-by-kinto",
        }


class OIDCStandIn(WSGIStandIn):
    """An OpenID Connect provider on 127.0.0.1, for tests (see the module docstring)."""

    thread_name = "oidc-standin"

    def __init__(self, issue_jwt: bool = False, audience: str = "kinto", token_lifetime: int = 3600) -> None:
        super().__init__()
        self.issue_jwt = issue_jwt
        self.audience = audience
        self.token_lifetime = token_lifetime
        self.users: dict[str, dict[str, Any]] = {}
        self.signed_in_user: str | None = None
        self.clients: dict[str, StandInClient] = {}
        self.key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(4), "use": "sig", "alg": "RS256"})
        self._tokens: dict[str, tuple[str, float]] = {}
        self._codes: dict[str, _Code] = {}
        self._server = _Server(self)

    @property
    def issuer(self) -> str:
        return self.url

    # --- users, clients, tokens -----------------------------------------------------------------

    def register_client(self, client_id: str, client_secret: str, redirect_uris: tuple[str, ...] = ()) -> None:
        self.clients[client_id] = StandInClient(client_id, client_secret, redirect_uris)

    def add_user(self, sub: str, **claims: Any) -> None:
        """A user of the provider, ``sub`` and the other claims its userinfo answers; signed in from now on."""
        self.users[sub] = {"sub": sub, **claims}
        self.signed_in_user = sub

    def issue_token(self, sub: str, expires_in: float | None = None, **jwt_claims: Any) -> str:
        """An access token of ``sub``: opaque, or a JWT (``issue_jwt``) whose claims ``jwt_claims`` override."""
        lifetime = self.token_lifetime if expires_in is None else expires_in
        now = int(time.time())
        if self.issue_jwt:
            claims = {
                "iss": self.issuer,
                "sub": sub,
                "aud": self.audience,
                "iat": now,
                "exp": now + lifetime,
                "jti": secrets.token_hex(8),
                **jwt_claims,
            }
            token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key, algorithms=["RS256"])
        else:
            token = secrets.token_hex(24)
        self._tokens[token] = (sub, now + lifetime)
        return token

    def revoke(self, token: str) -> None:
        self._tokens.pop(token, None)

    # --- HTTP -----------------------------------------------------------------------------------

    def failure_response(self, status: int) -> Response:
        return json_response({"error": "failing on purpose"}, status=status)

    def route(self, request: Request) -> Response:
        routes = {
            ("GET", "/.well-known/openid-configuration"): self._discovery,
            ("GET", "/jwks"): lambda request: json_response(KeySet([self.key]).as_dict(private=False)),
            ("GET", "/userinfo"): self._userinfo,
            ("GET", "/authorize"): self._authorize,
            ("POST", "/token"): self._server.create_token_response,
        }
        handler = routes.get((request.method, request.path))
        if handler is None:
            return json_response({"error": "not_found"}, status=404)
        return handler(request)

    def _discovery(self, request: Request) -> Response:
        return json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "userinfo_endpoint": f"{self.url}/userinfo",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    def _userinfo(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        issued = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if issued is None or time.time() >= issued[1] or issued[0] not in self.users:
            return json_response({"error": "invalid_token"}, status=401)
        return json_response(self.users[issued[0]])

    def _authorize(self, request: Request) -> Response:
        try:
            grant = self._server.get_consent_grant(request, end_user=self.signed_in_user)
        except OAuth2Error as error:
            return self._server.handle_error_response(None, error)
        return self._server.create_authorization_response(request, grant_user=self.signed_in_user, grant=grant)
