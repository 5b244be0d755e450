"""kinto_fxa: Firefox Accounts OAuth2 authentication for kinto.core applications.

::

    kinto.includes = kinto_fxa
    multiauth.policies = fxa
    multiauth.policy.fxa.use = kinto_fxa.authentication.FxAOAuthAuthenticationPolicy

``includeme`` applies the settings' defaults (``kinto_fxa.settings``), registers
the token verifier, the ``oauth`` heartbeat, the ``fxa`` capability and the
login-flow endpoints under ``/v1/fxa-oauth/``. The policy lives in
``kinto_fxa.authentication``; a test OAuth server in ``kinto_fxa.testing``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

import kinto.core
from pyramid.exceptions import ConfigurationError

from kinto_fxa.authentication import ITokenVerifier
from kinto_fxa.settings import DEFAULT_SETTINGS, FxAConfig
from kinto_fxa.verification import TokenVerifier

__all__ = ["DEFAULT_SETTINGS", "__version__", "includeme"]

try:
    __version__ = version("kinto-fxa")
except PackageNotFoundError:  # pragma: no cover - running from a source tree that was never installed
    __version__ = "0.0.0"


def includeme(config: Any) -> None:
    if not hasattr(config, "add_heartbeat"):
        raise ConfigurationError(
            "kinto_fxa needs a kinto.core application: list it in kinto.includes, "
            "or include it after kinto.core.initialize()"
        )
    kinto.core.load_default_settings(config, DEFAULT_SETTINGS)
    fxa_config = FxAConfig.from_settings(config.get_settings())
    verifier = TokenVerifier(fxa_config)
    config.registry.registerUtility(verifier, ITokenVerifier)

    def oauth_heartbeat(request: Any) -> bool:
        return verifier.oauth.heartbeat(timeout=fxa_config.heartbeat_timeout_seconds)

    config.add_heartbeat("oauth", oauth_heartbeat)
    # The login flow's authorization code and state travel in /fxa-oauth/token's query.
    config.add_redacted_query_parameters("code", "state")
    config.add_api_capability(
        "fxa",
        description="You can authenticate to that server using Firefox Account.",
        url="https://github.com/Kinto/kinto-fxa",
        version=__version__,
    )
    relier = fxa_config.relier_enabled and any(client.client_id for client in fxa_config.clients)
    config.scan("kinto_fxa.views", ignore=None if relier else ["kinto_fxa.views.relier"])
