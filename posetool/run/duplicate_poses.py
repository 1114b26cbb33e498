"""Duplicate poses in one frame: two detector boxes on one person (a sliver beside the
person, or a box holding the person and some background) give two crops whose poses land
on the same body. Such a pair is told apart from two real, overlapping persons by how alike
the two poses are (object keypoint similarity, OKS), not by how much the boxes overlap,
which a sliver's box barely does; of a pair alike above a threshold the lower-scored pose is
dropped (pose-level NMS, as top-down pose estimators do).

Shape letters: N persons, K keypoints (17 PoseTrack slots).
"""

from __future__ import annotations

import numpy as np

__all__ = ["OKS_SIGMAS", "distinct_pose_rows", "pose_similarity", "pose_similarity_matrix"]

#: COCO's per-keypoint OKS sigmas laid on the PoseTrack slots by index: the nose's 0.026;
#: head_bottom and head_top the eyes' 0.025 (COCO has neither: the tightest head sigma);
#: the ear placeholders the ears' 0.035; the twelve limb joints their own.
OKS_SIGMAS = np.array(
    [0.026, 0.025, 0.025, 0.035, 0.035]
    + [0.079, 0.079, 0.072, 0.072, 0.062, 0.062]
    + [0.107, 0.107, 0.087, 0.087, 0.089, 0.089],
    np.float64,
)


def pose_similarity_matrix(
    keypoints_xy: np.ndarray, keypoint_visible: np.ndarray, boxes_xyxy: np.ndarray
) -> np.ndarray:
    """(N, N) OKS of every pair of poses: the mean over the joints visible in both of
    exp(-d² / (2 (2σ)² area)), the area the larger of the two boxes' (px²); 0 where no joint
    is visible in both, the area is 0 or a coordinate is not finite.

    Args:
        keypoints_xy: (N, K, 2) image px.
        keypoint_visible: (N, K) bool.
        boxes_xyxy: (N, 4) image px.
    """
    xy = np.asarray(keypoints_xy, np.float64)
    visible = np.asarray(keypoint_visible, bool) & np.isfinite(xy).all(axis=2)
    boxes = np.asarray(boxes_xyxy, np.float64).reshape(-1, 4)
    wh = np.clip(boxes[:, 2:] - boxes[:, :2], 0.0, None)
    area = wh[:, 0] * wh[:, 1]
    pair_area = np.maximum(area[:, None], area[None, :])  # (N, N)
    d2 = np.sum((xy[:, None] - xy[None, :]) ** 2, axis=3)  # (N, N, K)
    both = visible[:, None] & visible[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        e = d2 / (2.0 * (2.0 * OKS_SIGMAS) ** 2 * pair_area[..., None])
        terms = np.where(both, np.exp(-e), 0.0)
    counts = both.sum(axis=2)
    oks = np.where(counts > 0, terms.sum(axis=2) / np.maximum(counts, 1), 0.0)
    return np.where((pair_area > 0) & np.isfinite(oks), oks, 0.0)


def pose_similarity(
    xy_a: np.ndarray, xy_b: np.ndarray, visible: np.ndarray, area_px2: float
) -> float:
    """OKS of pose ``xy_a`` to pose ``xy_b`` ((K, 2) image px) over the ``visible`` (K,)
    joints at the scale of ``area_px2`` (a box area in px²), as
    :func:`pose_similarity_matrix` computes it for a pair."""
    side = float(np.sqrt(max(area_px2, 0.0)))
    box = np.array([[0.0, 0.0, side, side]] * 2)
    vis = np.stack([np.asarray(visible, bool)] * 2)
    return float(pose_similarity_matrix(np.stack([xy_a, xy_b]), vis, box)[0, 1])


def distinct_pose_rows(
    keypoints_xy: np.ndarray,
    keypoint_visible: np.ndarray,
    boxes_xyxy: np.ndarray,
    box_scores: np.ndarray,
    max_similarity: float,
    preferred: np.ndarray | None = None,
) -> np.ndarray:
    """Rows of the persons to keep, in their input order: greedily, the ``preferred`` rows
    first, then by box score (highest first, ties by row), a pose is dropped when its OKS
    (:func:`pose_similarity_matrix`) with a pose already kept exceeds ``max_similarity``.
    ``max_similarity`` 0 (or ≥ 1) keeps every row.

    Args:
        keypoints_xy: (N, K, 2) image px.
        keypoint_visible: (N, K) bool.
        boxes_xyxy: (N, 4) image px.
        box_scores: (N,) detector confidences.
        max_similarity: the OKS above which the lower-ranked of two poses is a duplicate.
        preferred: (N,) bool, rows that win over alike ones whatever their scores (the
            pipeline: tracks posed in the previous frame, so that of two tracks on one
            person the same one keeps the pose from frame to frame); None: none.
    """
    n = len(box_scores)
    if n < 2 or not 0.0 < max_similarity < 1.0:
        return np.arange(n, dtype=np.int64)
    alike = pose_similarity_matrix(keypoints_xy, keypoint_visible, boxes_xyxy) > max_similarity
    first = np.zeros(n, bool) if preferred is None else np.asarray(preferred, bool)
    order = sorted(range(n), key=lambda i: (not first[i], -float(box_scores[i]), i))
    kept: list[int] = []
    for i in order:
        if not any(alike[i, j] for j in kept):
            kept.append(i)
    return np.asarray(sorted(kept), dtype=np.int64)
