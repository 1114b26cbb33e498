"""Torch's intra-op thread count, kept against ultralytics' side effects.

Importing ultralytics sets ``OMP_NUM_THREADS=1`` when it is unset, and its ``select_device``
calls ``torch.set_num_threads(min(8, cores - 1))``. Either one leaves every later torch op of
the process on one thread on a 2-core machine, which halves the speed of the detector and
the pose model alike. :func:`keep_torch_threads` wraps each place that imports or runs
ultralytics and puts the count back.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["keep_torch_threads", "usable_cpu_count"]


def usable_cpu_count() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


@contextmanager
def keep_torch_threads() -> Iterator[int]:
    """Restore torch's intra-op thread count on exit; yields the count kept.

    Reading the count first also starts torch's thread pool with the environment as it is
    now, before ultralytics rewrites ``OMP_NUM_THREADS``.
    """
    threads = torch.get_num_threads()
    try:
        yield threads
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
