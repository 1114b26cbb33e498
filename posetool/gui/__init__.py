"""posetool viewer: a PySide6 desktop app to review, correct and export poses.

This package is the only place in posetool that imports PySide6, and only in its widget
modules: ``session``, ``edits``, ``journal``, ``pose_file``, ``uncertainty``, ``track_spans``,
``colors``, ``interpolation``, ``review_queue`` and ``track_events`` are Qt-free and hold all
the logic, so they are tested without Qt. Importing this package itself does not import
PySide6.

cv2 and PySide6 coexistence: the non-headless ``opencv-python`` wheel ships its own Qt
plugins and, when ``cv2`` is imported, points ``QT_QPA_PLATFORM_PLUGIN_PATH`` (and
``QT_QPA_FONTDIR``) into ``cv2/qt``. PySide6 then loads cv2's platform plugins, built
against another Qt, and the QApplication fails to start ("Could not load the Qt platform
plugin"). :func:`clean_qt_environment` removes every Qt variable that points inside the cv2
package; the app calls it right before it creates its QApplication (after cv2 may have been
imported), and tests do the same.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

__all__ = ["clean_qt_environment"]

_LOG = logging.getLogger(__name__)

#: Variables opencv-python sets (or that may point into its bundled Qt).
QT_PATH_VARIABLES: tuple[str, ...] = (
    "QT_QPA_PLATFORM_PLUGIN_PATH",
    "QT_PLUGIN_PATH",
    "QT_QPA_FONTDIR",
)


def _cv2_dirs() -> list[Path]:
    """Folders of the installed cv2 package, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("cv2")
    if spec is None or not spec.submodule_search_locations:
        return []
    return [Path(p).resolve() for p in spec.submodule_search_locations]


def clean_qt_environment(environ: os._Environ | dict | None = None) -> list[str]:
    """Remove Qt path variables that point into the cv2 package.

    Args:
        environ: the environment to clean (defaults to ``os.environ``).

    Returns:
        The names of the variables removed.
    """
    env = os.environ if environ is None else environ
    cv2_dirs = _cv2_dirs()
    removed = []
    for name in QT_PATH_VARIABLES:
        value = env.get(name)
        if not value:
            continue
        parts = [Path(p).resolve() for p in value.split(os.pathsep) if p]
        if any(d == p or d in p.parents for p in parts for d in cv2_dirs) or "cv2" in value:
            del env[name]
            removed.append(name)
    if removed:
        _LOG.debug("removed cv2's Qt variables %s", removed)
    return removed
