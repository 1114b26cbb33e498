"""Starting the viewer: a clean Qt environment, the QApplication, the main window.

PySide6-Essentials is pinned to 6.11.3: 6.12.0 (cp310-abi3 wheel) on CPython 3.11 drops a
reference to ``None`` on every void Qt call and to ``True`` on every ``Signal(bool)``
emission, and the interpreter aborts after a few thousand GUI calls ("deallocating None").
6.11.3, the same wheel type, is clean (checked with 10,000 calls of each);
tests/gui keeps a subprocess regression test for it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from posetool.gui import clean_qt_environment

__all__ = ["create_application", "run_viewer"]


def create_application(argv: list[str] | None = None):
    """The QApplication (created once), after removing cv2's Qt variables."""
    clean_qt_environment()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
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
