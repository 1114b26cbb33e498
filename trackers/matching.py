"""Association costs and the assignment solver (the one module importing ``lap``).

Shape letters: N boxes or tracks on one side, D detections on the other, K matched pairs.
Costs are distances in [0, 1]: ``1 - IoU``, optionally fused with the detection score.
"""

from __future__ import annotations

import lap
import numpy as np


def iou_matrix(boxes_a_xyxy: np.ndarray, boxes_b_xyxy: np.ndarray) -> np.ndarray:
    """Pairwise intersection over union of two sets of boxes, vectorised.

    Args:
        boxes_a_xyxy: (N, 4) boxes in pixels.
        boxes_b_xyxy: (D, 4) boxes in pixels.

    Returns:
        (N, D) float64 IoU in [0, 1]; 0 where the union is empty.
    """
    a = np.asarray(boxes_a_xyxy, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b_xyxy, dtype=np.float64).reshape(-1, 4)
    inter_w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    inter_h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(inter_w, 0.0, None) * np.clip(inter_h, 0.0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0.0, None) * np.clip(a[:, 3] - a[:, 1], 0.0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0.0, None) * np.clip(b[:, 3] - b[:, 1], 0.0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def iou_distance(boxes_a_xyxy: np.ndarray, boxes_b_xyxy: np.ndarray) -> np.ndarray:
    """Cost ``1 - IoU`` between two sets of boxes.

    Args:
        boxes_a_xyxy: (N, 4) boxes in pixels.
        boxes_b_xyxy: (D, 4) boxes in pixels.

    Returns:
        (N, D) float64 costs in [0, 1].
    """
    return 1.0 - iou_matrix(boxes_a_xyxy, boxes_b_xyxy)


def fuse_score(cost: np.ndarray, det_scores: np.ndarray) -> np.ndarray:
    """Fold detection confidence into an IoU cost: ``1 - IoU * score`` (ByteTrack's fuse_score).

    Args:
        cost: (N, D) IoU distances.
        det_scores: (D,) detection scores in [0, 1].

    Returns:
        (N, D) fused costs.
    """
    return 1.0 - (1.0 - cost) * np.asarray(det_scores, dtype=np.float64)[None, :]


def linear_assignment(cost: np.ndarray, thresh: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimum-cost one-to-one matching, refusing pairs that cost more than ``thresh``.

    Args:
        cost: (N, D) cost matrix; either side may be empty.
        thresh: Largest cost a matched pair may have.

    Returns:
        ``(matches, unmatched_rows, unmatched_cols)``: (K, 2) int64 ``[row, col]`` pairs in row
        order, and the int64 indices of the rows and columns left unmatched.
    """
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2:
        raise ValueError(f"cost must be 2-D, got shape {cost.shape}")
    num_rows, num_cols = cost.shape
    if num_rows == 0 or num_cols == 0:
        return (
            np.zeros((0, 2), dtype=np.int64),
            np.arange(num_rows, dtype=np.int64),
            np.arange(num_cols, dtype=np.int64),
        )
    # extend_cost handles rectangular matrices; cost_limit makes lapjv leave a pair unmatched
    # rather than take one above thresh, the same gate ByteTrack applies.
    _, row_to_col, col_to_row = lap.lapjv(cost, extend_cost=True, cost_limit=float(thresh))
    row_to_col = np.asarray(row_to_col, dtype=np.int64)
    col_to_row = np.asarray(col_to_row, dtype=np.int64)
    rows = np.flatnonzero(row_to_col >= 0)
    matches = np.stack([rows, row_to_col[rows]], axis=1).astype(np.int64).reshape(-1, 2)
    return matches, np.flatnonzero(row_to_col < 0), np.flatnonzero(col_to_row < 0)


def greedy_iou_matching(
    boxes_a_xyxy: np.ndarray, boxes_b_xyxy: np.ndarray, min_iou: float
) -> np.ndarray:
    """One-to-one greedy matching by box IoU: the pair with the highest IoU first, then the
    next among the unmatched ones, until no pair reaches ``min_iou`` (not the least-cost
    assignment of :func:`linear_assignment`: a box keeps its best partner).

    Args:
        boxes_a_xyxy: (N, 4) boxes in pixels.
        boxes_b_xyxy: (D, 4) boxes in pixels.
        min_iou: Smallest IoU a match may have.

    Returns:
        (N,) int64 index of each ``a`` box's ``b`` box, -1 where none matched.
    """
    iou = iou_matrix(boxes_a_xyxy, boxes_b_xyxy)
    matched = np.full(len(iou), -1, dtype=np.int64)
    while iou.size and iou.max() >= min_iou:
        a, b = np.unravel_index(int(np.argmax(iou)), iou.shape)
        matched[a] = b
        iou[a, :] = -1.0
        iou[:, b] = -1.0
    return matched
