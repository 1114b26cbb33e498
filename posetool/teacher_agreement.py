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

from trackers.matching import iou_matrix

#: COCO-17 slot order after a horizontal flip: ``mirrored[k] = original[COCO17_FLIP[k]]``.
COCO17_FLIP: tuple[int, ...] = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)


def flip_agreement(
    det, det_mirrored, frame_width_px: int, max_distance_box_heights: float, min_iou: float = 0.5
) -> np.ndarray:
    """(N, 17) bool: whether each of ``det``'s COCO joints agrees with the mirrored run's.

    Args:
        det: :class:`posetool.detector.Detections` of the frame.
        det_mirrored: Detections of the frame mirrored left-right.
        frame_width_px: The frame's width (the mirror's axis).
        max_distance_box_heights: Largest distance between the two runs' joint, as a share of
            the person's box height, that still counts as agreement.
        min_iou: Smallest box IoU that makes a mirrored person the same person; a person
            without one agrees on no joint. Persons are paired greedily by IoU, one to one.
    """
    n = len(det)
    agree = np.zeros((n, len(COCO17_FLIP)), bool)
    if n == 0 or len(det_mirrored) == 0:
        return agree
    back = det_mirrored.boxes_xyxy.astype(np.float64).copy()
    back[:, [0, 2]] = frame_width_px - back[:, [2, 0]]
    iou = iou_matrix(det.boxes_xyxy, back)
    used_i: set[int] = set()
    used_j: set[int] = set()
    for flat in np.argsort(-iou, axis=None):
        i, j = np.unravel_index(flat, iou.shape)
        if iou[i, j] < min_iou:
            break
        if i in used_i or j in used_j:
            continue
        used_i.add(int(i))
        used_j.add(int(j))
        mirrored_xy = det_mirrored.keypoints_xy[j][list(COCO17_FLIP)].astype(np.float64)
        mirrored_xy[:, 0] = frame_width_px - mirrored_xy[:, 0]
        height_px = max(float(det.boxes_xyxy[i, 3] - det.boxes_xyxy[i, 1]), 1.0)
        distance = np.linalg.norm(mirrored_xy - det.keypoints_xy[i], axis=1) / height_px
        agree[i] = distance <= max_distance_box_heights
    return agree
