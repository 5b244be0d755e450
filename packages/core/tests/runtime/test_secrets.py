"""kinto.core.secrets: per-purpose keys derived from the configured secret."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError

import kinto.core
from kinto.core.authentication import hmac_digest
from kinto.core.secrets import PAGINATION_TOKENS, SEARCH_PRINCIPALS, check_secret, derived_key, hkdf_sha256
from kinto.core.testing import TEST_SECRET, basic_auth_header, make_app

BASIC_AUTH = {"multiauth.policies": "basicauth"}


@pytest.mark.parametrize(
    ("key_material", "salt", "info", "length", "expected"),
    [
        (  # RFC 5869, test case 1
            bytes([0x0B] * 22),
            bytes(range(13)),
            bytes(range(0xF0, 0xFA)),
            42,
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        ),
        (  # RFC 5869, test case 3: no salt, no info
            bytes([0x0B] * 22),
            b"",
            b"",
            42,
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
        ),
    ],
)
def test_hkdf_matches_the_rfc_5869_vectors(key_material, salt, info, length, expected):
    assert hkdf_sha256(key_material, info=info, length=length, salt=salt).hex() == expected


def test_each_purpose_gets_its_own_key():
    settings = {"userid_hmac_secret": "s3cret"}
    keys = {derived_key(settings, purpose) for purpose in (PAGINATION_TOKENS, SEARCH_PRINCIPALS, "other")}
    assert len(keys) == 3
    assert all(len(key) == 32 for key in keys)


def test_derived_keys_are_not_the_secret_nor_its_hmac_of_the_purpose():
    settings = {"userid_hmac_secret": "s3cret"}
    key = derived_key(settings, PAGINATION_TOKENS)
    assert key != b"s3cret"
    assert key != hmac.new(b"s3cret", PAGINATION_TOKENS.encode(), hashlib.sha256).digest()


def test_derived_key_depends_on_the_secret():
    one = derived_key({"userid_hmac_secret": "one"}, PAGINATION_TOKENS)
    two = derived_key({"userid_hmac_secret": "two"}, PAGINATION_TOKENS)
    assert one != two


def test_derived_key_reads_either_spelling_of_the_secret():
    # Settings a plugin's test or a command builds, before the defaults give them both spellings.
    assert derived_key({"kinto.userid_hmac_secret": "one"}, PAGINATION_TOKENS) == derived_key(
        {"userid_hmac_secret": "one"}, PAGINATION_TOKENS
    )


def test_derived_key_reads_a_registrys_settings():
    class Registry:
        settings = {"userid_hmac_secret": "s3cret"}

    assert derived_key(Registry(), PAGINATION_TOKENS) == derived_key(Registry.settings, PAGINATION_TOKENS)


@pytest.mark.parametrize(
    "settings", [{}, {"userid_hmac_secret": ""}, {"userid_hmac_secret": " "}, {"userid_hmac_secret": None}]
)
def test_no_key_without_a_secret(settings):
    with pytest.raises(ConfigurationError, match=r"kinto\.userid_hmac_secret"):
        derived_key(settings, PAGINATION_TOKENS)
    with pytest.raises(ConfigurationError, match=r"kinto\.userid_hmac_secret"):
        check_secret(settings)


def test_a_purpose_is_required():
    with pytest.raises(ValueError):
        derived_key({"userid_hmac_secret": "s3cret"}, "")


@pytest.mark.parametrize("secret", [None, "", "  "])
def test_an_application_never_starts_without_a_secret(secret, monkeypatch):
    for name in ("KINTO_USERID_HMAC_SECRET", "USERID_HMAC_SECRET"):
        monkeypatch.delenv(name, raising=False)
    settings = {} if secret is None else {"kinto.userid_hmac_secret": secret}
    with pytest.raises(ConfigurationError, match=r"kinto\.userid_hmac_secret"):
        kinto.core.initialize(Configurator(settings=settings), "1.0")


def test_the_secret_may_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("KINTO_USERID_HMAC_SECRET", "from-the-environment")
    config = Configurator(settings={})
    kinto.core.initialize(config, "1.0")
    assert config.get_settings()["userid_hmac_secret"] == "from-the-environment"


def test_basic_auth_user_ids_are_the_hmac_of_the_credentials_with_the_secret_itself():
    # Kinto's derivation, so that a user of a database migrated from Kinto keeps their id.
    app = make_app({**BASIC_AUTH, "userid_hmac_secret": "s3cret"})
    user = app.get("/v1/", headers=basic_auth_header("alice", "pw")).json["user"]["id"]
    assert user == "basicauth:" + hmac_digest("s3cret", "alice:pw")


def test_the_testing_helper_gives_a_secret_when_the_settings_have_none():
    app = make_app(BASIC_AUTH)
    user = app.get("/v1/", headers=basic_auth_header("alice", "pw")).json["user"]["id"]
    assert user == "basicauth:" + hmac_digest(TEST_SECRET, "alice:pw")


def test_the_testing_helper_keeps_an_empty_secret_it_is_given():
    with pytest.raises(ConfigurationError, match=r"kinto\.userid_hmac_secret"):
        make_app({**BASIC_AUTH, "kinto.userid_hmac_secret": ""})
