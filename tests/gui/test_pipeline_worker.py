"""The viewer's pipeline worker: what it reports for each way a run ends."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

pytest.importorskip("PySide6")


def _outcome(run_fn, cancel: threading.Event) -> list[str]:
    from posetool.gui.pipeline_worker import _Worker

    seen: list[str] = []
    worker = _Worker(run_fn, Path("clip.mp4"), cancel)
    worker.cancelled.connect(lambda: seen.append("cancelled"))
    worker.failed.connect(lambda msg: seen.append(f"failed {msg}"))
    worker.finished.connect(lambda _: seen.append("finished"))
    worker.run()  # in this thread: the signals are delivered directly
    return seen


def test_pipeline_cancel_is_reported_as_cancelled(qapp) -> None:
    """The pipeline's own PipelineCancelled is caught as a cancel, even before the event is
    seen (the viewer used to define a class of the same name that it never raised)."""
    from posetool.run.pipeline import PipelineCancelled

    def run_fn(path, progress, cancel):
        raise PipelineCancelled(str(path))

    assert _outcome(run_fn, threading.Event()) == ["cancelled"]


def test_other_errors_are_reported_as_failures(qapp) -> None:
    def run_fn(path, progress, cancel):
        raise OSError("disk gone")

    assert _outcome(run_fn, threading.Event()) == ["failed OSError: disk gone"]
