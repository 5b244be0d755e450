"""``GET /v1/fxa-oauth/params``: what a client needs to start the OAuth flow by itself."""

from __future__ import annotations

from typing import Any

from kinto.core import Service
from pyramid.security import NO_PERMISSION_REQUIRED

from kinto_fxa.authentication import token_verifier

params = Service(name="fxa-oauth-params", path="/fxa-oauth/params", description="Firefox Accounts OAuth parameters")


@params.get(permission=NO_PERMISSION_REQUIRED)
def get_params(request: Any) -> dict[str, str]:
    config = token_verifier(request.registry).config
    return {
        "client_id": config.default_client.client_id,
        "oauth_uri": config.oauth_uri,
        "scope": config.requested_scope,
    }
