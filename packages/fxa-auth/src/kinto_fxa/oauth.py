"""The HTTP client of the OAuth server: token verification, introspection, JWKS, code exchange, health.

Every call has a timeout. The server's answers fall in three groups: a token
judged (``dict`` of claims, or ``None`` when the server says it is not valid),
or the server failing (unreachable, timing out, answering 5xx or garbage),
which raises ``OAuthServerError``, a ``BackendError`` the core answers as 503
with ``Retry-After``.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from kinto.core.storage.exceptions import BackendError

__all__ = ["CodeRejected", "OAuthClient", "OAuthServerError", "split_oauth_uri"]

logger = logging.getLogger(__name__)

#: Statuses with which an OAuth server says "this token is not valid" (FxA answers 400, errno 108).
_TOKEN_REJECTED = frozenset({400, 401, 403, 404})


class OAuthServerError(BackendError):
    """The OAuth server could not be reached, timed out, or answered something unusable."""


class CodeRejected(Exception):
    """The OAuth server refused to trade an authorization code (expired, used, or not ours)."""


def split_oauth_uri(oauth_uri: str) -> tuple[str, str]:
    """``(base, api)`` for ``oauth_uri`` given with or without its trailing ``/v1``.

    ``base`` is where the server's ``/__heartbeat__`` lives, ``api`` the ``/v1`` root.
    """
    base = oauth_uri.rstrip("/")
    base = base.removesuffix("/v1")
    return base, f"{base}/v1"


class OAuthClient:
    """Talks to one OAuth server (``oauth_uri``) over a pooled ``requests`` session."""

    def __init__(self, oauth_uri: str, timeout: float = 5.0, session: requests.Session | None = None) -> None:
        self.base_url, self.api_url = split_oauth_uri(oauth_uri)
        self.timeout = timeout
        self.session = session or requests.Session()

    # --- token verification ---------------------------------------------------------------------

    def verify(self, token: str) -> dict[str, Any] | None:
        """FxA's ``POST /v1/verify``: ``{"user", "client_id", "scope": [...]}`` or ``None`` if invalid."""
        response = self._post(f"{self.api_url}/verify", json={"token": token})
        if response.status_code in _TOKEN_REJECTED:
            return None
        claims = self._json_object(response)
        if not isinstance(claims.get("user"), str) or not claims["user"]:
            raise OAuthServerError(message=f"{response.url} answered without a user: {claims!r}")
        return claims

    def introspect(self, token: str, client_id: str = "", client_secret: str = "") -> dict[str, Any] | None:
        """RFC 7662 ``POST /v1/introspect``: the active token's claims, or ``None`` if inactive."""
        auth = (client_id, client_secret) if client_id and client_secret else None
        response = self._post(
            f"{self.api_url}/introspect", data={"token": token, "token_type_hint": "access_token"}, auth=auth
        )
        if response.status_code in _TOKEN_REJECTED:
            return None
        claims = self._json_object(response)
        if claims.get("active") is not True:
            return None
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise OAuthServerError(message=f"{response.url} answered an active token without a subject")
        return claims

    def jwks(self) -> dict[str, Any]:
        """The server's public keys, ``GET /v1/jwks``."""
        response = self._request("GET", f"{self.api_url}/jwks")
        keys = self._json_object(response)
        if not isinstance(keys.get("keys"), list):
            raise OAuthServerError(message=f"{response.url} answered no key set")
        return keys

    # --- login flow -------------------------------------------------------------------------------

    def authorization_url(self, client_id: str, scope: str, state: str, redirect_uri: str) -> str:
        query = {
            "action": "signin",
            "response_type": "code",
            "client_id": client_id,
            "scope": scope,
            "state": state,
            "redirect_uri": redirect_uri,
        }
        return f"{self.api_url}/authorization?{urlencode(query)}"

    def exchange_code(self, code: str, client_id: str, client_secret: str, redirect_uri: str) -> dict[str, Any]:
        """Trade an authorization code for a token (``POST /v1/token``, client secret in the body)."""
        oauth = OAuth2Session(
            client_id=client_id,
            client_secret=client_secret,
            token_endpoint_auth_method="client_secret_post",
        )
        oauth.register_compliance_hook("access_token_response", _raise_on_server_failure)
        try:
            token = oauth.fetch_token(
                f"{self.api_url}/token",
                grant_type="authorization_code",
                code=code,
                redirect_uri=redirect_uri,
                timeout=self.timeout,
            )
        except OAuthError as error:
            raise CodeRejected(f"{error.error}: {error.description}") from error
        except requests.RequestException as error:
            raise OAuthServerError(error) from error
        except ValueError as error:  # a body that is not JSON
            raise OAuthServerError(error, "The token endpoint answered something that is not JSON") from error
        finally:
            oauth.close()
        if not token.get("access_token"):
            raise OAuthServerError(message="The token endpoint answered without an access token")
        return dict(token)

    # --- health -----------------------------------------------------------------------------------

    def heartbeat(self, timeout: float) -> bool:
        """Whether ``<base>/__heartbeat__`` answers 200 within ``timeout`` seconds."""
        try:
            response = self.session.get(f"{self.base_url}/__heartbeat__", timeout=timeout)
        except requests.RequestException:
            logger.warning("OAuth server heartbeat failed", exc_info=True)
            return False
        return response.status_code == 200

    # --- plumbing ---------------------------------------------------------------------------------

    def _post(self, url: str, **kwargs: Any) -> requests.Response:
        return self._request("POST", url, **kwargs)

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise OAuthServerError(error) from error
        if response.status_code >= 500 or response.status_code == 429:
            raise OAuthServerError(message=f"{method} {url} answered {response.status_code}")
        return response

    @staticmethod
    def _json_object(response: requests.Response) -> dict[str, Any]:
        if response.status_code != 200:
            raise OAuthServerError(message=f"{response.url} answered {response.status_code} unexpectedly")
        try:
            body = response.json()
        except ValueError as error:
            raise OAuthServerError(error, f"{response.url} answered something that is not JSON") from error
        if not isinstance(body, dict):
            raise OAuthServerError(message=f"{response.url} answered JSON that is not an object")
        return body


def _raise_on_server_failure(response: requests.Response) -> requests.Response:
    status = response.status_code
    if status >= 500 or status == 429:
        raise OAuthServerError(message=f"The token endpoint answered {status}")
    if status >= 400:
        # RFC 6749 servers answer {"error": ...}; FxA answers {"code", "errno", "message"}.
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        raise CodeRejected(f"{status}: {body.get('error') or body.get('message') or 'code refused'}")
    return response
