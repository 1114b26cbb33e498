"""The detector's default weights, re-exported from their one home, :mod:`diffpose.yolo_weights`.

Kept for the modules that still import it from here (``posetool.cli``, ``posetool.pipeline``);
new code imports :mod:`diffpose.yolo_weights`.
"""

from __future__ import annotations

from diffpose.yolo_weights import (
    YOLO_WEIGHTS_SHA256 as DEFAULT_WEIGHTS_SHA256,
)
from diffpose.yolo_weights import (
    WeightsError,
    default_weights_path,
    sha256_of,
    verify_weights,
)

__all__ = [
    "DEFAULT_WEIGHTS_SHA256", "WeightsError", "default_weights_path", "sha256_of",
    "verify_weights",
]  # fmt: skip
