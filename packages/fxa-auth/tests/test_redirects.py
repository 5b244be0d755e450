"""Which redirects the login flow accepts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinto_fxa.redirects import redirect_allowed

labels = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)


@given(st.lists(labels, min_size=1, max_size=3), st.sampled_from(["http", "https"]), st.text(max_size=20))
def test_any_subdomain_matches_a_wildcard_pattern(subdomains: list[str], scheme: str, path: str) -> None:
    host = ".".join([*subdomains, "example", "com"])
    assert redirect_allowed(f"{scheme}://{host}/", ["*.example.com"])


@given(labels, st.text(max_size=30))
def test_nothing_matches_without_patterns(host: str, rest: str) -> None:
    assert not redirect_allowed(f"https://{host}.com/{rest}", [])


@given(st.text(max_size=60))
def test_arbitrary_text_never_crashes_and_only_http_urls_pass(text: str) -> None:
    allowed = redirect_allowed(text, ["*"])
    if allowed:
        assert text.startswith(("http://", "https://"))


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://app.example.com/#", True),
        ("https://APP.Example.com/path?x=1#", True),
        ("https://example.com.evil.org/", False),
        ("https://evil.org/?next=.example.com", False),
        ("https://evil.org#.example.com", False),
        ("https://user@app.example.com/", False),
        ("ftp://app.example.com/", False),
        ("https://app.example.com:8443/", False),
        ("https:///app.example.com", False),
        ("https://app.example.com\\@evil.org/", False),
    ],
)
def test_examples_against_a_wildcard(url: str, allowed: bool) -> None:
    assert redirect_allowed(url, ["*.example.com"]) is allowed


def test_a_pattern_may_name_a_port() -> None:
    assert redirect_allowed("http://localhost:8080/#", ["localhost:8080"])
    assert not redirect_allowed("http://localhost:9090/#", ["localhost:8080"])
    assert redirect_allowed("http://localhost/#", ["localhost"])
