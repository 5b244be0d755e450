"""Item 13: what one request loads of a user's principals is bounded.

Anyone may create groups whose members are ``system.Authenticated``: each
one is a principal every user holds. Kinto 26.5.0 loads all of them on every
request, checks permissions against all of them and lists them all in
``GET /v1/`` (``user.principals``: 33,000 such groups make every root ~1 MB).

Here a request loads at most ``kinto.max_user_principals`` (default 1000)
group principals: the user's own groups first, then those every
authenticated user holds. The root keeps Kinto's shape (``user.id``,
``user.principals``: ``system.Everyone``, ``system.Authenticated``, the user
id, then the groups), bounded by the setting; the administrator is warned
when a user reaches the bound.
"""

from __future__ import annotations

import logging
from typing import Any

from .conftest import ALICE, BOB, CAROL, userid

BASE_PRINCIPALS = 3  # system.Everyone, system.Authenticated, the user id
BATCH_SIZE = 25  # kinto.batch_max_requests


def create_groups(app: Any, bucket: str, count: int, members: list[str], headers: dict[str, str] = ALICE) -> None:
    """``count`` groups named ``g0000``... in ``bucket`` (created), through batches."""
    app.put_json(f"/v1/buckets/{bucket}", {"data": {}}, headers=headers)
    requests = [
        {"method": "PUT", "path": f"/buckets/{bucket}/groups/g{index:04d}", "body": {"data": {"members": members}}}
        for index in range(count)
    ]
    for start in range(0, count, BATCH_SIZE):
        body = app.post_json("/v1/batch", {"requests": requests[start : start + BATCH_SIZE]}, headers=headers).json
        assert {response["status"] for response in body["responses"]} == {201}


def root_principals(app: Any, headers: dict[str, str]) -> list[str]:
    user = app.get("/v1/", headers=headers).json["user"]
    assert set(user) == {"id", "principals"}
    return user["principals"]


def test_groups_every_user_holds_are_loaded_up_to_the_bound(make_app: Any, caplog: Any) -> None:
    app = make_app({"kinto.max_user_principals": "5"})
    create_groups(app, "flood", 20, ["system.Authenticated"])

    with caplog.at_level(logging.WARNING, logger="kinto.core.authorization"):
        principals = root_principals(app, BOB)
    assert len(principals) == BASE_PRINCIPALS + 5
    assert {"system.Everyone", "system.Authenticated", userid("bob")} <= set(principals)
    assert sum(principal.startswith("/buckets/flood/groups/") for principal in principals) == 5
    assert any("max_user_principals" in record.getMessage() for record in caplog.records)


def test_a_users_own_groups_outlive_a_flood_of_shared_ones(make_app: Any, put: Any) -> None:
    """Groups naming the user come before the ones every user holds, wherever they sort."""
    app = make_app({"kinto.max_user_principals": "5"})
    create_groups(app, "aaa-flood", 20, ["system.Authenticated"])
    put(app, "/buckets/zzz-team", headers=CAROL)
    put(app, "/buckets/zzz-team/groups/editors", {"members": [userid("bob")]}, headers=CAROL)
    put(
        app,
        "/buckets/zzz-team/collections/drafts",
        headers=CAROL,
        permissions={"read": ["/buckets/zzz-team/groups/editors"]},
    )

    principals = root_principals(app, BOB)
    assert len(principals) == BASE_PRINCIPALS + 5
    assert "/buckets/zzz-team/groups/editors" in principals
    app.get("/v1/buckets/zzz-team/collections/drafts", headers=BOB, status=200)


def test_a_bound_of_zero_loads_no_group(make_app: Any, put: Any) -> None:
    app = make_app({"kinto.max_user_principals": "0"})
    create_groups(app, "flood", 3, ["system.Authenticated", userid("bob")])
    assert sorted(root_principals(app, BOB)) == sorted(["system.Everyone", "system.Authenticated", userid("bob")])


def test_the_default_bound_is_a_thousand_groups(make_app: Any) -> None:
    app = make_app()
    create_groups(app, "flood", 1100, ["system.Authenticated"])
    response = app.get("/v1/", headers=BOB)
    assert len(response.json["user"]["principals"]) == BASE_PRINCIPALS + 1000
    assert len(response.body) < 64 * 1024
