"""One tracked person (an STrack in ByteTrack's words) and its life cycle.

A track is born from an unmatched high-score detection, is *unconfirmed* until matched again in
the next frame (tracks born in the first frame are confirmed at once), turns *lost* when a frame
passes without a match and is *removed* when it stays lost past the buffer.

Shape letters: N tracks.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import numpy as np

from trackers.kalman import KalmanFilterXYAH, boxes_xyxy_to_xyah, xyah_to_boxes_xyxy


class TrackState(enum.IntEnum):
    """Where a track is in its life cycle."""

    NEW = 0
    TRACKED = 1
    LOST = 2
    REMOVED = 3


class STrack:
    """Kalman state and bookkeeping of one person.

    Args:
        track_id: Id handed out by the owning tracker.
        box_xyxy: (4,) first detection box in pixels.
        score: Score of that detection.
        det_index: Row of that detection in the frame's input.
        frame_index: 1-based frame the track starts in.
        kalman: The owning tracker's filter.
    """

    def __init__(
        self,
        track_id: int,
        box_xyxy: np.ndarray,
        score: float,
        det_index: int,
        frame_index: int,
        kalman: KalmanFilterXYAH,
    ):
        mean, covariance = kalman.initiate(boxes_xyxy_to_xyah(box_xyxy))
        self.track_id = int(track_id)
        self.mean: np.ndarray = mean[0]
        self.covariance: np.ndarray = covariance[0]
        self.score = float(score)
        self.det_index = int(det_index)
        self.state = TrackState.TRACKED
        self.is_activated = frame_index == 1
        self.start_frame = frame_index
        self.frame_index = frame_index  # last frame with a matched detection

    @property
    def box_xyxy(self) -> np.ndarray:
        """(4,) current state as a corner box in pixels."""
        return xyah_to_boxes_xyxy(self.mean[:4])[0]

    @property
    def age_frames(self) -> int:
        """Frames between the first and the last matched detection."""
        return self.frame_index - self.start_frame

    def mark_matched(self, score: float, det_index: int, frame_index: int) -> None:
        """Record a match (the Kalman state itself is set by :func:`update_tracks`)."""
        self.score = float(score)
        self.det_index = int(det_index)
        self.frame_index = frame_index
        self.state = TrackState.TRACKED
        self.is_activated = True

    def mark_lost(self) -> None:
        """No detection matched this frame."""
        self.state = TrackState.LOST

    def mark_removed(self) -> None:
        """The track ends for good."""
        self.state = TrackState.REMOVED


def boxes_of(tracks: Sequence[STrack]) -> np.ndarray:
    """(N, 4) current corner boxes of tracks."""
    if not tracks:
        return np.zeros((0, 4))
    return xyah_to_boxes_xyxy(np.stack([t.mean[:4] for t in tracks]))


def predict_tracks(tracks: Sequence[STrack], kalman: KalmanFilterXYAH) -> None:
    """Advance every track by one frame in one batched Kalman step.

    A track that is not currently tracked keeps its position velocity but not its height
    velocity, so a lost box drifts with the person without growing or shrinking (as ByteTrack).
    """
    if not tracks:
        return
    mean = np.stack([t.mean for t in tracks])
    covariance = np.stack([t.covariance for t in tracks])
    not_tracked = np.array([t.state != TrackState.TRACKED for t in tracks])
    mean[not_tracked, 7] = 0.0
    mean, covariance = kalman.predict(mean, covariance)
    for track, track_mean, track_cov in zip(tracks, mean, covariance, strict=True):
        track.mean, track.covariance = track_mean, track_cov


def update_tracks(
    tracks: Sequence[STrack],
    boxes_xyxy: np.ndarray,
    scores: np.ndarray,
    det_indices: np.ndarray,
    frame_index: int,
    kalman: KalmanFilterXYAH,
) -> None:
    """Correct N tracks with their matched detections in one batched Kalman step.

    Args:
        tracks: N matched tracks (tracked, lost or unconfirmed).
        boxes_xyxy: (N, 4) matched detection boxes in pixels.
        scores: (N,) their scores.
        det_indices: (N,) their rows in the frame's input.
        frame_index: The current 1-based frame.
        kalman: The owning tracker's filter.
    """
    if not tracks:
        return
    mean = np.stack([t.mean for t in tracks])
    covariance = np.stack([t.covariance for t in tracks])
    mean, covariance = kalman.update(mean, covariance, boxes_xyxy_to_xyah(boxes_xyxy))
    for i, track in enumerate(tracks):
        track.mean, track.covariance = mean[i], covariance[i]
        track.mark_matched(scores[i], det_indices[i], frame_index)
