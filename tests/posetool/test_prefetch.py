"""The background iterator that runs decode → detect → track beside the pose model."""

from __future__ import annotations

import threading
import time

import pytest

from posetool.prefetch import Prefetch


def test_items_in_order_from_another_thread() -> None:
    threads = set()

    def source():
        for i in range(50):
            threads.add(threading.get_ident())
            yield i

    with Prefetch(source(), ahead=3) as items:
        assert list(items) == list(range(50))
    assert threads and threading.get_ident() not in threads


def test_error_raised_in_consumer_after_earlier_items() -> None:
    def source():
        yield 1
        yield 2
        raise ValueError("frame 3 is broken")

    got = []
    with pytest.raises(ValueError, match="frame 3 is broken"), Prefetch(source()) as items:
        for item in items:
            got.append(item)
    assert got == [1, 2]


def test_stays_at_most_ahead_items_ahead() -> None:
    produced = []

    def source():
        for i in range(100):
            produced.append(i)
            yield i

    with Prefetch(source(), ahead=2) as items:
        assert next(items) == 0
        time.sleep(0.2)  # the producer fills the queue and blocks
        assert len(produced) <= 1 + 2 + 1  # taken, queued, one in hand


def test_close_early_stops_the_thread_and_closes_the_source() -> None:
    closed = threading.Event()

    def source():
        try:
            yield from range(10**9)
        finally:
            closed.set()

    items = Prefetch(source(), ahead=2, name="test-prefetch")
    assert next(items) == 0
    items.close()
    assert closed.is_set()
    assert not any(t.name == "test-prefetch" for t in threading.enumerate())
    with pytest.raises(StopIteration):
        next(items)
    with pytest.raises(ValueError, match="ahead"):
        Prefetch([], ahead=0)
