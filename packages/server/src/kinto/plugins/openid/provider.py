"""The HTTP client of one OpenID Connect provider: discovery, userinfo, keys, code exchange.

Only the configured issuer's endpoints are ever fetched: the discovery
document at ``<issuer>/.well-known/openid-configuration`` (read once per
issuer and process), then the ``userinfo_endpoint``, ``jwks_uri`` and
``token_endpoint`` it names. Nothing a client sends chooses a URL.

Every call has a timeout. Answers fall in three groups: a token judged (the
user's claims, or ``None`` when the provider refuses the token), or the provider
failing (unreachable, timing out, answering 5xx or garbage), which raises
:class:`ProviderError`, a ``BackendError`` the core answers as 503 with
``Retry-After`` (Kinto answers 500 there).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from kinto.core.storage.exceptions import BackendError

__all__ = ["CodeRejected", "Provider", "ProviderError", "discover"]

logger = logging.getLogger(__name__)

#: Statuses with which a userinfo endpoint says "this token is not valid".
_TOKEN_REFUSED = frozenset({400, 401, 403})

_discovered: dict[str, dict[str, Any]] = {}
_discovery_lock = threading.Lock()


class ProviderError(BackendError):
    """The provider could not be reached, timed out, or answered something unusable."""


class CodeRejected(Exception):
    """The provider refused to trade an authorization code (expired, used, or not ours)."""


def discover(issuer: str, timeout: float = 10.0) -> dict[str, Any]:
    """The issuer's discovery document (fetched once per process), checked to name this issuer.

    Raises :class:`ProviderError` when it cannot be had.
    """
    known = _discovered.get(issuer)
    if known is not None:
        return known
    with _discovery_lock:
        if issuer in _discovered:
            return _discovered[issuer]
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            response = requests.get(url, timeout=timeout)
        except requests.RequestException as error:
            raise ProviderError(error, f"{url} cannot be reached: {error}") from error
        document = _json_object(response)
        if str(document.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
            raise ProviderError(message=f"{url} names another issuer: {document.get('issuer')!r}")
        missing = [
            key
            for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint")
            if not isinstance(document.get(key), str)
        ]
        if missing:
            raise ProviderError(message=f"{url} does not name its {', '.join(missing)}")
        _discovered[issuer] = document
        return document


class Provider:
    """One provider's endpoints, from its discovery document, over a pooled ``requests`` session."""

    def __init__(self, issuer: str, timeout: float = 10.0) -> None:
        self.issuer = issuer
        self.timeout = timeout
        self.configuration = discover(issuer, timeout)
        self.session = requests.Session()
        self._jwks: dict[str, Any] | None = None

    @property
    def authorization_endpoint(self) -> str:
        return self.configuration["authorization_endpoint"]

    @property
    def userinfo_endpoint(self) -> str:
        return self.configuration["userinfo_endpoint"]

    def userinfo(self, access_token: str) -> dict[str, Any] | None:
        """The user's claims for ``access_token``, or ``None`` when the provider refuses the token."""
        response = self._request("GET", self.userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"})
        if response.status_code in _TOKEN_REFUSED:
            return None
        return _json_object(response)

    def jwks(self, refresh: bool = False) -> dict[str, Any]:
        """The provider's public keys (``jwks_uri``), kept until ``refresh``."""
        if self._jwks is None or refresh:
            uri = self.configuration.get("jwks_uri")
            if not isinstance(uri, str):
                raise ProviderError(message=f"{self.issuer} names no jwks_uri")
            keys = _json_object(self._request("GET", uri))
            if not isinstance(keys.get("keys"), list):
                raise ProviderError(message=f"{uri} answered no key set")
            self._jwks = keys
        return self._jwks

    def exchange_code(self, code: str, client_id: str, client_secret: str, redirect_uri: str) -> dict[str, Any]:
        """Trade an authorization code for tokens at the ``token_endpoint`` (client secret in the body)."""
        oauth = OAuth2Session(
            client_id=client_id, client_secret=client_secret, token_endpoint_auth_method="client_secret_post"
        )
        oauth.register_compliance_hook("access_token_response", _raise_on_server_failure)
        try:
            token = oauth.fetch_token(
                self.configuration["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                redirect_uri=redirect_uri,
                timeout=self.timeout,
            )
        except OAuthError as error:
            raise CodeRejected(f"{error.error}: {error.description}") from error
        except requests.RequestException as error:
            raise ProviderError(error, f"The token endpoint cannot be reached: {error}") from error
        except ValueError as error:  # a body that is not JSON
            raise ProviderError(error, "The token endpoint answered something that is not JSON") from error
        finally:
            oauth.close()
        return dict(token)

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise ProviderError(error, f"{method} {url} failed: {error}") from error
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderError(message=f"{method} {url} answered {response.status_code}")
        return response


def _json_object(response: requests.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise ProviderError(message=f"{response.url} answered {response.status_code} unexpectedly")
    try:
        body = response.json()
    except ValueError as error:
        raise ProviderError(error, f"{response.url} answered something that is not JSON") from error
    if not isinstance(body, dict):
        raise ProviderError(message=f"{response.url} answered JSON that is not an object")
    return body


def _raise_on_server_failure(response: requests.Response) -> requests.Response:
    status = response.status_code
    if status >= 500 or status == 429:
        raise ProviderError(message=f"The token endpoint answered {status}")
    if status >= 400:
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        raise CodeRejected(f"{status}: {body.get('error') or 'code refused'}")
    return response
