"""``ETag``/``Last-Modified``, ``If-Match``/``If-None-Match`` on every endpoint, and cache headers."""

from email.utils import formatdate, parsedate_to_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinto.core.resource.preconditions import http_date

from .conftest import ALICE, assert_error


@pytest.fixture
def thing(create):
    create("/v1/things", {"n": 0})
    return create("/v1/things", {"n": 1})


def etag(timestamp):
    return f'"{timestamp}"'


def collection_etag(app):
    return app.get("/v1/things", headers=ALICE).headers["ETag"]


def stored(app):
    return app.get("/v1/things?_sort=n", headers=ALICE).json["data"]


# Every endpoint, as (method, path template, body): path templates take the object id.
ENDPOINTS = {
    "plural-get": ("get", "/v1/things", None),
    "plural-head": ("head", "/v1/things", None),
    "plural-post": ("post_json", "/v1/things", {"data": {"n": 2}}),
    "plural-delete": ("delete", "/v1/things", None),
    "object-get": ("get", "/v1/things/{id}", None),
    "object-head": ("head", "/v1/things/{id}", None),
    "object-put": ("put_json", "/v1/things/{id}", {"data": {"n": 2}}),
    "object-patch": ("patch_json", "/v1/things/{id}", {"data": {"n": 2}}),
    "object-delete": ("delete", "/v1/things/{id}", None),
}


def call(app, endpoint, thing, headers, status):
    method, path, body = ENDPOINTS[endpoint]
    kwargs = {"headers": {**ALICE, **headers}, "status": status}
    if body is not None:
        kwargs["params"] = body
    return getattr(app, method)(path.format(id=thing["id"]), **kwargs)


def current_etag(app, endpoint, thing):
    if endpoint.startswith("plural"):
        return collection_etag(app)
    return etag(thing["last_modified"])


# --- ETag and Last-Modified ----------------------------------------------------------------------------


def test_etag_and_last_modified_follow_the_timestamps(app, create):
    empty = app.get("/v1/things", headers=ALICE)
    assert empty.headers["ETag"].strip('"').isdigit()
    obj = create("/v1/things", {"n": 1})
    listing = app.get("/v1/things", headers=ALICE)
    assert listing.headers["ETag"] == etag(obj["last_modified"])
    seconds = parsedate_to_datetime(listing.headers["Last-Modified"]).timestamp()
    assert int(seconds) == obj["last_modified"] // 1000
    single = app.get(f"/v1/things/{obj['id']}", headers=ALICE)
    assert single.headers["ETag"] == etag(obj["last_modified"])
    assert single.headers["Last-Modified"] == listing.headers["Last-Modified"]
    patched = app.patch_json(f"/v1/things/{obj['id']}", {"data": {"n": 2}}, headers=ALICE)
    assert patched.headers["ETag"] == etag(patched.json["data"]["last_modified"])
    deleted = app.delete(f"/v1/things/{obj['id']}", headers=ALICE)
    assert deleted.headers["ETag"] == etag(deleted.json["data"]["last_modified"])
    assert collection_etag(app) == deleted.headers["ETag"]


# --- If-Match -----------------------------------------------------------------------------------------


# A POST's preconditions are about the object posted (as Kinto): see the tests further down.
EXISTING_TARGETS = [endpoint for endpoint in ENDPOINTS if endpoint != "plural-post"]


@pytest.mark.parametrize("endpoint", EXISTING_TARGETS)
def test_if_match_with_the_current_etag_proceeds(app, thing, endpoint):
    call(app, endpoint, thing, {"If-Match": current_etag(app, endpoint, thing)}, 200)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_if_match_with_a_stale_etag_is_a_412_and_changes_nothing(app, thing, endpoint):
    before = stored(app)
    stale = etag(int(current_etag(app, endpoint, thing).strip('"')) - 1)
    response = call(app, endpoint, thing, {"If-Match": stale}, 412)
    if endpoint not in ("plural-head", "object-head"):
        body = assert_error(response, 412, 114)
        if endpoint.startswith("object"):
            assert body["details"]["existing"] == thing
    if endpoint != "plural-post":
        assert response.headers["ETag"] == current_etag(app, endpoint, thing)
    assert stored(app) == before


@pytest.mark.parametrize("endpoint", EXISTING_TARGETS)
def test_if_match_star_needs_something_there(app, thing, endpoint):
    call(app, endpoint, thing, {"If-Match": "*"}, 200)


def test_if_match_on_a_missing_object_is_a_412_for_a_put(app, thing):
    app.delete(f"/v1/things/{thing['id']}", headers=ALICE)
    before = stored(app)
    for header in ("*", etag(thing["last_modified"])):
        response = call(app, "object-put", thing, {"If-Match": header}, 412)
        assert_error(response, 412, 114)
    assert stored(app) == before


@pytest.mark.parametrize("endpoint", ["object-get", "object-head", "object-patch", "object-delete"])
def test_a_missing_object_is_a_404_whatever_the_if_match(app, thing, endpoint):
    # As Kinto: the object is looked up before the preconditions, except by a PUT (which may create).
    app.delete(f"/v1/things/{thing['id']}", headers=ALICE)
    before = stored(app)
    for header in ("*", etag(thing["last_modified"])):
        response = call(app, endpoint, thing, {"If-Match": header}, 404)
        if endpoint != "object-head":
            assert_error(response, 404, 110)
    assert stored(app) == before


def test_if_match_accepts_a_list_of_etags(app, thing):
    header = f'"1", {etag(thing["last_modified"])}'
    app.patch_json(f"/v1/things/{thing['id']}", {"data": {"n": 5}}, headers={**ALICE, "If-Match": header})


def test_if_match_on_a_shareable_object_shows_the_existing_data_without_permissions(app, create):
    article = create("/v1/articles", {"title": "t"})
    response = app.patch_json(
        f"/v1/articles/{article['id']}", {"data": {"title": "u"}}, headers={**ALICE, "If-Match": '"1"'}, status=412
    )
    assert assert_error(response, 412, 114)["details"]["existing"] == article


# --- If-None-Match ------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["plural-get", "plural-head", "object-get", "object-head"])
def test_if_none_match_on_an_unchanged_read_is_a_304(app, thing, endpoint):
    current = current_etag(app, endpoint, thing)
    response = call(app, endpoint, thing, {"If-None-Match": current}, 304)
    assert response.body == b""
    assert response.headers["ETag"] == current
    call(app, endpoint, thing, {"If-None-Match": '"1"'}, 200)


@pytest.mark.parametrize("endpoint", ["plural-get", "plural-head", "object-get", "object-head"])
def test_if_none_match_star_on_an_existing_object_or_list_is_a_412_as_in_kinto(app, thing, endpoint):
    response = call(app, endpoint, thing, {"If-None-Match": "*"}, 412)
    assert response.headers["ETag"] == current_etag(app, endpoint, thing)
    if endpoint == "object-get":
        assert assert_error(response, 412, 114)["details"]["existing"] == thing


@pytest.mark.parametrize("endpoint", ["object-put", "object-patch", "object-delete", "plural-delete"])
def test_if_none_match_on_a_write_that_matches_is_a_412(app, thing, endpoint):
    before = stored(app)
    for header in ("*", current_etag(app, endpoint, thing)):
        assert_error(call(app, endpoint, thing, {"If-None-Match": header}, 412), 412, 114)
    assert stored(app) == before


def test_if_none_match_star_makes_put_create_only(app, thing):
    import uuid

    new_id = str(uuid.uuid4())
    headers = {**ALICE, "If-None-Match": "*"}
    app.put_json(f"/v1/things/{new_id}", {"data": {"n": 9}}, headers=headers, status=201)
    response = app.put_json(f"/v1/things/{new_id}", {"data": {"n": 10}}, headers=headers, status=412)
    assert assert_error(response, 412, 114)["details"]["existing"]["n"] == 9


def test_a_write_with_an_older_if_none_match_proceeds(app, thing):
    headers = {**ALICE, "If-None-Match": '"1"'}
    app.patch_json(f"/v1/things/{thing['id']}", {"data": {"n": 3}}, headers=headers, status=200)


def test_a_missing_object_with_if_none_match_is_still_a_404(app):
    import uuid

    response = app.get(f"/v1/things/{uuid.uuid4()}", headers={**ALICE, "If-None-Match": "*"}, status=404)
    assert_error(response, 404, 110)


# --- POST: the posted object is the target ---------------------------------------------------------------


def test_post_with_if_none_match_star_creates_only(app, thing):
    headers = {**ALICE, "If-None-Match": "*"}
    created = app.post_json("/v1/things", {"data": {"n": 5}}, headers=headers, status=201).json["data"]
    response = app.post_json("/v1/things", {"data": {"id": thing["id"], "n": 6}}, headers=headers, status=412)
    assert assert_error(response, 412, 114)["details"]["existing"] == thing
    assert app.get(f"/v1/things/{created['id']}", headers=ALICE).json["data"] == created


def test_post_with_if_match_needs_the_posted_object_at_that_version(app, thing):
    body = {"data": {"id": thing["id"], "n": 6}}
    response = app.post_json("/v1/things", body, headers={**ALICE, "If-Match": etag(thing["last_modified"])})
    assert response.json["data"] == thing
    app.post_json("/v1/things", body, headers={**ALICE, "If-Match": '"1"'}, status=412)
    for header in ("*", collection_etag(app)):
        app.post_json("/v1/things", {"data": {"n": 7}}, headers={**ALICE, "If-Match": header}, status=412)
    assert len(stored(app)) == 2


def test_preconditions_never_show_an_object_to_who_may_not_read_it(app, create):
    from .conftest import BOB

    article = create("/v1/articles", {"title": "private"})
    url = f"/v1/articles/{article['id']}"
    for headers in ({"If-Match": '"1"'}, {"If-None-Match": "*"}, {"If-Match": "*"}):
        # As Kinto, a create-only PUT on an object that exists is a 412 (Kinto's shows the object).
        status = 412 if "If-None-Match" in headers else 403
        response = app.put_json(url, {"data": {"title": "x"}}, headers={**BOB, **headers}, status=status)
        assert "private" not in response.text and "ETag" not in response.headers
        response = app.post_json(
            "/v1/articles", {"data": {"id": article["id"], "title": "x"}}, headers={**BOB, **headers}, status=403
        )
        assert "private" not in response.text
    assert app.get(url, headers=ALICE).json["data"]["title"] == "private"


def test_a_create_only_put_on_an_object_the_caller_may_read_shows_it_in_the_412(app, create):
    from .conftest import BOB, userid

    article = create("/v1/articles", {"title": "shared"}, permissions={"read": [userid("bob")]})
    response = app.put_json(
        f"/v1/articles/{article['id']}", {"data": {"title": "x"}}, headers={**BOB, "If-None-Match": "*"}, status=412
    )
    assert assert_error(response, 412, 114)["details"]["existing"]["title"] == "shared"
    app.put_json(f"/v1/articles/{article['id']}", {"data": {"title": "x"}}, headers=BOB, status=403)


# --- malformed headers ----------------------------------------------------------------------------------


MALFORMED = ["*x", "d", '"abc"', '""', '"123', "123", 'W/"123"', '"12 3"', '"1",,"2"', '"-5"', '"1e3"', "**"]


@pytest.mark.parametrize("header", ["If-Match", "If-None-Match"])
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_malformed_precondition_headers_are_a_400(app, thing, endpoint, header):
    before = stored(app)
    for value in MALFORMED:
        response = call(app, endpoint, thing, {header: value}, 400)
        if not endpoint.endswith("head"):
            details = assert_error(response, 400, 107)["details"][0]
            assert (details["location"], details["name"]) == ("header", header)
    assert stored(app) == before


# --- caching ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/things", "/v1/things/{id}"])
def test_identified_reads_are_never_cached_whatever_the_resource_setting(app, thing, path):
    response = app.get(path.format(id=thing["id"]), headers=ALICE)
    assert response.headers["Cache-Control"] == "no-cache, no-store"
    assert "Expires" not in response.headers
    not_modified = app.get(
        path.format(id=thing["id"]), headers={**ALICE, "If-None-Match": response.headers["ETag"]}, status=304
    )
    assert not_modified.headers["Cache-Control"] == "no-cache, no-store"


def test_resources_without_the_setting_send_no_expiry(app, create):
    article = create("/v1/articles", {"title": "t"})
    for path in ("/v1/articles", f"/v1/articles/{article['id']}"):
        response = app.get(path, headers=ALICE)
        assert "max-age=3600" not in response.headers.get("Cache-Control", "")
        assert "Expires" not in response.headers


@given(st.integers(min_value=0, max_value=253402300799999))
def test_last_modified_dates_are_the_imf_fixdate_of_the_timestamp(timestamp_ms):
    assert http_date(timestamp_ms) == formatdate(timestamp_ms / 1000.0, usegmt=True)
