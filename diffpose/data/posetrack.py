"""PoseTrack 2017/2018/2021 (official layout: ``<root>/annotations/<split>/*.json`` with image
paths relative to ``<root>``), and pseudo-labelled videos written in the same layout.

Clips are the 2δ+1 frames around each labelled frame, in file order, with the key frame
repeated at sequence ends or where a neighbour's image is missing (as the DCPose/FAMI-Pose
loaders do). Joints are labelled where they exist by poseval's rule; the ear placeholders
never are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from diffpose.data.samples import PoseSample, keypoint_box, window
from diffpose.keypoints import EVALUATED_SLOTS, NUM_KEYPOINTS
from diffpose.posetrack_format import load_posetrack

_EVAL_MASK = np.zeros(NUM_KEYPOINTS, dtype=bool)
_EVAL_MASK[list(EVALUATED_SLOTS)] = True


def load_posetrack_file(
    json_path: str | Path,
    image_root: str | Path,
    delta: int = 2,
    source: str = "posetrack",
    min_joints: int = 3,
) -> list[PoseSample]:
    """Samples of one PoseTrack JSON file; image paths resolved against ``image_root``."""
    video = load_posetrack(json_path)
    image_root = Path(image_root)
    paths = [str(image_root / fr.file_name) for fr in video.frames]
    exists = [Path(p).is_file() for p in paths]
    samples = []
    for idx, fr in enumerate(video.frames):
        if not fr.is_labeled or fr.num_persons == 0 or not exists[idx]:
            continue
        clip = tuple(p if Path(p).is_file() else paths[idx] for p in window(paths, idx, delta))
        present = fr.present() & _EVAL_MASK[None]
        for p in range(fr.num_persons):
            weights = present[p].astype(np.float32)
            if weights.sum() < min_joints:
                continue
            kp = fr.keypoints[p, :, :2].astype(np.float64)
            bbox = fr.boxes_xywh[p]
            if np.all(np.isfinite(bbox)) and bbox[2] > 1 and bbox[3] > 1:
                box = np.array([bbox[0], bbox[1], bbox[0] + bbox[2], bbox[1] + bbox[3]])
            else:
                box = keypoint_box(kp, weights, pad=0.15)
            samples.append(
                PoseSample(clip, kp, weights, box, static=False, source=source, frame_index=idx)
            )
    return samples


def load_posetrack_dataset(
    root: str | Path, split: str = "train", delta: int = 2, source: str = "posetrack"
) -> list[PoseSample]:
    """All samples of ``<root>/annotations/<split>/*.json``."""
    ann_dir = Path(root) / "annotations" / split
    if not ann_dir.is_dir():
        raise FileNotFoundError(f"{ann_dir}: no PoseTrack annotation folder")
    samples: list[PoseSample] = []
    for json_path in sorted(ann_dir.glob("*.json")):
        samples += load_posetrack_file(json_path, root, delta, source)
    return samples
