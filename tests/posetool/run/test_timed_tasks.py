"""submit_timed: the same work on a pool or at once, its time counted over threads; a run's
seconds per stage."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from posetool.run.timed_tasks import BusySeconds, StageSeconds, submit_timed


def _nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_pool_time_is_summed_over_threads() -> None:
    busy = BusySeconds()
    start = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        futures = [submit_timed(pool, busy.add, _nap, 0.05) for _ in range(4)]
        assert [f.result() for f in futures] == [0.05] * 4
    wall = time.perf_counter() - start
    assert busy.total >= 0.2 > wall  # four naps at once: more busy time than wall time


def test_without_a_pool_the_work_is_done_at_once_and_errors_raise_here() -> None:
    busy = BusySeconds()
    done = submit_timed(None, busy.add, _nap, 0.01)
    assert done.done() and done.result() == 0.01 and busy.total >= 0.01

    def broken():
        raise ValueError("bad frame")

    with pytest.raises(ValueError, match="bad frame"):
        submit_timed(None, busy.add, broken)


def test_stage_seconds_add_up_per_stage_over_threads() -> None:
    stages = StageSeconds()
    with ThreadPoolExecutor(4) as pool:
        for _ in range(400):
            pool.submit(stages.add, "detect", 0.5)
    stages.add("decode", 0.25)
    stages.add("pose", 1.0)
    stages.add("pose", 1.0004)
    assert stages.rounded() == {"decode": 0.25, "detect": 200.0, "track": 0.0, "pose": 2.0}
    with pytest.raises(AttributeError):
        stages.add("render", 1.0)  # type: ignore[arg-type]
