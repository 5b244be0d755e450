"""Item 9: one configured secret, one key per purpose.

``GET /v1/`` answers, to anyone, the HMAC of a text they choose: the Basic Auth
user id is ``basicauth:`` + HMAC-SHA256(``userid_hmac_secret``, ``user:password``)
(Kinto's derivation, kept so that databases migrated from Kinto keep their
permissions). Pagination tokens used to be signed with that same key, so the
root view signed forged tokens on request. Tokens (and the search index's
principal hashes) now use keys derived from the secret per purpose, and no
application starts without a secret.
"""

from __future__ import annotations

import base64
import json
import textwrap
from urllib.parse import parse_qs, urlsplit

import pytest
from pyramid.exceptions import ConfigurationError

from kinto.server import main
from kinto.server.testing import run_kinto

from .conftest import ALICE, BASE_SETTINGS, assert_error, userid

RECORDS = "/v1/buckets/b/collections/c/records"
YEAR_2100 = 4102444800


def _seed(app, put):
    put(app, "/buckets/b")
    put(app, "/buckets/b/collections/c")
    for name in ("r1", "r2", "r3"):
        put(app, f"/buckets/b/collections/c/records/{name}", {"title": name})


def _next_token(response) -> str:
    return parse_qs(urlsplit(response.headers["Next-Page"]).query)["_token"][0]


def _user_id_hmac_of(app, text: bytes) -> str:
    """What the root view answers for credentials whose ``user:password`` is ``text``."""
    authorization = "Basic " + base64.b64encode(text).decode("ascii")
    user = app.get("/v1/", headers={"Authorization": authorization}).json["user"]["id"]
    assert user.startswith("basicauth:")
    return user.removeprefix("basicauth:")


def _forged_token(app, genuine: str) -> str:
    """``genuine`` with an expiry in 2100, signed by the root view's user-id HMAC."""
    encoded, _ = genuine.rsplit(".", 1)
    payload = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    payload["e"] = YEAR_2100
    raw = json.dumps(payload, separators=(",", ":")).encode()
    assert b":" in raw  # Basic Auth splits user and password there; the HMAC covers both
    signature = _user_id_hmac_of(app, raw)[:32]
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") + "." + signature


def test_pagination_token_signed_with_the_user_id_hmac_is_refused(app, put):
    _seed(app, put)
    genuine = _next_token(app.get(f"{RECORDS}?_limit=1", headers=ALICE))
    forged = _forged_token(app, genuine)

    response = app.get(f"{RECORDS}?_limit=1&_token={forged}", headers=ALICE, status="*")

    assert_error(response, 400, 107)


def test_genuine_pagination_tokens_walk_every_page(app, put):
    _seed(app, put)
    seen, url = [], f"{RECORDS}?_limit=1"
    while url:
        response = app.get(url, headers=ALICE)
        seen.extend(record["id"] for record in response.json["data"])
        next_page = response.headers.get("Next-Page")
        url = next_page.split("://", 1)[1].split("/", 1)[1] if next_page else None
        url = f"/{url}" if url else None
    assert sorted(seen) == ["r1", "r2", "r3"]


def test_basic_auth_user_ids_stay_kintos_hmac_of_the_credentials(app):
    assert app.get("/v1/", headers=ALICE).json["user"]["id"] == userid("alice")


@pytest.mark.parametrize("secret", ["", "   "])
def test_application_refuses_to_start_without_a_secret(secret):
    settings = {**BASE_SETTINGS, "kinto.userid_hmac_secret": secret}
    with pytest.raises(ConfigurationError, match="userid_hmac_secret"):
        main({}, **settings)


def test_kinto_command_refuses_an_ini_without_a_secret(tmp_path):
    ini = tmp_path / "kinto.ini"
    ini.write_text(
        textwrap.dedent("""\
        [app:main]
        use = egg:kinto
        kinto.storage_backend = kinto.core.storage.memory
        kinto.permission_backend = kinto.core.permission.memory
        kinto.cache_backend = kinto.core.cache.memory
        multiauth.policies = basicauth
        kinto.userid_hmac_secret =
        """)
    )

    result = run_kinto("migrate", "--ini", str(ini), cwd=tmp_path)

    assert result.returncode != 0
    assert "userid_hmac_secret" in result.stderr + result.stdout


def test_kinto_init_writes_a_secret_the_server_starts_with(tmp_path):
    ini = tmp_path / "kinto.ini"
    assert run_kinto("init", "--ini", str(ini), "--backend", "memory", cwd=tmp_path).returncode == 0
    secret_lines = [line for line in ini.read_text().splitlines() if line.startswith("kinto.userid_hmac_secret")]
    assert len(secret_lines) == 1 and len(secret_lines[0].split("=", 1)[1].strip()) >= 32

    result = run_kinto("migrate", "--ini", str(ini), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
