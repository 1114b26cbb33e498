"""Test helpers: TrackedFrame from loose columns (the detector's keypoints absent unless given),
and folders of unrelated photos of one size."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from posetool.run.tracked_frames import TrackedFrame


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


def same_size_photos(shared_data: Path, folder: Path, count: int, size_wh: tuple[int, int]):
    """``count`` of the shared COCO photos written into ``folder`` at one size (unrelated
    photos that share a size, as many COCO photos do); skipped (failed in CI) without them."""
    import cv2

    from tests.required import missing_input

    coco = shared_data / "images" / "coco_val2014_people"
    if not coco.is_dir():
        missing_input(f"{coco} is absent")
    folder.mkdir(parents=True)
    for src in sorted(coco.glob("*.jpg"))[:count]:
        cv2.imwrite(str(folder / src.name), cv2.resize(cv2.imread(str(src)), size_wh))
    return folder
