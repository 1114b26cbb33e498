"""PoseTrack JSON objects (2018/2021 per-video files, the 2017 annolist) from the neutral
:class:`~diffpose.posetrack_format.PoseTrackVideo` that :mod:`diffpose.posetrack_format` reads.

Nothing is written to disk here (the app writes atomically). Shape letters: N persons,
K = 17 keypoints.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from diffpose.keypoints import KEYPOINT_NAMES, POSETRACK17_TO_POSETRACK, SKELETON_1BASED
from diffpose.posetrack_format import PoseTrackVideo

__all__ = ["to_posetrack17", "to_posetrack18"]


def _num(x: float) -> float | int:
    """JSON number: ints stay ints so files stay compact and diffable."""
    xf = float(x)
    return int(xf) if xf.is_integer() and abs(xf) < 2**53 else xf


def to_posetrack18(video: PoseTrackVideo, fmt: str = "2018") -> dict:
    """The PoseTrack 2018 (or 2021, adding ``person_id``) JSON object of a video.

    Every frame is written, persons or not; annotation ids default to
    ``image_id * 100 + person index`` as poseval's converter does.
    """
    if fmt not in ("2018", "2021"):
        raise ValueError(f"fmt must be '2018' or '2021', got {fmt!r}")
    images, annotations = [], []
    for fr in video.frames:
        img = {
            **fr.image_extras,
            "id": fr.image_id,
            "file_name": fr.file_name,
            "frame_id": fr.image_id,
            "vid_id": video.vid_id,
            "nframes": video.num_frames,
            "is_labeled": bool(fr.is_labeled),
        }
        if fmt == "2021":
            img["has_labeled_person"] = bool(fr.num_persons)
        if fr.ignore_regions:
            img["ignore_regions_x"] = [[_num(v) for v in p[:, 0]] for p in fr.ignore_regions]
            img["ignore_regions_y"] = [[_num(v) for v in p[:, 1]] for p in fr.ignore_regions]
        images.append(img)
        for p in range(fr.num_persons):
            ann: dict[str, Any] = dict(fr.person_extras[p]) if fr.person_extras else {}
            ann_id = (
                int(fr.annotation_ids[p]) if fr.annotation_ids[p] >= 0 else fr.image_id * 100 + p
            )
            ann.update(
                id=ann_id,
                image_id=fr.image_id,
                category_id=1,
                track_id=int(fr.track_ids[p]),
                keypoints=[_num(v) for v in fr.keypoints[p].reshape(-1)],
            )
            if fmt == "2021":
                ann.setdefault("person_id", int(fr.track_ids[p]))
            for key, arr in (("bbox", fr.boxes_xywh), ("bbox_head", fr.head_boxes_xywh)):
                if np.all(np.isfinite(arr[p])):
                    ann[key] = [_num(v) for v in arr[p]]
            if np.any(np.isfinite(fr.keypoint_scores[p])):
                ann["scores"] = [_num(v) for v in np.nan_to_num(fr.keypoint_scores[p], nan=0.0)]
            if np.isfinite(fr.person_scores[p]):
                ann["score"] = _num(fr.person_scores[p])
            annotations.append(ann)
    categories = [
        {
            "supercategory": "person",
            "id": 1,
            "name": "person",
            "keypoints": list(KEYPOINT_NAMES),
            "skeleton": [list(e) for e in SKELETON_1BASED],
        }
    ]
    return {"images": images, "annotations": annotations, "categories": categories}


def to_posetrack17(video: PoseTrackVideo) -> dict:
    """The PoseTrack 2017 annolist JSON object of a video (ears are dropped: no 2017 id)."""
    slot_to_id = {slot: jid for jid, slot in POSETRACK17_TO_POSETRACK.items()}
    annolist = []
    for idx, fr in enumerate(video.frames):
        present = fr.present()
        rects = []
        for p in range(fr.num_persons):
            points = []
            for jid in range(15):
                slot = POSETRACK17_TO_POSETRACK[jid]
                if not present[p, slot]:
                    continue
                x, y, v = fr.keypoints[p, slot]
                pt = {"id": [jid], "x": [_num(x)], "y": [_num(y)], "is_visible": [_num(v)]}
                if np.isfinite(fr.keypoint_scores[p, slot]):
                    pt["score"] = [_num(fr.keypoint_scores[p, slot])]
                points.append(pt)
            points.sort(key=lambda pt: slot_to_id[POSETRACK17_TO_POSETRACK[pt["id"][0]]])
            rect: dict[str, Any] = {
                "track_id": [int(fr.track_ids[p])],
                "annopoints": [{"point": points}],
            }
            hb = fr.head_boxes_xywh[p]
            if np.all(np.isfinite(hb)):
                rect.update(
                    x1=[_num(hb[0])],
                    y1=[_num(hb[1])],
                    x2=[_num(hb[0] + hb[2])],
                    y2=[_num(hb[1] + hb[3])],
                )
            if np.isfinite(fr.person_scores[p]):
                rect["score"] = [_num(fr.person_scores[p])]
            rects.append(rect)
        entry: dict[str, Any] = {
            "image": [{"name": fr.file_name}],
            "imgnum": [idx + 1],
            "is_labeled": [int(fr.is_labeled)],
            "annorect": rects,
        }
        if fr.ignore_regions:
            entry["ignore_regions"] = [
                {"point": [{"x": [_num(x)], "y": [_num(y)]} for x, y in poly]}
                for poly in fr.ignore_regions
            ]
        annolist.append(entry)
    return {"annolist": annolist}
