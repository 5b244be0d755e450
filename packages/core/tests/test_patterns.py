"""kinto.core.patterns: client patterns matched in linear time, with the semantics of the regexps they replace."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinto.core.patterns import MAX_REGEX_LENGTH, PatternError, compile_regex, glob_matcher, segment_glob_matcher

globs = st.text(alphabet="ab/*", max_size=7)
texts = st.text(alphabet="ab/", max_size=9)


def _reference(pattern: str, run: str) -> re.Pattern[str]:
    return re.compile(run.join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


@given(globs, texts)
def test_glob_matches_what_the_star_regexp_matches(pattern, text):
    assert glob_matcher(pattern)(text) == (_reference(pattern, ".*").fullmatch(text) is not None)


@given(globs, texts)
def test_segment_glob_matches_what_the_non_separator_regexp_matches(pattern, text):
    assert segment_glob_matcher(pattern)(text) == (_reference(pattern, "[^/]+").fullmatch(text) is not None)


def test_glob_is_linear_where_a_backtracking_regexp_is_not():
    # .*a.*a...b over 100,000 characters: C(100000, 30) ways to backtrack.
    assert glob_matcher("*a" * 30 + "*b")("a" * 100_000) is False
    assert segment_glob_matcher("*a" * 30 + "*b")("a" * 100_000) is False


def test_glob_without_a_star_is_equality():
    assert glob_matcher("/buckets/b")("/buckets/b")
    assert not glob_matcher("/buckets/b")("/buckets/b/collections/c")


def test_compiled_regex_runs_in_linear_time():
    assert compile_regex("^(a+)+$").search("a" * 100_000 + "!") is None
    assert compile_regex("^(a+)+$").search("a" * 100_000) is not None


def test_regex_flags():
    assert compile_regex("ab", ignore_case=True).fullmatch("AB") is not None
    assert compile_regex("a.b").fullmatch("a\nb") is None
    assert compile_regex("a.b", dot_all=True).fullmatch("a\nb") is not None


def test_regex_matches_text_with_lone_surrogates():
    assert compile_regex("a").search("\ud800a") is not None
    assert compile_regex("^b").search("\ud800b") is None


@pytest.mark.parametrize("pattern", [r"(a)\1", "(?=a)", "(?<!a)b", "a{1001}", "(", "\ud800"])
def test_regexes_re2_cannot_run_raise_pattern_error(pattern):
    with pytest.raises(PatternError):
        compile_regex(pattern)


def test_regexes_longer_than_the_limit_raise_pattern_error():
    compile_regex("a" * MAX_REGEX_LENGTH)
    with pytest.raises(PatternError, match="longer than"):
        compile_regex("a" * (MAX_REGEX_LENGTH + 1))
