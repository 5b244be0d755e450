"""The login flow: ``GET /openid/<name>/login`` and ``GET /openid/<name>/token`` (Kinto's routes and answers).

``login?callback=<url>&scope=<scopes>[&prompt=none]`` checks the scopes against
``allowed_scopes`` and the callback against ``trusted_callback_urls``, keeps the
callback in the cache under a random ``state`` (``state_ttl_seconds``), and
answers ``307`` to the provider's authorization endpoint.

``token?state=..&code=..`` consumes the state (once: of two requests racing
with one state, one only gets it), trades the code at the provider's token
endpoint, and answers ``307`` to ``<callback><base64 of the provider's JSON
answer>``. ``token?state=..&error=..[&error_description=..]`` (the user refused,
or the provider failed the authorization) sends the browser on to
``<callback>error=..&error_description=..``, as Kinto does.

Refusals are ``400`` in Kinto's error format (errno 107; 105 for an unknown or
used state); a provider that fails is ``503``.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from kinto.core.errors import ERRORS, raise_invalid, request_GET
from kinto.core.service import Service
from kinto.core.utils import random_bytes_hex
from pyramid import httpexceptions
from pyramid.interfaces import ISecurityPolicy
from pyramid.security import NO_PERMISSION_REQUIRED

from kinto.plugins.openid.callbacks import DEFAULT_TRUSTED_CALLBACK_URLS, is_trusted_callback
from kinto.plugins.openid.provider import CodeRejected

__all__ = ["login", "token"]

logger = logging.getLogger(__name__)

STATE_KEY_PREFIX = "openid:state:"

login = Service(name="openid_login", path="/openid/{provider}/login", description="Initiate the OAuth2 login")
token = Service(name="openid_token", path="/openid/{provider}/token", description="Finish the OAuth2 login")


def _policy(request: Any) -> Any:
    """The OpenID policy named in the path, or a 400 as Kinto answers an unknown provider."""
    from kinto.plugins.openid import OpenIDConnectPolicy

    name = request.matchdict["provider"]
    security = request.registry.queryUtility(ISecurityPolicy)
    for policy_name, policy in getattr(security, "policies", []):
        if policy_name == name and isinstance(policy, OpenIDConnectPolicy):
            return policy
    raise_invalid(request, location="path", name="provider", description=f"Unknown provider {name!r}")


def _parameter(request: Any, name: str, required: bool = True) -> str | None:
    values = request_GET(request).getall(name)
    if len(values) > 1:
        raise_invalid(request, location="querystring", name=name, description="Given more than once")
    if not values or values[0] == "":
        if required:
            raise_invalid(request, location="querystring", name=name, description="Required")
        return None
    return values[0]


def _trusted_callbacks(request: Any, policy: Any) -> list[str]:
    if policy.trusted_callback_urls:
        return list(policy.trusted_callback_urls)
    trusted = list(DEFAULT_TRUSTED_CALLBACK_URLS)
    try:
        trusted.append(request.route_url("admin_home") + "*")
    except KeyError:  # the admin UI is not served
        pass
    return trusted


@login.get(permission=NO_PERMISSION_REQUIRED)
def get_login(request: Any) -> Any:
    policy = _policy(request)
    callback = _parameter(request, "callback")
    scope = _parameter(request, "scope")
    prompt = _parameter(request, "prompt", required=False)
    if prompt is not None and prompt != "none":
        raise_invalid(request, location="querystring", name="prompt", description="Only 'none' is accepted")
    parts = urlsplit(callback)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise_invalid(request, location="querystring", name="callback", description="Must be an http(s) URL")
    scopes = scope.split()
    refused = sorted(set(scopes) - policy.allowed_scopes)
    if refused:
        raise_invalid(
            request, location="querystring", name="scope", description=f"Scopes not allowed: {', '.join(refused)}"
        )
    if not is_trusted_callback(callback, _trusted_callbacks(request, policy)):
        raise_invalid(request, location="querystring", name="callback", description="Untrusted callback URL")
    if policy.userid_field == "email" and "email" not in scopes:
        raise_invalid(
            request,
            location="querystring",
            name="scope",
            description=f"Provider {request.matchdict['provider']} requires 'email' scope",
        )

    state = random_bytes_hex(policy.state_length)
    request.registry.cache.set(STATE_KEY_PREFIX + state, callback, ttl=policy.state_ttl)
    query = {
        "client_id": policy.client_id,
        "response_type": "code",
        "scope": scope,
        "redirect_uri": request.route_url(token.name, provider=request.matchdict["provider"]),
        "state": state,
    }
    if prompt:
        query["prompt"] = prompt
    if policy.audience:
        query["audience"] = policy.audience
    raise httpexceptions.HTTPTemporaryRedirect(f"{policy.provider.authorization_endpoint}?{urlencode(query)}")


@token.get(permission=NO_PERMISSION_REQUIRED)
def get_token(request: Any) -> Any:
    policy = _policy(request)
    state = _parameter(request, "state")
    code = _parameter(request, "code", required=False)
    error = _parameter(request, "error", required=False)
    if (code is None) == (error is None):
        raise_invalid(
            request,
            location="querystring",
            name="code",
            description="Provide either 'state' and 'code', or 'error' and 'error_description', but not both.",
        )
    # Deleting answers what was stored: a state is used once.
    callback = request.registry.cache.delete(STATE_KEY_PREFIX + state)
    if not isinstance(callback, str):
        raise_invalid(
            request, location="querystring", name="state", description="Invalid state", errno=ERRORS.INVALID_AUTH_TOKEN
        )
    if error is not None:
        answer = {"error": error}
        description = _parameter(request, "error_description", required=False)
        if description:
            answer["error_description"] = description
        raise httpexceptions.HTTPTemporaryRedirect(callback + urlencode(answer))

    try:
        tokens = policy.provider.exchange_code(
            code,
            policy.client_id,
            policy.client_secret,
            redirect_uri=request.route_url(token.name, provider=request.matchdict["provider"]),
        )
    except CodeRejected as refused:
        logger.info("Authorization code refused by the provider: %s", refused)
        raise_invalid(request, location="querystring", name="code", description="Code refused by the provider")
    encoded = base64.b64encode(json.dumps(tokens, separators=(",", ":")).encode()).decode()
    raise httpexceptions.HTTPTemporaryRedirect(callback + quote(encoded))
