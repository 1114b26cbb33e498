"""Running the pose pipeline from the app, in a worker thread with progress and cancel.

The app depends on a small callable, not on the pipeline's internals::

    run_fn(path, progress_cb, cancel_event) -> VideoResult

``progress_cb(done, total)`` reports frames; ``cancel_event`` (a ``threading.Event``) asks it
to stop, after which it may raise :class:`posetool.run.pipeline.PipelineCancelled` (the
pipeline's own, so this module's ``except`` catches what the pipeline raises) or any
exception. The default
is ``posetool.run.pipeline.run_video`` when that module exists.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from posetool.records import VideoResult
from posetool.run.pipeline import PipelineCancelled

__all__ = ["PipelineRunner", "RunFn", "resolve_run_fn", "run_with_progress"]

_LOG = logging.getLogger(__name__)

RunFn = Callable[[Path, Callable[[int, int], None], threading.Event], VideoResult]


def resolve_run_fn() -> tuple[RunFn | None, str]:
    """``posetool.run.pipeline.run_video`` if importable, else None and why."""
    try:
        module = importlib.import_module("posetool.run.pipeline")
    except ImportError as exc:
        return None, f"the pose pipeline is not available in this install ({exc})"
    run_fn = getattr(module, "run_video", None)
    if run_fn is None:
        return None, "posetool.run.pipeline has no run_video function"
    return run_fn, ""


class _Worker(QObject):
    progress = Signal(int, int)
    finished = Signal(object)  # VideoResult
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, run_fn: RunFn, path: Path, cancel: threading.Event) -> None:
        super().__init__()
        self._run_fn, self._path, self._cancel = run_fn, path, cancel

    @Slot()
    def run(self) -> None:
        try:
            result = self._run_fn(self._path, self.progress.emit, self._cancel)
        except PipelineCancelled:
            self.cancelled.emit()
            return
        except Exception as exc:  # noqa: BLE001 - any failure is shown to the analyst
            if self._cancel.is_set():
                self.cancelled.emit()
            else:
                _LOG.exception("pipeline failed on %s", self._path)
                self.failed.emit(f"{type(exc).__name__}: {exc}")
            return
        if self._cancel.is_set():
            self.cancelled.emit()
        else:
            self.finished.emit(result)


class PipelineRunner(QObject):
    """Owns one run: a thread, its worker and the cancel flag. Re-emits the worker's signals
    on the GUI thread."""

    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, run_fn: RunFn, path: str | Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cancel_event = threading.Event()
        self._thread = QThread(self)
        self._worker = _Worker(run_fn, Path(path), self.cancel_event)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        for name in ("progress", "finished", "failed", "cancelled"):
            getattr(self._worker, name).connect(getattr(self, name))
        for signal in (self._worker.finished, self._worker.failed, self._worker.cancelled):
            signal.connect(self._thread.quit)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self.cancel_event.set()

    def wait(self, msecs: int = 30_000) -> bool:
        return self._thread.wait(msecs)

    @property
    def running(self) -> bool:
        return self._thread.isRunning()


def run_with_progress(parent: QWidget, run_fn: RunFn, video: Path) -> PipelineRunner:
    """Start ``run_fn`` on ``video`` with a window-modal progress dialog whose Cancel stops
    it; connect to the runner's signals for the outcome."""
    dialog = QProgressDialog(f"Estimating poses in {video.name}…", "Cancel", 0, 0, parent)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    runner = PipelineRunner(run_fn, video, parent)
    runner.progress.connect(lambda done, total: (dialog.setMaximum(total), dialog.setValue(done)))
    dialog.canceled.connect(runner.cancel)
    for signal in (runner.finished, runner.failed, runner.cancelled):
        signal.connect(dialog.reset)
    runner.start()
    dialog.show()
    return runner
