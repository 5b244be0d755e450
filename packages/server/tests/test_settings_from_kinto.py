"""Settings of a Kinto 26.5 ini that change what the API answers: endpoint switches, record caching,
and the defaults an ini relies on (the permissions endpoint is off unless turned on)."""

from __future__ import annotations

import pytest
from pyramid.exceptions import ConfigurationError

from .conftest import ALICE, BASE_SETTINGS, build_app, close_clients


@pytest.fixture(scope="module")
def extra_settings():
    return {
        "kinto.plural_bucket_post_enabled": "false",
        "kinto.object_group_delete_enabled": "false",
        "kinto.b1_record_cache_expires_seconds": "30",
        "kinto.b2.c2.record_cache_expires_seconds": "40",
        "kinto.b3.record_cache_expires_seconds": "50",
        "kinto.b4_c4_record_cache_expires_seconds": "0",
    }


@pytest.fixture
def public(app, put):
    """``public(bucket, collection, **collection_data)``: a collection everyone reads, with one record."""

    def build(bucket, collection, **data):
        put(f"/buckets/{bucket}", permissions={"read": ["system.Everyone"]})
        put(f"/buckets/{bucket}/collections/{collection}", data)
        put(f"/buckets/{bucket}/collections/{collection}/records/r1")
        return f"/v1/buckets/{bucket}/collections/{collection}/records"

    return build


# --- endpoint switches -----------------------------------------------------------------------------


def test_a_switched_off_method_answers_405_as_kinto(app, put):
    response = app.post_json("/v1/buckets", {"data": {"id": "b9"}}, headers=ALICE, status=405)
    assert response.json["errno"] == 115
    assert "POST" not in response.headers["Allow"]
    put("/buckets/b9")  # the object endpoint's PUT is not switched off
    assert [bucket["id"] for bucket in app.get("/v1/buckets", headers=ALICE).json["data"]] == ["b9"]


def test_only_the_named_method_of_the_named_endpoint_is_off(app, put):
    put("/buckets/b1")
    put("/buckets/b1/groups/g1", {"members": []})
    app.delete("/v1/buckets/b1/groups/g1", headers=ALICE, status=405)
    app.delete("/v1/buckets/b1/groups", headers=ALICE, status=200)


# --- record caching --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bucket", "collection", "max_age"),
    [("b1", "c1", 30), ("b2", "c2", 40), ("b3", "c3", 50)],
    ids=["bucket_underscore", "bucket.collection", "bucket.dotted"],
)
def test_anonymous_record_reads_get_the_lifetime_set_for_their_bucket_or_collection(
    app, public, bucket, collection, max_age
):
    records = public(bucket, collection)
    for url in (records, f"{records}/r1"):
        response = app.get(url)
        assert response.headers["Cache-Control"] == f"max-age={max_age}"
        assert "Expires" in response.headers


def test_identified_reads_are_never_cached(app, public):
    records = public("b1", "c1", cache_expires=60)
    for url in (records, f"{records}/r1"):
        assert app.get(url, headers=ALICE).headers["Cache-Control"] == "no-cache, no-store"


def test_the_longer_of_the_setting_and_the_collections_cache_expires_wins(app, public):
    assert "max-age=60" in app.get(public("b1", "longer", cache_expires=60)).headers["Cache-Control"]
    assert "max-age=30" in app.get(public("b1", "shorter", cache_expires=10)).headers["Cache-Control"]
    # A setting of 0 does not shorten what the collection asks for.
    assert "max-age=5" in app.get(public("b4", "c4", cache_expires=5)).headers["Cache-Control"]


def test_records_of_other_collections_are_not_cacheable(app, public):
    response = app.get(public("b5", "c5"))
    assert response.headers["Cache-Control"] == "no-cache, no-store"
    assert "Expires" not in response.headers


# --- defaults and start-up -------------------------------------------------------------------------


def test_the_permissions_endpoint_is_off_unless_turned_on(app):
    app.get("/v1/permissions", headers=ALICE, status=404)
    assert "permissions_endpoint" not in app.get("/v1/").json["capabilities"]


def test_the_global_record_lifetime_comes_before_the_underscore_spellings():
    # Kinto's order: <bid>.<cid>., <bid>., the global setting, then <bid>_<cid>_ and <bid>_.
    app = build_app(
        {
            "kinto.record_cache_expires_seconds": "7",
            "kinto.b1_record_cache_expires_seconds": "30",
            "kinto.b2.record_cache_expires_seconds": "40",
        }
    )
    try:
        for bucket, max_age in (("b1", 7), ("b2", 40)):
            app.put_json(f"/v1/buckets/{bucket}", {"permissions": {"read": ["system.Everyone"]}}, headers=ALICE)
            app.put_json(f"/v1/buckets/{bucket}/collections/c", {}, headers=ALICE)
            response = app.get(f"/v1/buckets/{bucket}/collections/c/records")
            assert response.headers["Cache-Control"] == f"max-age={max_age}"
    finally:
        close_clients(app)


@pytest.mark.parametrize(
    "key",
    [
        "kinto.b1_record_cache_expires_seconds",
        "kinto.b1.c1.record_cache_expires_seconds",
        "kinto.bucket_cache_expires_seconds",
    ],
)
def test_a_lifetime_that_is_not_a_number_stops_start_up(key):
    with pytest.raises(ConfigurationError, match=key.removeprefix("kinto.")):
        build_app({**BASE_SETTINGS, key: "soon"})
