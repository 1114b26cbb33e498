"""Render a zoomed, gridded view of a frame for hand-labelling keypoints, with the labels so far.

The labels of ``bench/own_video_labels/`` were made with this by looking at the frames only
(no model's output is drawn or read). A person's keypoints are read off the grid, whose ticks
are in the frame's own pixels, then checked on an overlay of the labels and corrected.

Label file (one per frame, JSON)::

    {"image": "crosswalk_000096.png",
     "persons": [{"track_id": 1, "description": "white shirt, left edge",
                  "head_box": [x1, y1, x2, y2],
                  "keypoints": {"nose": [x, y], "left_wrist": null, ...}}],
     "ignore_regions": [[[x, y], [x, y], [x, y], ...]]}

``left_*`` is the person's own left. A joint is ``null`` when it is out of the frame or its
place cannot be told within about a head's width.

Usage::

    python bench/label_grid.py FRAME.png --box X0 Y0 X1 Y1 --scale 4 --step 10 -o view.png
    python bench/label_grid.py FRAME.png --labels FRAME.json --box ... -o check.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from diffpose.keypoints import KEYPOINT_NAMES

#: The 15 joints PoseTrack labels, in its slot order (KEYPOINT_NAMES without the ears).
JOINTS = tuple(name for name in KEYPOINT_NAMES if not name.endswith("_ear"))
SHORT = {
    "nose": "N",
    "head_bottom": "NK",
    "head_top": "HT",
    "left_shoulder": "LS",
    "right_shoulder": "RS",
    "left_elbow": "LE",
    "right_elbow": "RE",
    "left_wrist": "LW",
    "right_wrist": "RW",
    "left_hip": "LH",
    "right_hip": "RH",
    "left_knee": "LK",
    "right_knee": "RK",
    "left_ankle": "LA",
    "right_ankle": "RA",
}
BONES = (
    ("head_top", "head_bottom"),
    ("head_bottom", "left_shoulder"),
    ("head_bottom", "right_shoulder"),
    ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"),
    ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_hip"),
    ("left_hip", "right_hip"),
    ("left_hip", "left_knee"),
    ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"),
    ("right_knee", "right_ankle"),
)
LEFT_BGR, RIGHT_BGR, MID_BGR = (255, 128, 0), (0, 0, 255), (0, 220, 0)


def _side_colour(name: str) -> tuple[int, int, int]:
    if name.startswith("left"):
        return LEFT_BGR
    if name.startswith("right"):
        return RIGHT_BGR
    return MID_BGR


def render(
    frame_bgr: np.ndarray,
    box_xyxy: tuple[int, int, int, int],
    scale: float,
    step_px: int,
    labels: dict | None,
) -> np.ndarray:
    """The box of the frame, upscaled by ``scale``, with a grid every ``step_px`` frame pixels
    (coordinates written on the top and left margins) and the labels drawn on it."""
    h, w = frame_bgr.shape[:2]
    x0, y0 = max(0, box_xyxy[0]), max(0, box_xyxy[1])
    x1, y1 = min(w, box_xyxy[2]), min(h, box_xyxy[3])
    crop = frame_bgr[y0:y1, x0:x1]
    view = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    margin = 44
    canvas = np.full((view.shape[0] + margin, view.shape[1] + margin, 3), 255, np.uint8)
    canvas[margin:, margin:] = view

    def to_view(x: float, y: float) -> tuple[int, int]:
        return int(round((x - x0) * scale)) + margin, int(round((y - y0) * scale)) + margin

    overlay = canvas.copy()
    for gx in range((x0 // step_px + 1) * step_px, x1, step_px):
        vx, _ = to_view(gx, y0)
        major = gx % (step_px * 5) == 0
        cv2.line(overlay, (vx, margin), (vx, canvas.shape[0]), (0, 255, 255), 2 if major else 1)
        cv2.putText(canvas, str(gx), (vx - 14, 28 if major else 14), 0, 0.4, (0, 0, 0), 1)
    for gy in range((y0 // step_px + 1) * step_px, y1, step_px):
        _, vy = to_view(x0, gy)
        major = gy % (step_px * 5) == 0
        cv2.line(overlay, (margin, vy), (canvas.shape[1], vy), (0, 255, 255), 2 if major else 1)
        cv2.putText(canvas, str(gy), (2 if major else 14, vy + 4), 0, 0.4, (0, 0, 0), 1)
    canvas = cv2.addWeighted(overlay, 0.35, canvas, 0.65, 0)

    for person in (labels or {}).get("persons", []):
        kp = {k: v for k, v in person.get("keypoints", {}).items() if v is not None}
        for a, b in BONES:
            if a in kp and b in kp:
                cv2.line(canvas, to_view(*kp[a]), to_view(*kp[b]), _side_colour(b), 1)
        for name, (x, y) in kp.items():
            p = to_view(x, y)
            cv2.circle(canvas, p, 3, _side_colour(name), -1)
            cv2.putText(
                canvas, SHORT.get(name, name), (p[0] + 4, p[1] - 4), 0, 0.4, _side_colour(name), 1
            )
        if person.get("head_box"):
            hx1, hy1, hx2, hy2 = person["head_box"]
            cv2.rectangle(canvas, to_view(hx1, hy1), to_view(hx2, hy2), MID_BGR, 1)
        if kp:
            first = next(iter(kp.values()))
            cv2.putText(
                canvas,
                f"id {person.get('track_id')}",
                to_view(first[0], first[1] - 12),
                0,
                0.5,
                (255, 0, 255),
                1,
            )
    for region in (labels or {}).get("ignore_regions", []):
        pts = np.array([to_view(x, y) for x, y in region], np.int32)
        cv2.polylines(canvas, [pts], True, (128, 128, 128), 2)
    return canvas


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("frame", type=Path)
    ap.add_argument("--box", type=int, nargs=4, metavar=("X0", "Y0", "X1", "Y1"))
    ap.add_argument("--scale", type=float, default=2.0)
    ap.add_argument("--step", type=int, default=20, help="grid step in frame pixels")
    ap.add_argument("--labels", type=Path, help="a label file to draw")
    ap.add_argument("-o", "--out", type=Path, required=True)
    args = ap.parse_args()
    frame = cv2.imread(str(args.frame))
    if frame is None:
        raise SystemExit(f"{args.frame}: not an image")
    box = tuple(args.box) if args.box else (0, 0, frame.shape[1], frame.shape[0])
    labels = json.loads(args.labels.read_text()) if args.labels else None
    cv2.imwrite(str(args.out), render(frame, box, args.scale, args.step, labels))


if __name__ == "__main__":
    main()
