"""Per-joint average precision, as poseval's ``computeRPC`` and ``VOCap``."""

from __future__ import annotations

import numpy as np


def precision_recall(scores: np.ndarray, hits: np.ndarray, num_positives: float):
    """Precision and recall after each detection, in poseval's descending-score order.

    The order is ``argsort()[::-1]`` exactly as poseval, so ties break identically.
    """
    order = np.asarray(scores, dtype=np.float64).argsort()[::-1]
    tp = np.cumsum(np.asarray(hits, dtype=np.int64)[order])
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = tp / np.float64(num_positives)
        precision = tp / np.arange(1, len(order) + 1, dtype=np.float64)
    return precision, recall


def voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the monotone precision envelope (VOC style)."""
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mrec = np.concatenate([[0.0], recall, [1.0]])
    # poseval's backward loop mpre[i] = max(mpre[i], mpre[i + 1]), as one running maximum
    # (exact: max picks one of its inputs; precision is never NaN)
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    idx = np.flatnonzero(~np.equal(mrec[1:], mrec[:-1])) + 1
    return float(np.sum((mrec[idx] - mrec[idx - 1]) * mpre[idx]))


def joint_ap(
    scores: np.ndarray, hits: np.ndarray, num_positives: float
) -> tuple[float, float, float]:
    """(AP, final precision, final recall), each x100; zeros when there are no detections."""
    if len(scores) == 0:
        return 0.0, 0.0, 0.0
    precision, recall = precision_recall(scores, hits, num_positives)
    return voc_ap(recall, precision) * 100, precision[-1] * 100, recall[-1] * 100
