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
from posetool.io.smoothing import SmoothingConfig, smooth_result
from posetool.records import FrameRecord, VideoResult

__all__ = ["OverlayWriter", "draw_frame", "render_video", "track_color_bgr"]

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
        cv2.putText(
            out,
            label,
            (x1 + 1, max(th, y1 - 3)),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            (0, 0, 0),
            thick,
            cv2.LINE_AA,
        )
        ok = record.keypoint_visible[p] & (record.keypoint_scores[p] >= min_score)
        pts = record.keypoints_xy[p]
        for a, b in SKELETON:
            if ok[a] and ok[b]:
                pa = tuple(int(round(v)) for v in pts[a])
                pb = tuple(int(round(v)) for v in pts[b])
                cv2.line(out, pa, pb, color, thick + 1, cv2.LINE_AA)
        for k in np.flatnonzero(ok):
            cv2.circle(
                out,
                tuple(int(round(v)) for v in pts[k]),
                thick + 2,
                (255, 255, 255),
                -1,
                cv2.LINE_AA,
            )
    return out


class OverlayWriter:
    """An overlay mp4 written frame by frame, atomically: the file appears only once
    :meth:`commit` is called, with the mode a plain ``open()`` gives (as the JSON beside it);
    leaving the ``with`` block without it removes the temporary file.

    Args:
        out_path: The mp4 to write.
        fps: Frame rate.
        size_wh: (width, height); frames of another size are resized.
        min_score: Joints scoring below this are not drawn.

    Raises:
        OSError: No video writer can be opened in the output folder.
    """

    def __init__(
        self, out_path: str | Path, fps: float, size_wh: tuple[int, int], min_score: float = 0.1
    ) -> None:
        self.out_path = Path(out_path)
        self.size_wh = size_wh
        self.min_score = min_score
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.out_path.stem}.", suffix=".tmp.mp4", dir=self.out_path.parent
        )
        os.close(fd)
        self._tmp: Path | None = Path(tmp)
        self._writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*"mp4v"), fps, size_wh)
        if not self._writer.isOpened():
            self._discard()
            raise OSError(f"cannot open a video writer for '{self.out_path}'")

    def __enter__(self) -> OverlayWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._discard()

    def add(self, frame_bgr: np.ndarray, record: FrameRecord | None) -> None:
        """Append a frame, with ``record``'s persons drawn on it when given."""
        img = frame_bgr if record is None else draw_frame(frame_bgr, record, self.min_score)
        if img.shape[1::-1] != self.size_wh:
            img = cv2.resize(img, self.size_wh)
        self._writer.write(img)

    def commit(self) -> Path:
        """Close the video and rename it into place."""
        from posetool.io.posetrack_io import give_plain_file_mode

        self._writer.release()
        give_plain_file_mode(self._tmp)
        os.replace(self._tmp, self.out_path)
        self._tmp = None
        return self.out_path

    def _discard(self) -> None:
        self._writer.release()  # a no-op once released
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None


def render_video(
    video_path: str | Path,
    result: VideoResult,
    out_path: str | Path,
    progress: Callable[[int, int], None] | None = None,
    min_score: float = 0.1,
    max_frames: int = 0,
    smoothing: SmoothingConfig | None = None,
) -> Path:
    """Draw ``result`` over the frames of ``video_path`` into an mp4, atomically.

    Frames are streamed (one at a time); frames the result has no record for are written
    undrawn; ``max_frames`` > 0 stops after that many. The file appears only once complete.
    ``smoothing``: the poses are smoothed over time before drawing (human edits kept).

    Raises:
        VideoOpenError: The video cannot be opened.
        OSError: The output cannot be written.
    """
    from posetool.io.video_io import VideoReader

    if smoothing is not None:
        result = smooth_result(result, smoothing)
    n = len(result.frames)
    with VideoReader(video_path, image_fps=result.meta.fps) as reader:
        size = (reader.probe.width, reader.probe.height)
        with OverlayWriter(out_path, result.meta.fps, size, min_score) as overlay:
            for frame in reader:
                if max_frames and frame.frame_index >= max_frames:
                    break
                i = frame.frame_index
                overlay.add(frame.frame_bgr, result.frames[i] if i < n else None)
                if progress is not None:
                    progress(min(i + 1, n), n)
            return overlay.commit()
