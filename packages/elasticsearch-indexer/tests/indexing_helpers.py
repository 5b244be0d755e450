"""Helpers of the HTTP tests: users, and writing and searching articles."""

from __future__ import annotations

from typing import Any

import webtest
from kinto.core.authentication import hmac_digest
from kinto.core.testing import basic_auth_header

SECRET = "search-tests-secret"
ALICE, BOB, CAROL = (basic_auth_header(name) for name in ("alice", "bob", "carol"))

BASE_SETTINGS = {
    "multiauth.policies": "basicauth",
    "userid_hmac_secret": SECRET,
    "bulletin_read_principals": "system.Authenticated",
    "bulletin_write_principals": "system.Authenticated",
    "bulletin_create_principals": "system.Authenticated",
}


def userid(name: str) -> str:
    return "basicauth:" + hmac_digest(SECRET, f"{name}:secret")


def post_article(app: webtest.TestApp, title: str, headers: dict[str, str], **permissions: list[str]) -> str:
    body: dict[str, Any] = {"data": {"title": title}}
    if permissions:
        body["permissions"] = permissions
    return app.post_json("/v1/articles", body, headers=headers, status=201).json["data"]["id"]


def titles(
    app: webtest.TestApp,
    headers: dict[str, str] | None = None,
    body: Any = None,
    path: str = "articles",
    status: int = 200,
) -> list[str]:
    response = app.post_json(
        f"/v1/search/{path}/", body if body is not None else {}, headers=headers or {}, status=status
    )
    return sorted(hit["_source"]["title"] for hit in response.json["hits"]["hits"])
