"""The per-frame result of the tracker, as frozen column arrays.

Shape letters: M tracks output in the frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class TrackerOutput:
    """Tracks confirmed in one frame; a track is an index into the columns.

    Attributes:
        track_ids: (M,) int64 ids, unique within the frame, counting from 1 per tracker.
        boxes_xyxy: (M, 4) float32 boxes in pixels, the Kalman-filtered state after this frame's
            update (the raw detection box is ``boxes_xyxy_in[det_indices]``).
        scores: (M,) float32 score of the detection each track was matched to.
        det_indices: (M,) int64 row of the ``update`` input each track was matched to.
    """

    track_ids: np.ndarray
    boxes_xyxy: np.ndarray
    scores: np.ndarray
    det_indices: np.ndarray

    def __post_init__(self) -> None:
        track_ids = np.asarray(self.track_ids, dtype=np.int64).reshape(-1)
        boxes_xyxy = np.asarray(self.boxes_xyxy, dtype=np.float32)
        scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
        det_indices = np.asarray(self.det_indices, dtype=np.int64).reshape(-1)
        num_tracks = track_ids.shape[0]
        if boxes_xyxy.size == 0:
            boxes_xyxy = boxes_xyxy.reshape(0, 4)
        if boxes_xyxy.shape != (num_tracks, 4):
            raise ValueError(
                f"boxes_xyxy must have shape ({num_tracks}, 4), got {boxes_xyxy.shape}"
            )
        for name, column in (("scores", scores), ("det_indices", det_indices)):
            if column.shape != (num_tracks,):
                raise ValueError(f"{name} must have shape ({num_tracks},), got {column.shape}")
        if len(np.unique(track_ids)) != num_tracks:
            raise ValueError(f"track_ids must be unique within a frame, got {track_ids.tolist()}")
        object.__setattr__(self, "track_ids", _frozen(track_ids))
        object.__setattr__(self, "boxes_xyxy", _frozen(boxes_xyxy))
        object.__setattr__(self, "scores", _frozen(scores))
        object.__setattr__(self, "det_indices", _frozen(det_indices))

    def __len__(self) -> int:
        return int(self.track_ids.shape[0])

    @classmethod
    def empty(cls) -> TrackerOutput:
        """A frame without tracks."""
        return cls(
            track_ids=np.zeros(0, np.int64),
            boxes_xyxy=np.zeros((0, 4), np.float32),
            scores=np.zeros(0, np.float32),
            det_indices=np.zeros(0, np.int64),
        )
