"""Synthetic scenes for tracker tests: people as boxes moving at constant velocity."""

from __future__ import annotations

import numpy as np


def person_box_xyxy(
    centre_x: float, centre_y: float, width: float = 40.0, height: float = 100.0
) -> np.ndarray:
    """(4,) box of a person centred at (centre_x, centre_y), in pixels."""
    return np.array(
        [centre_x - width / 2, centre_y - height / 2, centre_x + width / 2, centre_y + height / 2]
    )


def frame(*boxes: np.ndarray, scores: list[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(N, 4) boxes and (N,) scores of one frame (score 0.9 unless given)."""
    boxes_xyxy = np.stack(boxes) if boxes else np.zeros((0, 4))
    det_scores = np.full(len(boxes), 0.9) if scores is None else np.asarray(scores, float)
    return boxes_xyxy, det_scores
