"""Flip agreement of the pseudo-label teacher: which of its joints it also finds in the mirror.

The teacher (YOLO11n-pose) run on a frame and on its horizontal mirror gives two poses of each
person; where the mirrored run, mapped back (x -> W - x, left and right swapped), puts a joint
far from the first run's, the teacher is unsure of that joint and it is better left unlabelled.
On LSP train (real labels, 11,700 joints; ``python bench/teacher_agreement_lsp.py``) the
teacher's joints scored >= 0.5 are right (PCKh@0.5) 75.6% of the time; those that also agree
within 0.05 box heights, 83.5% (82.8% of the joints kept); the joints that filter drops were
right 30% of the time. A refiner trained on labels so filtered was no better on validation
(resources/MODEL_CARD.md, Levers): ``make train`` does not use it.
"""

from __future__ import annotations

import numpy as np

from trackers.matching import greedy_iou_matching

#: COCO-17 slot order after a horizontal flip: ``mirrored[k] = original[COCO17_FLIP[k]]``.
COCO17_FLIP: tuple[int, ...] = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)


def flip_distances(det, det_mirrored, frame_width_px: int, min_iou: float = 0.5) -> np.ndarray:
    """(N, 17) float: how far the mirrored run puts each of ``det``'s COCO joints, in the
    person's box heights; inf for a person no mirrored person pairs with.

    Args:
        det: :class:`posetool.run.detector.Detections` of the frame.
        det_mirrored: Detections of the frame mirrored left-right.
        frame_width_px: The frame's width (the mirror's axis).
        min_iou: Smallest box IoU that makes a mirrored person the same person. Persons are
            paired greedily by IoU, one to one (:func:`trackers.matching.greedy_iou_matching`).
    """
    distances = np.full((len(det), len(COCO17_FLIP)), np.inf)
    back = det_mirrored.boxes_xyxy.astype(np.float64).copy()
    back[:, [0, 2]] = frame_width_px - back[:, [2, 0]]
    partner = greedy_iou_matching(det.boxes_xyxy, back, min_iou)
    for i, j in enumerate(partner):
        if j < 0:
            continue
        mirrored_xy = det_mirrored.keypoints_xy[j][list(COCO17_FLIP)].astype(np.float64)
        mirrored_xy[:, 0] = frame_width_px - mirrored_xy[:, 0]
        height_px = max(float(det.boxes_xyxy[i, 3] - det.boxes_xyxy[i, 1]), 1.0)
        distances[i] = np.linalg.norm(mirrored_xy - det.keypoints_xy[i], axis=1) / height_px
    return distances


def flip_agreement(
    det, det_mirrored, frame_width_px: int, max_distance_box_heights: float, min_iou: float = 0.5
) -> np.ndarray:
    """(N, 17) bool: whether each of ``det``'s COCO joints agrees with the mirrored run's,
    i.e. lies within ``max_distance_box_heights`` of it (:func:`flip_distances`); a person
    without a mirrored partner agrees on no joint."""
    distances = flip_distances(det, det_mirrored, frame_width_px, min_iou)
    return distances <= max_distance_box_heights
