"""COCO-style keypoint JSON (``images``, ``annotations`` with flat ``keypoints``) in any of the
layouts of :mod:`diffpose.keypoints`; each person becomes a static clip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from diffpose.data.samples import PoseSample
from diffpose.keypoints import LAYOUT_MAPS, to_posetrack


def load_coco_keypoints(
    json_path: str | Path,
    image_root: str | Path,
    layout: str = "coco17",
    delta: int = 2,
    min_joints: int = 3,
) -> list[PoseSample]:
    """Samples of a COCO-style keypoint file whose joints follow ``layout``."""
    json_path = Path(json_path)
    data = json.loads(json_path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "annotations" not in data:
        raise ValueError(f"{json_path}: not a COCO-style keypoint file (no 'annotations')")
    n_src = max(LAYOUT_MAPS[layout]) + 1
    images = {im["id"]: im for im in data.get("images", [])}
    samples = []
    for a_idx, ann in enumerate(data.get("annotations", [])):
        im = images.get(ann.get("image_id"))
        if im is None or ann.get("iscrowd", 0):
            continue
        flat = np.asarray(ann.get("keypoints", []), dtype=np.float64)
        if flat.size % 3 or flat.size // 3 < n_src:
            raise ValueError(
                f"{json_path}: annotations[{a_idx}].keypoints: {flat.size // 3} joints for layout {layout}"
            )
        src = flat.reshape(-1, 3)
        kp, w = to_posetrack(layout, src[:, :2], valid=src[:, 2] > 0)
        if w.sum() < min_joints or "bbox" not in ann:
            continue
        x, y, bw, bh = ann["bbox"]
        path = str(Path(image_root) / im["file_name"])
        samples.append(
            PoseSample(
                (path,) * (2 * delta + 1),
                kp,
                w,
                np.array([x, y, x + bw, y + bh], float),
                static=True,
                source=json_path.stem,
            )
        )
    return samples
