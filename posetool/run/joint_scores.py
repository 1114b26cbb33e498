"""A joint's score in a refined pose: the refined heatmaps' peak with the detector's own
confidence of that joint mixed in.

The paper scores a joint by its heatmap peak × the box score (§4.1 test rules). A refiner is
also handed the detector's confidence of each joint (the prior's keypoint score), which says
what the peak alone does not: whether the detector saw that joint at all (occluded, blurred,
cut off by the frame). PoseTrack's AP ranks every prediction of a joint by this score, so a
joint the detector barely saw should rank below one it saw well, wherever the refiner put it.

Shape letters: N persons, K keypoints.
"""

from __future__ import annotations

import numpy as np

__all__ = ["joint_scores"]


def joint_scores(peak: np.ndarray, prior_scores: np.ndarray, prior_weight: float) -> np.ndarray:
    """(N, K) ``peak^(1 − w) × prior^w`` with ``w = prior_weight``, a weighted geometric mean
    of the two confidences; a joint the prior lacks (score 0: head_top and neck, which COCO
    has not) keeps its peak.

    Args:
        peak: (N, K) refined heatmap peaks in [0, 1].
        prior_scores: (N, K) the prior's keypoint confidences in [0, 1] (0: no such joint).
        prior_weight: w in [0, 1]; 0 gives the peak (the paper's rule), 1 the prior's score.
    """
    if not 0.0 <= prior_weight <= 1.0:
        raise ValueError(f"prior_weight must be in [0, 1], got {prior_weight}")
    peak = np.asarray(peak, np.float32)
    prior = np.asarray(prior_scores, np.float32)
    if peak.shape != prior.shape:
        raise ValueError(f"peak {peak.shape} and prior_scores {prior.shape} differ in shape")
    if prior_weight == 0.0:
        return peak
    mixed = peak ** (1.0 - prior_weight) * np.where(prior > 0, prior, 1.0) ** prior_weight
    return np.where(prior > 0, mixed, peak).astype(np.float32)
