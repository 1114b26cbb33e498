"""When a joint counts as uncertain: the thresholds on ensemble spread and score.

Qt-free. Shape letters: N persons, K keypoints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posetool.records import FrameRecord

__all__ = ["UncertaintyThresholds"]


@dataclass(frozen=True)
class UncertaintyThresholds:
    """When a visible joint counts as uncertain.

    Attributes:
        spread_px: ensemble spread above this (pixels) is uncertain.
        min_score: a score below this is uncertain.
    """

    spread_px: float = 8.0
    min_score: float = 0.3

    def __post_init__(self) -> None:
        if not self.spread_px > 0:
            raise ValueError(f"spread_px must be > 0, got {self.spread_px}")
        if not 0 <= self.min_score <= 1:
            raise ValueError(f"min_score must be in [0, 1], got {self.min_score}")

    def mask(self, record: FrameRecord) -> np.ndarray:
        """(N, K) bool, visible joints of ``record`` that are uncertain."""
        spread = np.nan_to_num(record.keypoint_spread_px, nan=0.0)
        bad = (spread > self.spread_px) | (record.keypoint_scores < self.min_score)
        return bad & record.keypoint_visible
