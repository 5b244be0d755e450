"""Scope rules of Firefox Accounts, as properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinto_fxa.scopes import grants, parse_scopes, satisfies

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=8).filter(
    lambda name: name != "write"
)
short_scopes = st.lists(names, min_size=1, max_size=4).map(":".join)
url_scopes = st.builds(
    lambda host, path: f"https://{host}.example.com/" + "/".join(path),
    names,
    st.lists(names, min_size=1, max_size=3),
)
scopes = st.one_of(short_scopes, url_scopes)


def as_write(scope: str) -> str:
    return f"{scope}#write" if "://" in scope else f"{scope}:write"


def child(scope: str, name: str) -> str:
    return f"{scope}/{name}" if "://" in scope else f"{scope}:{name}"


@given(scopes)
def test_a_scope_grants_itself(scope: str) -> None:
    assert grants(scope, scope)
    assert grants(as_write(scope), as_write(scope))


@given(scopes, names)
def test_a_scope_grants_its_sub_scopes(scope: str, name: str) -> None:
    assert grants(scope, child(scope, name))
    assert not grants(child(scope, name), scope)


@given(scopes)
def test_write_access_grants_read_access_not_the_reverse(scope: str) -> None:
    assert grants(as_write(scope), scope)
    assert not grants(scope, as_write(scope))


@given(scopes, names)
def test_a_hierarchy_is_made_of_whole_components(scope: str, suffix: str) -> None:
    assert not grants(scope, scope + suffix)


@given(short_scopes, url_scopes)
def test_short_and_url_scopes_never_grant_each_other(short: str, url: str) -> None:
    assert not grants(short, url)
    assert not grants(url, short)


@given(st.lists(scopes, max_size=4), st.lists(scopes, max_size=4))
def test_satisfies_means_every_required_scope_is_granted(granted: list[str], required: list[str]) -> None:
    assert satisfies(granted, required) == all(any(grants(g, r) for g in granted) for r in required)
    assert satisfies(granted + required, required)


@pytest.mark.parametrize(
    ("granted", "required", "expected"),
    [
        ("profile", "profile:email", True),
        ("profile:write", "profile:email:write", True),
        ("profile:email", "profile", False),
        ("https://identity.mozilla.com/apps/oldsync", "https://identity.mozilla.com/apps/oldsync/bookmarks", True),
        ("https://identity.mozilla.com/apps/notes", "https://identity.mozilla.com/apps/notes2", False),
        ("https://identity.mozilla.com/apps", "https://other.example.com/apps/notes", False),
        ("https://x.example.com/a?q=1", "https://x.example.com/a?q=1/b", False),
        ("https://x.example.com/a//", "https://x.example.com/a//b", False),
    ],
)
def test_documented_examples(granted: str, required: str, expected: bool) -> None:
    assert grants(granted, required) is expected


def test_scopes_are_read_from_strings_or_lists() -> None:
    assert parse_scopes(" profile  kinto profile ") == ("profile", "kinto")
    assert parse_scopes(["kinto", "", "kinto"]) == ("kinto",)
    assert parse_scopes(None) == ()
