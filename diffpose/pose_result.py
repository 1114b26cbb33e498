"""The estimator's output record: key-frame poses of a batch of clips, in crop pixels.

Shape letters: B clips (persons), K keypoints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PoseResult:
    """Predicted poses of B clips' key frames, in crop pixels (numpy, float32).

    Attributes:
        keypoints_xy: (B, K, 2) crop pixels, decoded from the ensemble-averaged heatmaps.
        scores: (B, K) heatmap peak in [0, 1].
        spread: (B, K) RMS distance (crop px) of the N members' keypoints to their mean; 0 for N=1.
    """

    keypoints_xy: np.ndarray
    scores: np.ndarray
    spread: np.ndarray

    def __post_init__(self) -> None:
        kp = np.asarray(self.keypoints_xy, dtype=np.float32)
        if kp.ndim != 3 or kp.shape[-1] != 2:
            raise ValueError(f"keypoints_xy must be (B, K, 2), got {kp.shape}")
        for name in ("scores", "spread"):
            arr = np.asarray(getattr(self, name), dtype=np.float32)
            if arr.shape != kp.shape[:2]:
                raise ValueError(f"{name} must be {kp.shape[:2]}, got {arr.shape}")
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "keypoints_xy", kp)
