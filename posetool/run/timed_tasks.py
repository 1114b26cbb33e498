"""Work handed to a thread pool, or done at once where there is none, with its time counted.

The pipeline's detection (:mod:`posetool.run.tracked_frames`) and pose model work
(:class:`posetool.run.pose_estimator.PoseEstimator`) both run this way, so that one code path
serves a pipelined run and a one-frame-at-a-time run. :class:`StageSeconds` holds one video's
time per stage.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, fields
from typing import Literal

__all__ = ["BusySeconds", "Stage", "StageSeconds", "submit_timed"]

Stage = Literal["decode", "detect", "track", "pose"]


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


@dataclass
class StageSeconds:
    """Seconds one video's run spent in each stage, summed over the threads that ran it
    (thread-safe adds); in a pipelined run the stages overlap, so they add up to more than
    the wall time."""

    decode: float = 0.0
    detect: float = 0.0
    track: float = 0.0
    pose: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, stage: Stage, seconds: float) -> None:
        """Count ``seconds`` more in ``stage``."""
        with self._lock:
            setattr(self, stage, getattr(self, stage) + seconds)

    def rounded(self, digits: int = 3) -> dict[str, float]:
        """{stage: seconds} in pipeline order, rounded (a run's summary)."""
        return {
            f.name: round(getattr(self, f.name), digits)
            for f in fields(self)
            if not f.name.startswith("_")
        }


def submit_timed(
    executor: Executor | None, add_seconds: Callable[[float], None], fn: Callable, *args
) -> Future:
    """``fn(*args)`` on ``executor``, or now in this thread when it is None (errors then raise
    here, not from the future); the seconds it takes go to ``add_seconds`` (from the thread
    that ran it: make it thread-safe, as :meth:`BusySeconds.add` and
    :meth:`StageSeconds.add` are)."""

    def timed():
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            add_seconds(time.perf_counter() - t0)

    if executor is not None:
        return executor.submit(timed)
    done: Future = Future()
    done.set_result(timed())
    return done
