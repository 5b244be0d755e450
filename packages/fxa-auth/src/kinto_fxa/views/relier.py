"""The OAuth dance for web apps.

``GET /v1/fxa-oauth/login?redirect=<url>`` stores a random ``state`` in the cache
(``fxa-oauth.state.ttl_seconds``) and sends the browser to the OAuth server's
authorization page. The server sends it back to ``GET /v1/fxa-oauth/token?code=..
&state=..``, which consumes the state (once), trades the code for a token with the
client secret, and redirects to the stored URL with the token appended
(``redirect=https://app.example.com/#`` gives ``https://app.example.com/#<token>``).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from kinto.core import Service
from kinto.core.errors import ERRORS, http_error, raise_invalid, request_GET
from pyramid import httpexceptions
from pyramid.security import NO_PERMISSION_REQUIRED

from kinto_fxa.authentication import token_verifier
from kinto_fxa.oauth import CodeRejected
from kinto_fxa.redirects import redirect_allowed
from kinto_fxa.settings import Client, FxAConfig

logger = logging.getLogger(__name__)

STATE_KEY_PREFIX = "fxa-oauth.state."

login = Service(name="fxa-oauth-login", path="/fxa-oauth/login", description="Start the Firefox Accounts login")
token = Service(name="fxa-oauth-token", path="/fxa-oauth/token", description="Finish the Firefox Accounts login")


def _required(request: Any, name: str) -> str:
    value = request_GET(request).get(name)
    if not value:
        raise_invalid(request, location="querystring", name=name, description="Required")
    return str(value)


def _client(request: Any, config: FxAConfig) -> Client:
    client_id = request_GET(request).get("client_id")
    if not client_id:
        return config.default_client
    client = config.client_by_id(client_id)
    if client is None:
        raise_invalid(request, location="querystring", name="client_id", description="Unknown client")
    return client


@login.get(permission=NO_PERMISSION_REQUIRED)
def get_login(request: Any) -> Any:
    verifier = token_verifier(request.registry)
    config = verifier.config
    redirect = _required(request, "redirect")
    if not redirect_allowed(redirect, config.authorized_domains):
        raise_invalid(request, location="querystring", name="redirect", description="redirect URL is not authorized")
    client = _client(request, config)
    if not client.client_id:
        raise_invalid(request, location="querystring", name="client_id", description="Unknown client")
    state = secrets.token_urlsafe(32)
    request.registry.cache.set(
        STATE_KEY_PREFIX + state, {"redirect": redirect, "client": client.name}, config.state_ttl_seconds
    )
    location = verifier.oauth.authorization_url(
        client_id=client.client_id,
        scope=config.requested_scope,
        state=state,
        redirect_uri=request.route_url(token.name),
    )
    raise httpexceptions.HTTPFound(location=location)


@token.get(permission=NO_PERMISSION_REQUIRED)
def get_token(request: Any) -> Any:
    verifier = token_verifier(request.registry)
    state = _required(request, "state")
    # Deleting returns what was stored: of two requests racing with one state, one only gets it.
    session = request.registry.cache.delete(STATE_KEY_PREFIX + state)
    if not isinstance(session, dict):
        raise http_error(
            httpexceptions.HTTPRequestTimeout(),
            errno=ERRORS.MISSING_AUTH_TOKEN,
            message="The OAuth session was not found, please re-authenticate.",
        )
    code = _required(request, "code")
    client = next((c for c in verifier.config.clients if c.name == session.get("client")), None)
    if client is None or not client.client_id:
        raise_invalid(request, location="querystring", name="state", description="Unknown client")
    try:
        answer = verifier.oauth.exchange_code(
            code,
            client.client_id,
            client.client_secret,
            redirect_uri=request.route_url(token.name),  # type: ignore[union-attr]
        )
    except CodeRejected as error:
        logger.info("Authorization code refused by the OAuth server: %s", error)
        raise_invalid(
            request, location="querystring", name="code", description="Firefox Account code validation failed."
        )
    raise httpexceptions.HTTPFound(location=f"{session['redirect']}{answer['access_token']}")
