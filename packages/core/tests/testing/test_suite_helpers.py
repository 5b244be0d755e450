"""The helpers the contract suites share (``kinto.core.testing.plugin``), as plugin authors call them."""

from __future__ import annotations

import threading

import pytest

from kinto.core.testing.plugin import run_in_threads


def test_run_in_threads_runs_every_index_in_its_own_thread():
    seen: dict[int, int] = {}

    def work(index: int) -> None:
        seen[index] = threading.get_ident()

    run_in_threads(work, count=4)
    assert sorted(seen) == [0, 1, 2, 3]
    assert threading.get_ident() not in seen.values()


def test_run_in_threads_fails_with_the_traceback_of_each_failed_thread():
    def work(index: int) -> None:
        if index % 2:
            raise ValueError(f"thread number {index} broke")

    with pytest.raises(AssertionError) as raised:
        run_in_threads(work, count=4)
    message = str(raised.value)
    assert "thread number 1 broke" in message and "thread number 3 broke" in message
    assert "thread number 0" not in message and "Traceback" in message
