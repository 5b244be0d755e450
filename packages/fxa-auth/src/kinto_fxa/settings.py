"""The plugin's settings: defaults, and the configuration read from them once.

Defaults go through ``kinto.core.load_default_settings``, so every key may be
overridden from the environment (``fxa-oauth.oauth_uri`` by
``KINTO_FXA_OAUTH_OAUTH_URI``) and is coerced to its default's type.
Clients other than the default one are declared as
``fxa-oauth.clients.<name>.client_id``, ``.required_scope`` and (for the login
flow) ``.client_secret``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kinto.core.settings import apply_defaults, as_list
from pyramid.exceptions import ConfigurationError

from kinto_fxa.scopes import Scope, parse_scopes

__all__ = ["DEFAULT_CLIENT", "DEFAULT_SETTINGS", "OPAQUE_VERIFICATIONS", "Client", "FxAConfig"]

DEFAULT_CLIENT = "default"
OPAQUE_VERIFICATIONS = ("verify", "introspect")
_CLIENTS_PREFIX = "fxa-oauth.clients."
_CLIENT_FIELDS = ("client_id", "client_secret", "required_scope")

#: The plugin's settings and their defaults (the default's type is the setting's type).
DEFAULT_SETTINGS: dict[str, Any] = {
    "fxa-oauth.oauth_uri": "https://oauth.accounts.firefox.com/v1",
    "fxa-oauth.client_id": "",
    "fxa-oauth.client_secret": "",
    "fxa-oauth.required_scope": "profile",
    "fxa-oauth.requested_scope": "profile",
    "fxa-oauth.cache_ttl_seconds": 300.0,
    "fxa-oauth.heartbeat_timeout_seconds": 3.0,
    "fxa-oauth.requests_timeout_seconds": 5.0,
    "fxa-oauth.jwt_issuer": "https://accounts.firefox.com",
    "fxa-oauth.opaque_token_verification": "verify",
    "fxa-oauth.webapp.authorized_domains": [],
    "fxa-oauth.relier.enabled": True,
    "fxa-oauth.state.ttl_seconds": 3600.0,
}

#: What each setting of ``DEFAULT_SETTINGS`` does (the documentation's settings table).
SETTING_DESCRIPTIONS: dict[str, str] = {
    "fxa-oauth.oauth_uri": "the Firefox Accounts OAuth server",
    "fxa-oauth.client_id": "this relier's client id (login flow, introspection, client check)",
    "fxa-oauth.client_secret": "this relier's client secret (login flow, introspection)",
    "fxa-oauth.required_scope": "scopes a token must carry, all of them (space-separated)",
    "fxa-oauth.requested_scope": "scopes the login flow asks for",
    "fxa-oauth.cache_ttl_seconds": "how long a verified token is trusted without asking the OAuth server again",
    "fxa-oauth.heartbeat_timeout_seconds": "timeout of the `oauth` heartbeat",
    "fxa-oauth.requests_timeout_seconds": "timeout of each call to the OAuth server",
    "fxa-oauth.jwt_issuer": "the `iss` JWT access tokens must carry (empty: not checked)",
    "fxa-oauth.opaque_token_verification": "how opaque tokens are checked: `verify` (FxA's `/v1/verify`) or `introspect` (RFC 7662)",
    "fxa-oauth.webapp.authorized_domains": "host patterns the login flow may redirect to (`*.example.com`)",
    "fxa-oauth.relier.enabled": "serve the login flow (`/v1/fxa-oauth/login`, `/token`) when a client id is set",
    "fxa-oauth.state.ttl_seconds": "how long a login may take",
}


@dataclass(frozen=True)
class Client:
    """An OAuth client (relier) whose tokens this server accepts.

    A token belongs to a client when it carries every scope of
    ``required_scopes`` and, if ``client_id`` is set, was issued to it.
    """

    name: str
    client_id: str
    client_secret: str
    required_scopes: tuple[str, ...]

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_CLIENT


@dataclass(frozen=True)
class FxAConfig:
    """Everything the policy, the verifier and the views need, read once from the settings."""

    oauth_uri: str
    requested_scope: str
    cache_ttl_seconds: float
    heartbeat_timeout_seconds: float
    requests_timeout_seconds: float
    jwt_issuer: str
    opaque_token_verification: str
    authorized_domains: tuple[str, ...]
    relier_enabled: bool
    state_ttl_seconds: float
    clients: tuple[Client, ...]
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        # Every verification result depends on the accepted clients and issuer; hashing
        # them into the cache key means two applications sharing a cache backend (or one
        # reconfigured) never read each other's decisions.
        described = "\n".join(
            f"{client.name}|{client.client_id}|{' '.join(client.required_scopes)}" for client in self.clients
        )
        digest = hashlib.sha256(f"{self.jwt_issuer}\n{described}".encode()).hexdigest()[:16]
        object.__setattr__(self, "fingerprint", digest)

    @property
    def default_client(self) -> Client:
        return self.clients[0]

    def client_by_id(self, client_id: str) -> Client | None:
        for client in self.clients:
            if client.client_id == client_id:
                return client
        return None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> FxAConfig:
        """Read the configuration; ``ConfigurationError`` naming the setting when one is wrong.

        ``settings`` need not have this package's defaults applied (``token_verifier`` without
        ``includeme``): they are applied to a copy, with the settings rule.
        """
        values = dict(settings)
        apply_defaults(values, DEFAULT_SETTINGS)

        def get(name: str) -> Any:
            return values[f"fxa-oauth.{name}"]

        verification = str(get("opaque_token_verification")).strip().lower()
        if verification not in OPAQUE_VERIFICATIONS:
            raise ConfigurationError(
                f"Invalid value for setting 'fxa-oauth.opaque_token_verification': {verification!r} "
                f"(one of {', '.join(OPAQUE_VERIFICATIONS)})"
            )
        oauth_uri = str(get("oauth_uri") or "").strip()
        if not oauth_uri.startswith(("http://", "https://")):
            raise ConfigurationError(f"Invalid value for setting 'fxa-oauth.oauth_uri': {oauth_uri!r} (an http(s) URL)")
        return cls(
            oauth_uri=oauth_uri,
            requested_scope=" ".join(parse_scopes(get("requested_scope"))),
            cache_ttl_seconds=get("cache_ttl_seconds"),
            heartbeat_timeout_seconds=get("heartbeat_timeout_seconds"),
            requests_timeout_seconds=get("requests_timeout_seconds"),
            jwt_issuer=str(get("jwt_issuer") or ""),
            opaque_token_verification=verification,
            authorized_domains=tuple(pattern.lower() for pattern in as_list(get("webapp.authorized_domains"))),
            relier_enabled=get("relier.enabled"),
            state_ttl_seconds=get("state.ttl_seconds"),
            clients=_parse_clients(settings, get),
        )


def _parse_clients(settings: Mapping[str, Any], get: Any) -> tuple[Client, ...]:
    default = Client(
        name=DEFAULT_CLIENT,
        client_id=str(get("client_id") or ""),
        client_secret=str(get("client_secret") or ""),
        required_scopes=parse_scopes(get("required_scope")),
    )
    named: dict[str, dict[str, str]] = {}
    for key, value in settings.items():
        if not key.startswith(_CLIENTS_PREFIX):
            continue
        name, _, attribute = key[len(_CLIENTS_PREFIX) :].rpartition(".")
        if not name or attribute not in _CLIENT_FIELDS:
            raise ConfigurationError(
                f"Unknown setting {key!r}: clients are configured with "
                f"fxa-oauth.clients.<name>.{{{','.join(_CLIENT_FIELDS)}}}"
            )
        named.setdefault(name, {})[attribute] = str(value or "")
    clients = [default]
    for name in sorted(named):
        if name == DEFAULT_CLIENT:
            raise ConfigurationError(f"The client name {DEFAULT_CLIENT!r} is reserved for fxa-oauth.client_id")
        options = named[name]
        scopes = parse_scopes(options.get("required_scope", ""))
        if not scopes:
            raise ConfigurationError(f"Setting 'fxa-oauth.clients.{name}.required_scope' is missing")
        clients.append(Client(name, options.get("client_id", ""), options.get("client_secret", ""), scopes))
    _refuse_ambiguous_clients(clients)
    for client in clients:
        _refuse_client_open_to_any_application(client)
    return tuple(clients)


def _refuse_client_open_to_any_application(client: Client) -> None:
    """A client must be told apart from every other Firefox Accounts application.

    Its client id does it; so does a URL scope (``https://identity.mozilla.com/apps/...``),
    which Firefox Accounts grants only to the applications allowed it. Short scopes
    (``profile``, ``openid``...) are granted to any application: with those alone, a
    token some other site obtained for its own users would be accepted here.
    """
    if client.client_id or any(Scope.parse(scope).kind == "url" for scope in client.required_scopes):
        return
    prefix = "fxa-oauth." if client.is_default else f"fxa-oauth.clients.{client.name}."
    scopes = " ".join(client.required_scopes) or "nothing"
    raise ConfigurationError(
        f"Setting '{prefix}client_id' is empty and '{prefix}required_scope' ({scopes}) is granted to every "
        "Firefox Accounts application, so tokens issued to any of them would be accepted: set "
        f"'{prefix}client_id' to this application's OAuth client id, or require a scope of this "
        "application only (https://identity.mozilla.com/apps/...)"
    )


def _refuse_ambiguous_clients(clients: list[Client]) -> None:
    named = clients[1:]
    for index, client in enumerate(named):
        for other in named[index + 1 :]:
            same_scopes = set(client.required_scopes) == set(other.required_scopes)
            told_apart_by_id = bool(client.client_id and other.client_id and client.client_id != other.client_id)
            if same_scopes and not told_apart_by_id:
                raise ConfigurationError(
                    f"Clients {client.name!r} and {other.name!r} require the same scopes and cannot be told apart: "
                    "give them different required scopes or different client ids"
                )
