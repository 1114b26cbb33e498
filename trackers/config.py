"""Configuration of the ByteTrack-style tracker.

Thresholds are detection scores in [0, 1] or IoU distances (1 - IoU) in [0, 1]. The lost-track
buffer is a duration in seconds, turned into frames with the video's frame rate by
:meth:`ByteTrackConfig.buffer_frames`, so one config serves 24, 30 and 50 fps footage alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

_UNIT_INTERVAL_FIELDS = (
    "track_high_thresh",
    "track_low_thresh",
    "new_track_thresh",
    "match_thresh",
    "second_match_thresh",
    "unconfirmed_match_thresh",
    "duplicate_iou_distance",
)


@dataclass(frozen=True)
class ByteTrackConfig:
    """Settings of :class:`trackers.ByteTracker`.

    Defaults follow ultralytics' ``bytetrack.yaml``; the thresholds the original code hard-codes
    are named fields here (``second_match_thresh``, ``unconfirmed_match_thresh``,
    ``duplicate_iou_distance``) and the buffer is in seconds (30 frames at 30 fps = 1 s).

    Attributes:
        track_high_thresh: Detections scoring at least this take part in the first association.
        track_low_thresh: Detections scoring above this (and below ``track_high_thresh``) take part
            in the second association only.
        new_track_thresh: An unmatched high-score detection starts a track only from this score.
        match_thresh: Largest cost (IoU distance, fused with the score when ``fuse_score``)
            accepted in the first association.
        fuse_score: Multiply the IoU by the detection score before the first association and the
            unconfirmed-track association.
        track_buffer_s: How long a lost track may stay unmatched before it is dropped, in seconds.
        second_match_thresh: Largest IoU distance accepted when matching leftover tracked tracks to
            low-score detections (0.5 in ByteTrack).
        unconfirmed_match_thresh: Largest cost accepted when matching tracks seen in one frame only
            to the leftover high-score detections (0.7 in ByteTrack).
        duplicate_iou_distance: A tracked and a lost track closer than this IoU distance are the
            same person; the younger one is dropped (0.15 in ByteTrack).
    """

    track_high_thresh: float = 0.25
    track_low_thresh: float = 0.1
    new_track_thresh: float = 0.25
    match_thresh: float = 0.8
    fuse_score: bool = True
    track_buffer_s: float = 1.0
    second_match_thresh: float = 0.5
    unconfirmed_match_thresh: float = 0.7
    duplicate_iou_distance: float = 0.15

    def __post_init__(self) -> None:
        for name in _UNIT_INTERVAL_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        if self.track_low_thresh > self.track_high_thresh:
            raise ValueError(
                f"track_low_thresh ({self.track_low_thresh}) must not exceed "
                f"track_high_thresh ({self.track_high_thresh})"
            )
        if not isinstance(self.fuse_score, bool):
            raise ValueError(f"fuse_score must be a bool, got {self.fuse_score!r}")
        buffer_s = self.track_buffer_s
        if isinstance(buffer_s, bool) or not isinstance(buffer_s, int | float):
            raise ValueError(f"track_buffer_s must be a number, got {buffer_s!r}")
        if not math.isfinite(buffer_s) or buffer_s < 0.0:
            raise ValueError(f"track_buffer_s must be finite and >= 0, got {buffer_s}")

    def buffer_frames(self, fps: float) -> int:
        """Number of frames a lost track survives at a frame rate.

        Args:
            fps: Frames per second of the video, > 0.

        Returns:
            ``round(track_buffer_s * fps)``, at least 1 when the buffer is non-zero.

        Raises:
            ValueError: If ``fps`` is not a finite positive number.
        """
        if isinstance(fps, bool) or not isinstance(fps, int | float) or not math.isfinite(fps):
            raise ValueError(f"fps must be a finite number, got {fps!r}")
        if fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        frames = round(self.track_buffer_s * fps)
        return max(frames, 1) if self.track_buffer_s > 0 else 0
