"""COCO keypoints JSON of a video result (loads with ``pycocotools.coco.COCO``).

One COCO image per video frame, one annotation per person with the 17 COCO joints
``[x, y, v, ...]``. PoseTrack and COCO share the nose, shoulders, elbows, wrists, hips, knees
and ankles (the same slot index in both layouts). PoseTrack's ``head_bottom`` (neck) and
``head_top`` have no COCO slot and are left out; COCO's eyes have no PoseTrack joint and the
ears are PoseTrack placeholders, so eyes and ears are written unlabelled (``0, 0, 0``). A
joint present in the result is written ``v = 2`` (PoseTrack does not say whether a labelled
joint is occluded). Qt-free: the viewer calls :func:`coco_dict` as the CLI does.

Beyond COCO's keys each annotation carries ``score`` (the box score; what COCO results
have), ``track_id``, ``keypoint_scores`` and ``keypoint_spread_px`` (17 values in COCO
order, null where unknown) and ``human_edited``; each image ``frame_index`` and
``timestamp_s``. pycocotools ignores them.
"""

from __future__ import annotations

import numpy as np

from diffpose.keypoints import COCO17_KEYPOINT_NAMES, COCO17_SHARED_EVALUATED, SKELETON_1BASED
from diffpose.posetrack_format import frame_id_for
from posetool.records import FrameRecord, VideoResult

__all__ = ["DROPPED_NOTE", "coco_dict"]

DROPPED_NOTE = (
    "PoseTrack's head_bottom (neck) and head_top have no COCO slot and are not exported; "
    "eyes (no PoseTrack joint) and ears (PoseTrack placeholders) are written unlabelled "
    "(v=0); a present joint is v=2 (PoseTrack does not mark occlusion)."
)

#: PoseTrack slots written, each into the same COCO slot.
_SHARED = np.array(COCO17_SHARED_EVALUATED)


def _finite_or_none(values: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in values]


def _person_annotation(fr: FrameRecord, p: int, image_id: int, ann_id: int) -> dict:
    """The COCO annotation of person ``p`` of ``fr``."""
    present = np.zeros(17, bool)
    present[_SHARED] = fr.keypoint_visible[p, _SHARED]
    kp = np.zeros((17, 3))
    kp[_SHARED, :2] = fr.keypoints_xy[p, _SHARED]
    kp[present, 2] = 2
    kp[~present] = 0
    scores = np.full(17, np.nan)
    scores[_SHARED] = fr.keypoint_scores[p, _SHARED]
    spread = np.full(17, np.nan)
    spread[_SHARED] = fr.keypoint_spread_px[p, _SHARED]
    x1, y1, x2, y2 = (float(v) for v in fr.boxes_xyxy[p])
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": 1,
        "keypoints": [round(float(v), 3) for v in kp.reshape(-1)],
        "num_keypoints": int(present.sum()),
        "bbox": [x1, y1, x2 - x1, y2 - y1],
        "area": (x2 - x1) * (y2 - y1),
        "iscrowd": 0,
        "score": float(fr.box_scores[p]),
        "track_id": int(fr.track_ids[p]),
        "keypoint_scores": _finite_or_none(np.where(present, scores, np.nan)),
        "keypoint_spread_px": _finite_or_none(np.where(present, spread, np.nan)),
        "human_edited": bool(fr.human_edited[p]),
    }


def coco_dict(result: VideoResult) -> dict:
    """The COCO keypoints dataset of ``result``: ``info``, ``images``, ``annotations``,
    ``categories``. Image ids are the PoseTrack file's (frame-id rule, else the frame
    index); annotation ids count from 1 (COCOeval treats id 0 as "unmatched")."""
    meta = result.meta
    seq = meta.sequence_name
    images, annotations = [], []
    for fr in result.frames:
        image_id = frame_id_for(seq, fr.frame_index)
        image_id = fr.frame_index if image_id is None else image_id
        images.append(
            {
                "id": image_id,
                "file_name": fr.image_file or f"images/{seq}/{fr.frame_index:06d}.jpg",
                "width": meta.width,
                "height": meta.height,
                "frame_index": fr.frame_index,
                "timestamp_s": fr.timestamp_s,
            }
        )
        for p in range(fr.num_persons):
            annotations.append(_person_annotation(fr, p, image_id, len(annotations) + 1))
    return {
        "info": {
            "description": f"posetool poses of {seq} in COCO keypoints layout. {DROPPED_NOTE}",
            "video": str(meta.path),
            "fps": meta.fps,
        },
        "images": images,
        "annotations": annotations,
        "categories": [
            {
                "id": 1,
                "name": "person",
                "supercategory": "person",
                "keypoints": list(COCO17_KEYPOINT_NAMES),
                "skeleton": [list(pair) for pair in SKELETON_1BASED],  # COCO's own
            }
        ],
    }
