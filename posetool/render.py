"""Overlay video: person boxes, track ids and skeletons drawn with OpenCV (our own drawing).

Colours are a function of the track id, so a person keeps its colour across frames and
videos. Joints scoring below ``min_score`` (and joints not visible) are not drawn.
"""

from __future__ import annotations

import colorsys
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from diffpose.keypoints import SKELETON
from posetool.records import FrameRecord, VideoResult
from posetool.smoothing import SmoothingConfig, smooth_result

__all__ = ["draw_frame", "render_video", "track_color_bgr"]

logger = logging.getLogger(__name__)


def track_color_bgr(track_id: int) -> tuple[int, int, int]:
    """A distinct, stable colour per track id (golden-ratio hue steps)."""
    hue = (int(track_id) * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 1.0)
    return int(b * 255), int(g * 255), int(r * 255)


def draw_frame(frame_bgr: np.ndarray, record: FrameRecord, min_score: float = 0.1) -> np.ndarray:
    """A copy of ``frame_bgr`` with the record's persons drawn on it."""
    out = frame_bgr.copy()
    thick = max(1, round(max(out.shape[:2]) / 500))
    for p in range(record.num_persons):
        color = track_color_bgr(int(record.track_ids[p]))
        x1, y1, x2, y2 = (int(round(v)) for v in record.boxes_xyxy[p])
        cv2.rectangle(out, (x1, y1), (x2, y2), color, thick)
        label = f"id {int(record.track_ids[p])}"
        scale = 0.4 * thick + 0.1
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        cv2.rectangle(out, (x1, max(0, y1 - th - 4)), (x1 + tw + 2, y1), color, -1)
        cv2.putText(out, label, (x1 + 1, max(th, y1 - 3)), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (0, 0, 0), thick, cv2.LINE_AA)  # fmt: skip
        ok = record.keypoint_visible[p] & (record.keypoint_scores[p] >= min_score)
        pts = record.keypoints_xy[p]
        for a, b in SKELETON:
            if ok[a] and ok[b]:
                pa = tuple(int(round(v)) for v in pts[a])
                pb = tuple(int(round(v)) for v in pts[b])
                cv2.line(out, pa, pb, color, thick + 1, cv2.LINE_AA)
        for k in np.flatnonzero(ok):
            cv2.circle(out, tuple(int(round(v)) for v in pts[k]), thick + 2, (255, 255, 255),
                       -1, cv2.LINE_AA)  # fmt: skip
    return out


def render_video(
    video_path: str | Path, result: VideoResult, out_path: str | Path,
    progress: Callable[[int, int], None] | None = None, min_score: float = 0.1,
    max_frames: int = 0, smoothing: SmoothingConfig | None = None,
) -> Path:  # fmt: skip
    """Draw ``result`` over the frames of ``video_path`` into an mp4, atomically.

    Frames are streamed (one at a time); frames the result has no record for are written
    undrawn; ``max_frames`` > 0 stops after that many. The file appears only once complete.
    ``smoothing``: the poses are smoothed over time before drawing (human edits kept).

    Raises:
        VideoOpenError: The video cannot be opened.
        OSError: The output cannot be written.
    """
    from posetool.video_io import VideoReader

    if smoothing is not None:
        result = smooth_result(result, smoothing)
    out_path = Path(out_path)
    fd, tmp = tempfile.mkstemp(prefix=f".{out_path.stem}.", suffix=".tmp.mp4",
                               dir=out_path.parent)  # fmt: skip
    os.close(fd)
    writer = None
    try:
        fps = result.meta.fps
        with VideoReader(video_path, image_fps=fps) as reader:
            size = (reader.probe.width, reader.probe.height)
            writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
            if not writer.isOpened():
                raise OSError(f"cannot open a video writer for '{out_path}'")
            n = len(result.frames)
            for frame in reader:
                if max_frames and frame.frame_index >= max_frames:
                    break
                img = frame.frame_bgr
                if frame.frame_index < n:
                    img = draw_frame(img, result.frames[frame.frame_index], min_score)
                if img.shape[1::-1] != size:
                    img = cv2.resize(img, size)
                writer.write(img)
                if progress is not None:
                    progress(min(frame.frame_index + 1, n), n)
        writer.release()
        writer = None
        os.replace(tmp, out_path)
    except BaseException:
        if writer is not None:
            writer.release()
        Path(tmp).unlink(missing_ok=True)
        raise
    return out_path
