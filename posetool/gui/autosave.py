"""Autosave sidecars: where they live, writing them atomically, and recovery on open.

The sidecar of ``clip.json`` is ``clip.json.autosave.json``, a complete PoseTrack 2018 file
of the session's current result. It is written atomically (temporary file + rename), so a
crash while autosaving leaves the previous sidecar intact. A clean save removes it. On open,
a sidecar newer than the file it shadows (or one whose file was never saved) means the last
session ended without saving: the sidecar is recovered instead of the file.

Qt-free.
"""

from __future__ import annotations

import logging
from pathlib import Path

from posetool.posetrack_io import write_posetrack
from posetool.records import VideoResult

__all__ = ["autosave_path", "recoverable_sidecar", "remove_sidecar", "write_sidecar"]

_LOG = logging.getLogger(__name__)
SUFFIX = ".autosave.json"


def autosave_path(json_path: str | Path) -> Path:
    """The sidecar file of ``json_path``."""
    json_path = Path(json_path)
    return json_path.with_name(json_path.name + SUFFIX)


def write_sidecar(result: VideoResult, json_path: str | Path) -> Path:
    """Write ``result`` to the sidecar of ``json_path`` atomically; returns the sidecar."""
    path = autosave_path(json_path)
    write_posetrack(result, path, fmt="2018")
    _LOG.debug("autosaved %s", path)
    return path


def recoverable_sidecar(json_path: str | Path) -> Path | None:
    """The sidecar to recover from, if it is newer than ``json_path`` (or that is missing)."""
    json_path = Path(json_path)
    side = autosave_path(json_path)
    if not side.is_file():
        return None
    if not json_path.exists() or side.stat().st_mtime_ns > json_path.stat().st_mtime_ns:
        return side
    return None


def remove_sidecar(json_path: str | Path) -> None:
    """Delete the sidecar of ``json_path`` if there is one."""
    autosave_path(json_path).unlink(missing_ok=True)
