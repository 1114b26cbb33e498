"""Starting the viewer: a clean Qt environment, the QApplication, the main window.

PySide6 6.12.0 (the cp310-abi3 wheel) on CPython 3.11 drops a reference to ``None`` on every
call of a void method and to ``True`` on every signal emission (measured: 100 calls of
``QAction.setEnabled`` lower ``sys.getrefcount(None)`` by 100). From 3.12 on these singletons
are immortal and the missing increfs are harmless; on 3.11 their counts reach zero after a few
thousand GUI calls and the interpreter aborts ("deallocating None/True"). Until PySide6 or
the Python version changes, :func:`guard_singleton_refcounts` lifts their counts far out of
reach (what 3.12 does by design) before the QApplication starts.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from pathlib import Path

from posetool.gui import clean_qt_environment

__all__ = ["create_application", "guard_singleton_refcounts", "run_viewer"]

_LOG = logging.getLogger(__name__)
_HEADROOM = 1 << 48


def guard_singleton_refcounts() -> bool:
    """On CPython < 3.12, add 2**48 to the reference counts of None, True and False so that
    PySide6's missing increfs (see module docstring) can never free them. Returns whether it
    did anything; idempotent enough (each call only adds headroom)."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    for obj in (None, True, False):
        # ob_refcnt is the first field of every PyObject in release builds of CPython 3.11.
        ctypes.c_ssize_t.from_address(id(obj)).value += _HEADROOM
    _LOG.debug("raised refcounts of None/True/False (PySide6 refcount workaround)")
    return True


def create_application(argv: list[str] | None = None):
    """The QApplication (created once), after removing cv2's Qt variables."""
    clean_qt_environment()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        guard_singleton_refcounts()
        app = QApplication(argv if argv is not None else sys.argv[:1])
        app.setOrganizationName("posetool")
        app.setApplicationName("posetool viewer")
    return app


def run_viewer(video: str | Path | None = None, poses: str | Path | None = None) -> int:
    """Open the viewer (on ``video`` and ``poses`` if given) and run until it closes."""
    app = create_application()
    from posetool.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    if video is not None:
        window.open_input(video, poses)
    return app.exec()
