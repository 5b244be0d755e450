"""What a Firefox Accounts bearer token costs per request.

    python packages/fxa-auth/bench/verification.py [--iterations 20000]

Measures, against the OAuth stand-in on 127.0.0.1 and the core's memory cache:

* the policy's ``unauthenticated_userid`` for a token already in the verification cache
  (a fresh request each time, so nothing comes from ``bound_data``): the per-request cost
  of a cached verification;
* the same call when the cache is bypassed: a JWT verified locally (RS256), and an opaque
  token verified by the server over HTTP;
* whole requests through WebTest: a protected view with a cached bearer token, against the
  same view with Basic Auth.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from kinto.core.testing import basic_auth_header, make_app
from pyramid.request import Request

from kinto_fxa.authentication import FxAOAuthAuthenticationPolicy, token_verifier
from kinto_fxa.testing import OAuthStandIn

CLIENT_ID = "bench-client"


class Protected:
    """Grants ``read`` to any authenticated user, as a resource would."""

    def __init__(self, request: Any) -> None:
        self.request = request

    def check_permission(self, principals: list[str], permission: str) -> bool:
        return "system.Authenticated" in principals


def include_protected_view(config: Any) -> None:
    config.add_route("protected", "/protected", factory=Protected)
    config.add_view(
        lambda request: {"userid": request.prefixed_userid}, route_name="protected", renderer="json", permission="read"
    )


def per_call_us(function: Callable[[], Any], iterations: int, repeats: int = 5) -> float:
    """Median over ``repeats`` runs of the mean time of one call, in microseconds."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(iterations):
            function()
        runs.append((time.perf_counter() - start) / iterations * 1e6)
    return statistics.median(runs)


def build_app(server: OAuthStandIn) -> Any:
    settings = {
        "includes": "kinto_fxa",
        "multiauth.policies": "fxa basicauth",
        "multiauth.policy.fxa.use": "kinto_fxa.authentication.FxAOAuthAuthenticationPolicy",
        "userid_hmac_secret": "bench",
        "fxa-oauth.oauth_uri": f"{server.url}/v1",
        "fxa-oauth.jwt_issuer": server.issuer,
        "fxa-oauth.client_id": CLIENT_ID,
        "fxa-oauth.required_scope": "kinto",
    }
    return make_app(settings, [include_protected_view])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=20000)
    iterations = parser.parse_args().iterations
    with OAuthStandIn() as server:
        app = build_app(server)
        registry = app.app.registry
        policy = FxAOAuthAuthenticationPolicy()
        jwt_token = server.issue_jwt_token("alice", "kinto", CLIENT_ID)
        opaque_token = server.issue_opaque_token("bob", "kinto", CLIENT_ID)

        def request_with(token: str) -> Any:
            request = Request.blank("/v1/protected", headers={"Authorization": f"Bearer {token}"})
            request.registry = registry
            request.bound_data = {}
            return request

        def verify(token: str) -> Callable[[], Any]:
            def call() -> Any:
                return policy.unauthenticated_userid(request_with(token))

            return call

        def building_the_request_alone() -> Any:
            return request_with(jwt_token)

        verify(jwt_token)()  # fills the cache
        baseline = per_call_us(building_the_request_alone, iterations)
        cached = per_call_us(verify(jwt_token), iterations) - baseline

        def jwt_uncached() -> Any:
            registry.cache.delete(token_verifier(registry).cache_key(jwt_token))
            return policy.unauthenticated_userid(request_with(jwt_token))

        def opaque_uncached() -> Any:
            registry.cache.delete(token_verifier(registry).cache_key(opaque_token))
            return policy.unauthenticated_userid(request_with(opaque_token))

        local = per_call_us(jwt_uncached, max(iterations // 20, 100)) - baseline
        remote = per_call_us(opaque_uncached, max(iterations // 100, 50), repeats=3) - baseline

        bearer_headers = {"Authorization": f"Bearer {jwt_token}"}
        basic_headers = basic_auth_header()
        http_iterations = max(iterations // 10, 200)
        bearer_request = per_call_us(lambda: app.get("/v1/protected", headers=bearer_headers), http_iterations)
        basic_request = per_call_us(lambda: app.get("/v1/protected", headers=basic_headers), http_iterations)

    print(f"cached verification (policy call)      {cached:8.1f} µs")
    print(f"JWT verified locally, cache miss       {local:8.1f} µs")
    print(f"opaque token verified over HTTP        {remote:8.1f} µs")
    print(f"GET /v1/protected, cached Bearer token {bearer_request:8.1f} µs")
    print(f"GET /v1/protected, Basic Auth          {basic_request:8.1f} µs")
    print(f"difference Bearer (cached) - Basic     {bearer_request - basic_request:8.1f} µs")


if __name__ == "__main__":
    main()
