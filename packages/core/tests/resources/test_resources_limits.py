"""Page sizes from the settings: ``paginate_by`` and ``storage_max_fetch_size``."""

import pytest

from .conftest import ALICE

LIMITS = [{"paginate_by": 5}, {"storage_max_fetch_size": 7}, {"paginate_by": 9, "storage_max_fetch_size": 4}]


@pytest.fixture(scope="module", params=LIMITS, ids=["paginate_by", "max_fetch", "both"])
def extra_settings(request):
    return request.param


@pytest.fixture
def page_size(extra_settings):
    return min(extra_settings.get("paginate_by") or 10**9, extra_settings.get("storage_max_fetch_size") or 10**9)


@pytest.fixture
def stored(app):
    storage = app.app.registry.storage
    with storage.transaction():
        return [storage.create("thing", "", {"n": n}) for n in range(23)]


def follow(app, url, method="get"):
    pages = []
    while url:
        response = getattr(app, method)(url, headers=ALICE)
        pages.append(response.json["data"])
        url = response.headers.get("Next-Page")
        url = url[url.index("/v1/") :] if url else None
    return pages


def test_an_unlimited_list_is_cut_at_the_page_size(app, stored, page_size):
    response = app.get("/v1/things", headers=ALICE)
    assert len(response.json["data"]) == page_size
    assert "_token=" in response.headers["Next-Page"]


@pytest.mark.parametrize("limit", [2, 1000])
def test_limit_is_capped_by_the_page_size(app, stored, page_size, limit):
    response = app.get(f"/v1/things?_limit={limit}", headers=ALICE)
    assert len(response.json["data"]) == min(limit, page_size)


def test_walking_the_capped_pages_lists_everything_once(app, stored, page_size):
    pages = follow(app, "/v1/things?_sort=n")
    assert [obj["n"] for page in pages for obj in page] == list(range(23))
    assert all(len(page) == page_size for page in pages[:-1])


def test_head_counts_beyond_the_page_size(app, stored):
    assert app.head("/v1/things", headers=ALICE).headers["Total-Objects"] == "23"


def test_plural_delete_goes_page_by_page(app, stored, page_size):
    first = app.delete("/v1/things?_sort=n", headers=ALICE)
    assert [obj["id"] for obj in first.json["data"]] == [obj["id"] for obj in stored[:page_size]]
    pages = follow(app, "/v1/things?_sort=n", method="delete")
    assert sum(len(page) for page in pages) == 23 - page_size
    assert app.get("/v1/things", headers=ALICE).json["data"] == []
