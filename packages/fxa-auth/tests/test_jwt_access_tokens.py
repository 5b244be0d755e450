"""The key set cache: when it asks the server again, and what it does when the server fails."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc.jwk import RSAKey

from kinto_fxa.jwt_access_tokens import KeySetCache, looks_like_jwt
from kinto_fxa.oauth import OAuthServerError

from .conftest import FakeClock


class FakeServer:
    def __init__(self) -> None:
        self.keys = [RSAKey.generate_key(2048, parameters={"kid": "one"})]
        self.calls = 0
        self.failing = False

    def jwks(self) -> dict[str, Any]:
        self.calls += 1
        if self.failing:
            raise OAuthServerError(message="down")
        return {"keys": [key.as_dict(private=False) for key in self.keys]}


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def keys(server: FakeServer, clock: FakeClock) -> KeySetCache:
    return KeySetCache(server.jwks, max_age=3600, refresh_interval=30, clock=clock)


def test_keys_are_fetched_once(keys: KeySetCache, server: FakeServer) -> None:
    assert keys.key_for("one") is not None
    assert keys.key_for("one") is not None
    assert server.calls == 1


def test_an_unknown_key_id_refetches_at_most_once_per_interval(
    keys: KeySetCache, server: FakeServer, clock: FakeClock
) -> None:
    keys.key_for("one")
    assert keys.key_for("forged") is None
    assert keys.key_for("forged-again") is None
    assert server.calls == 1
    clock.advance(31)
    server.keys.append(RSAKey.generate_key(2048, parameters={"kid": "two"}))
    assert keys.key_for("two") is not None
    assert server.calls == 2


def test_withdrawn_keys_stop_being_accepted_after_the_max_age(
    keys: KeySetCache, server: FakeServer, clock: FakeClock
) -> None:
    keys.key_for("one")
    server.keys = [RSAKey.generate_key(2048, parameters={"kid": "two"})]
    clock.advance(3600)
    assert keys.key_for("one") is None


def test_known_keys_are_kept_when_a_refresh_fails(keys: KeySetCache, server: FakeServer, clock: FakeClock) -> None:
    keys.key_for("one")
    server.failing = True
    clock.advance(3600)
    assert keys.key_for("one") is not None


def test_no_keys_at_all_is_the_servers_failure(keys: KeySetCache, server: FakeServer) -> None:
    server.failing = True
    with pytest.raises(OAuthServerError):
        keys.key_for("one")


def test_an_unreadable_key_set_is_the_servers_failure(clock: FakeClock) -> None:
    keys = KeySetCache(lambda: {"keys": [{"kty": "nonsense"}]}, clock=clock)
    with pytest.raises(OAuthServerError):
        keys.key_for("one")


@pytest.mark.parametrize(("token", "expected"), [("a.b.c", True), ("deadbeef" * 8, False), ("a.b", False)])
def test_jwts_are_told_from_opaque_tokens(token: str, expected: bool) -> None:
    assert looks_like_jwt(token) is expected
