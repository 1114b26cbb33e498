"""Prediction-to-GT assignment of one frame, as poseval's ``assignGTmulti``.

PCKh matching: a predicted joint hits a GT joint when their distance over the GT head size
(0.6 x head-box diagonal) is at most ``dist_thresh``. Each prediction keeps its best-PCK GT;
each GT then takes the remaining prediction with the highest PCK (none if 0). Shape letters:
P predicted persons, G GT persons, K = 17 slots.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from diffpose.evaluation.frames import EvalFrame, EvaluationInputError
from diffpose.keypoints import NUM_KEYPOINTS


@dataclass(frozen=True, eq=False)
class JointTracking:
    """What the MOT accumulator of one joint sees in one frame."""

    gt_ids: np.ndarray  # (g,) track ids of GT persons with this joint
    pred_ids: np.ndarray  # (p,) track ids of predictions with this joint
    dist: np.ndarray  # (g, p) normalised distance where matched, NaN = no match


@dataclass(frozen=True, eq=False)
class FrameAssignment:
    """Per joint: the (score, hit) pairs this frame adds, its GT count and tracking input."""

    scores: tuple[np.ndarray, ...]  # K arrays
    hits: tuple[np.ndarray, ...]  # K bool arrays
    num_gt: np.ndarray  # (K,) annotated GT joints
    tracking: tuple[JointTracking, ...]  # K entries


def _empty_frame_tracking() -> tuple[JointTracking, ...]:
    # poseval quirk, kept for identical MOTA: a frame with no GT or no prediction feeds the
    # accumulator one GT object (id 0) and one hypothesis (id 0) that cannot match.
    one = JointTracking(np.zeros(1, np.int64), np.zeros(1, np.int64), np.full((1, 1), np.nan))
    return tuple(one for _ in range(NUM_KEYPOINTS))


def assign_frame(
    gt: EvalFrame, pred: EvalFrame, dist_thresh: float = 0.5, where: str = ""
) -> FrameAssignment:
    """Match the predictions of one frame to its GT (see module docstring)."""
    k = NUM_KEYPOINTS
    num_gt = gt.present.sum(axis=0).astype(np.float64)
    if pred.num_persons == 0 or gt.num_persons == 0:
        # All predictions (if any) are false positives.
        scores = tuple(pred.scores[pred.present[:, j], j] for j in range(k))
        hits = tuple(np.zeros(len(s), dtype=bool) for s in scores)
        return FrameAssignment(scores, hits, num_gt, _empty_frame_tracking())

    if np.any(~np.isfinite(gt.head_sizes)):
        raise EvaluationInputError(f"{where}: a ground-truth person has no bbox_head")
    both = pred.present[:, None, :] & gt.present[None, :, :]  # (P, G, K)
    diff = pred.keypoints_xy[:, None] - gt.keypoints_xy[None]  # (P, G, K, 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        dist = np.linalg.norm(diff, axis=-1) / gt.head_sizes[None, :, None]
    dist = np.where(both, dist, np.inf)
    match = dist <= dist_thresh
    n_gt_person = gt.present.sum(axis=1)  # (G,)
    pck = match.sum(axis=2).astype(np.float64)
    pck = np.where(n_gt_person[None] > 0, pck / np.maximum(n_gt_person[None], 1), pck)
    # Each prediction keeps its best GT only; each GT takes its best remaining prediction.
    best_gt = np.argmax(pck, axis=1)
    keep = np.zeros_like(pck, dtype=bool)
    keep[np.arange(len(best_gt)), best_gt] = True
    pck = np.where(keep, pck, 0.0)
    pr_to_gt = np.argmax(pck, axis=0)  # per GT, the chosen prediction
    pr_to_gt[np.max(pck, axis=0) == 0] = -1

    tracking = []
    for j in range(k):
        g_idx = np.flatnonzero(gt.present[:, j])
        p_idx = np.flatnonzero(pred.present[:, j])
        sub = dist[np.ix_(p_idx, g_idx, [j])][..., 0].T  # (g, p)
        ok = match[np.ix_(p_idx, g_idx, [j])][..., 0].T
        tracking.append(
            JointTracking(gt.track_ids[g_idx], pred.track_ids[p_idx], np.where(ok, sub, np.nan))
        )

    score_lists: list[list[float]] = [[] for _ in range(k)]
    hit_lists: list[list[bool]] = [[] for _ in range(k)]
    for p in range(pred.num_persons):
        matched = np.flatnonzero(pr_to_gt == p)
        m = match[p, matched[0]] if len(matched) else np.zeros(k, dtype=bool)
        for j in np.flatnonzero(pred.present[p]):
            score_lists[j].append(pred.scores[p, j])
            hit_lists[j].append(bool(m[j]))
    return FrameAssignment(
        tuple(np.asarray(s, dtype=np.float64) for s in score_lists),
        tuple(np.asarray(h, dtype=bool) for h in hit_lists),
        num_gt,
        tuple(tracking),
    )
