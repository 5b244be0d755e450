"""The keys of the principal hashes stored in the index: never the user-id secret, never a constant."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from kinto.core.secrets import SEARCH_PRINCIPALS, derived_key
from pyramid.exceptions import ConfigurationError

from kinto_elasticsearch.permissions import PrincipalHasher

PRINCIPAL = "basicauth:0123abcd"


def _hash(key: bytes, principal: str) -> str:
    return hmac.new(key, principal.encode(), hashlib.sha256).hexdigest()[:32]


def test_without_a_dedicated_secret_the_key_is_derived_for_search_alone() -> None:
    settings = {"userid_hmac_secret": "s3cret"}
    hashed = PrincipalHasher.from_settings(settings)([PRINCIPAL])
    assert hashed == [_hash(derived_key(settings, SEARCH_PRINCIPALS), PRINCIPAL)]
    # GET /v1/ answers HMAC(userid_hmac_secret, text) for any text: that must not be a principal's hash.
    assert hashed != [_hash(b"s3cret", PRINCIPAL)]


def test_a_dedicated_principals_secret_is_used_as_given() -> None:
    settings = {"userid_hmac_secret": "s3cret", "kinto_elasticsearch.principals_secret": "search-only"}
    assert PrincipalHasher.from_settings(settings)([PRINCIPAL]) == [_hash(b"search-only", PRINCIPAL)]


@pytest.mark.parametrize("settings", [{}, {"userid_hmac_secret": ""}, {"kinto_elasticsearch.principals_secret": ""}])
def test_no_hasher_without_a_secret(settings: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match=r"kinto\.userid_hmac_secret"):
        PrincipalHasher.from_settings(settings)


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError):
        PrincipalHasher(b"")
