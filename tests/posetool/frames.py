"""Test helper: TrackedFrame from loose columns (the detector's keypoints absent unless given)."""

from __future__ import annotations

import numpy as np

from posetool.tracked_frames import TrackedFrame


def tracked(
    index: int,
    frame_bgr,
    track_ids,
    boxes_xyxy,
    scores,
    keypoints_xy=None,
    keypoint_scores=None,
    fps: float = 30.0,
) -> TrackedFrame:
    ids = np.asarray(track_ids, np.int64).reshape(-1)
    n = len(ids)
    kp = np.zeros((n, 17, 2), np.float32) if keypoints_xy is None else keypoints_xy
    kp_scores = np.zeros((n, 17), np.float32) if keypoint_scores is None else keypoint_scores
    return TrackedFrame(
        index,
        index / fps,
        frame_bgr,
        ids,
        np.asarray(boxes_xyxy, np.float32).reshape(-1, 4),
        np.asarray(scores, np.float32).reshape(-1),
        np.asarray(kp, np.float32),
        np.asarray(kp_scores, np.float32),
    )
