"""Work handed to a thread pool, or done at once where there is none, with its time counted.

The pipeline's detection (:mod:`posetool.tracked_frames`) and pose model work
(:class:`posetool.pose_estimator.PoseEstimator`) both run this way, so that one code path
serves a pipelined run and a one-frame-at-a-time run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future

__all__ = ["BusySeconds", "submit_timed"]


class BusySeconds:
    """Seconds of work summed over the threads that did it (thread-safe); with several
    threads working at once, more than the wall time the work spans."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0.0

    def add(self, seconds: float) -> None:
        with self._lock:
            self._total += seconds

    @property
    def total(self) -> float:
        return self._total


def submit_timed(executor: Executor | None, busy: BusySeconds, fn: Callable, *args) -> Future:
    """``fn(*args)`` on ``executor``, or now in this thread when it is None (errors then raise
    here, not from the future); the time it takes adds to ``busy``."""

    def timed():
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            busy.add(time.perf_counter() - t0)

    if executor is not None:
        return executor.submit(timed)
    done: Future = Future()
    done.set_result(timed())
    return done
