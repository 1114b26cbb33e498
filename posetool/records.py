"""Frozen, validated column-array records for per-frame poses and whole-video results.

A person is an index into the columns of a :class:`FrameRecord`. Records hold no I/O,
plotting or tensors. Shape letters: N persons, K keypoints (17 PoseTrack slots).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from diffpose.keypoints import NUM_KEYPOINTS

__all__ = ["PERSON_COLUMNS", "FrameRecord", "VideoMeta", "VideoResult"]


def _frozen_array(name: str, value, dtype, shape: tuple[int | None, ...]) -> np.ndarray:
    """Copy ``value`` into a read-only array of ``dtype``, checking its shape (None = any)."""
    try:
        arr = np.array(value, dtype=dtype, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: cannot convert to {np.dtype(dtype).name}: {exc}") from None
    if arr.size == 0 and arr.ndim != len(shape):
        arr = arr.reshape(tuple(0 if s is None else s for s in shape))
    if arr.ndim != len(shape) or any(
        s is not None and s != a for s, a in zip(shape, arr.shape, strict=True)
    ):
        want = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name}: expected shape {want}, got {arr.shape}")
    arr.flags.writeable = False
    return arr


#: The :class:`FrameRecord` fields that hold one row per person, in field order.
PERSON_COLUMNS: tuple[str, ...] = (
    "boxes_xyxy",
    "box_scores",
    "track_ids",
    "keypoints_xy",
    "keypoint_scores",
    "keypoint_spread_px",
    "keypoint_visible",
    "head_boxes_xyxy",
    "human_edited",
    "reviewed",
    "interpolated",
)


@dataclass(frozen=True, eq=False)
class FrameRecord:
    """All persons of one frame, as columns.

    Attributes:
        frame_index: 0-based index of the frame in its video.
        timestamp_s: presentation time of the frame in seconds.
        boxes_xyxy: (N, 4) float32 person boxes in image pixels.
        box_scores: (N,) float32 detector confidence in [0, 1].
        track_ids: (N,) int64 track ids, unique within the frame, >= 0.
        keypoints_xy: (N, K, 2) float32 image pixels.
        keypoint_scores: (N, K) float32 per-joint confidence.
        keypoint_spread_px: (N, K) float32 how far ensemble members disagree, pixels
            (NaN where unknown, e.g. for ground truth).
        keypoint_visible: (N, K) bool, whether the joint is present/labelled.
        head_boxes_xyxy: (N, 4) float32 head boxes (NaN where unknown).
        human_edited: (N,) bool, True where an analyst changed the person.
        reviewed: (N,) bool, True where an analyst checked the person and found it right.
        interpolated: (N,) bool, True where the pose was filled in between two keyframes
            (frames an analyst edited) rather than estimated by the model.
        is_labeled: whether the frame carries labels (PoseTrack ``is_labeled``).
        ignore_regions: polygons, each an (P, 2) float32 array of image pixels.
        image_file: file name of the frame as written to PoseTrack JSON ("" if none).
    """

    frame_index: int
    timestamp_s: float = 0.0
    boxes_xyxy: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    box_scores: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    track_ids: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))
    keypoints_xy: np.ndarray = field(
        default_factory=lambda: np.zeros((0, NUM_KEYPOINTS, 2), np.float32)
    )
    keypoint_scores: np.ndarray = field(
        default_factory=lambda: np.zeros((0, NUM_KEYPOINTS), np.float32)
    )
    keypoint_spread_px: np.ndarray | None = None
    keypoint_visible: np.ndarray | None = None
    head_boxes_xyxy: np.ndarray | None = None
    human_edited: np.ndarray | None = None
    reviewed: np.ndarray | None = None
    interpolated: np.ndarray | None = None
    is_labeled: bool = True
    ignore_regions: tuple[np.ndarray, ...] = ()
    image_file: str = ""

    def __post_init__(self) -> None:
        if int(self.frame_index) < 0:
            raise ValueError(f"frame_index must be >= 0, got {self.frame_index}")
        object.__setattr__(self, "frame_index", int(self.frame_index))
        object.__setattr__(self, "timestamp_s", float(self.timestamp_s))
        k = NUM_KEYPOINTS
        cols = {
            "boxes_xyxy": (np.float32, (None, 4)),
            "box_scores": (np.float32, (None,)),
            "track_ids": (np.int64, (None,)),
            "keypoints_xy": (np.float32, (None, k, 2)),
            "keypoint_scores": (np.float32, (None, k)),
        }
        for name, (dtype, shape) in cols.items():
            object.__setattr__(self, name, _frozen_array(name, getattr(self, name), dtype, shape))
        n = len(self.boxes_xyxy)
        defaults = {
            "keypoint_spread_px": (np.float32, (n, k), np.nan),
            "keypoint_visible": (bool, (n, k), True),
            "head_boxes_xyxy": (np.float32, (n, 4), np.nan),
            "human_edited": (bool, (n,), False),
            "reviewed": (bool, (n,), False),
            "interpolated": (bool, (n,), False),
        }
        for name, (dtype, shape, fill) in defaults.items():
            value = getattr(self, name)
            if value is None:
                value = np.full(shape, fill, dtype=dtype)
            object.__setattr__(self, name, _frozen_array(name, value, dtype, shape))
        for name in ("box_scores", "track_ids", "keypoints_xy", "keypoint_scores"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name}: {len(getattr(self, name))} persons, boxes_xyxy has {n}")
        if n and len(np.unique(self.track_ids)) != n:
            raise ValueError(f"track_ids must be unique within a frame, got {self.track_ids}")
        if n and self.track_ids.min() < 0:
            raise ValueError(f"track_ids must be >= 0, got {self.track_ids}")
        if not np.all(np.isfinite(self.boxes_xyxy)):
            raise ValueError("boxes_xyxy must be finite")
        if np.any(self.boxes_xyxy[:, 2] < self.boxes_xyxy[:, 0]) or np.any(
            self.boxes_xyxy[:, 3] < self.boxes_xyxy[:, 1]
        ):
            raise ValueError("boxes_xyxy must have x2 >= x1 and y2 >= y1")
        polys = tuple(
            _frozen_array(f"ignore_regions[{i}]", p, np.float32, (None, 2))
            for i, p in enumerate(self.ignore_regions)
        )
        object.__setattr__(self, "ignore_regions", polys)
        object.__setattr__(self, "is_labeled", bool(self.is_labeled))
        object.__setattr__(self, "image_file", str(self.image_file))

    @property
    def num_persons(self) -> int:
        return len(self.boxes_xyxy)

    def select(self, indices) -> FrameRecord:
        """A record with only the persons at ``indices`` (order kept as given)."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        return replace(self, **{name: getattr(self, name)[idx] for name in PERSON_COLUMNS})

    def index_of_track(self, track_id: int) -> int | None:
        """Index of the person with ``track_id`` in this frame, or None."""
        hits = np.flatnonzero(self.track_ids == track_id)
        return int(hits[0]) if len(hits) else None


@dataclass(frozen=True, eq=False)
class VideoMeta:
    """What is known about a video or image sequence.

    Attributes:
        path: the video file or image folder.
        fps: frames per second (nominal; timestamps_s is authoritative).
        frame_count: number of frames.
        width: frame width in pixels after rotation.
        height: frame height in pixels after rotation.
        rotation_deg: clockwise rotation applied to the decoded frames (0, 90, 180, 270).
        timestamps_s: (frame_count,) float64 presentation times, or empty if unknown.
        sequence_name: name used for PoseTrack ids and file names (defaults to the stem).
    """

    path: Path
    fps: float
    frame_count: int
    width: int
    height: int
    rotation_deg: int = 0
    timestamps_s: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float64))
    sequence_name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        if not (self.fps > 0 and np.isfinite(self.fps)):
            raise ValueError(f"{self.path}: fps must be positive, got {self.fps}")
        if self.frame_count < 0:
            raise ValueError(f"{self.path}: frame_count must be >= 0, got {self.frame_count}")
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"{self.path}: size must be positive, got {self.width}x{self.height}")
        if self.rotation_deg not in (0, 90, 180, 270):
            raise ValueError(f"{self.path}: rotation_deg must be 0/90/180/270")
        ts = _frozen_array("timestamps_s", self.timestamps_s, np.float64, (None,))
        if len(ts) not in (0, self.frame_count):
            raise ValueError(f"{self.path}: {len(ts)} timestamps for {self.frame_count} frames")
        object.__setattr__(self, "timestamps_s", ts)
        object.__setattr__(self, "fps", float(self.fps))
        object.__setattr__(self, "frame_count", int(self.frame_count))
        if not self.sequence_name:
            stem = self.path.stem if self.path.suffix else self.path.name
            object.__setattr__(self, "sequence_name", stem)


@dataclass(frozen=True, eq=False)
class VideoResult:
    """Poses for every frame of one video: one :class:`FrameRecord` per frame, in order."""

    meta: VideoMeta
    frames: tuple[FrameRecord, ...]

    def __post_init__(self) -> None:
        frames = tuple(self.frames)
        for i, fr in enumerate(frames):
            if not isinstance(fr, FrameRecord):
                raise TypeError(f"frames[{i}] is {type(fr).__name__}, not FrameRecord")
            if fr.frame_index != i:
                raise ValueError(
                    f"frames[{i}] has frame_index {fr.frame_index}; frames must be 0..n-1"
                )
        if len(frames) != self.meta.frame_count:
            raise ValueError(
                f"{self.meta.path}: {len(frames)} frame records for {self.meta.frame_count} frames"
            )
        object.__setattr__(self, "frames", frames)

    def with_frame(self, record: FrameRecord) -> VideoResult:
        """A copy with the frame at ``record.frame_index`` replaced."""
        frames = list(self.frames)
        frames[record.frame_index] = record
        return VideoResult(self.meta, tuple(frames))

    def track_ids(self) -> np.ndarray:
        """Sorted unique track ids over the whole video."""
        ids = [fr.track_ids for fr in self.frames if fr.num_persons]
        return np.unique(np.concatenate(ids)) if ids else np.zeros((0,), np.int64)
