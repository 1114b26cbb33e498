"""ByteTrack: associate every detection box, the low-score ones too (Zhang et al., ECCV 2022).

One :class:`ByteTracker` follows the people of one video. Per frame (paper, Alg. 1):

1. predict every track with the Kalman filter;
2. match tracked and lost tracks to high-score detections by IoU (fused with the score);
3. match the tracked tracks left over to low-score detections by IoU alone;
4. match unconfirmed tracks (seen in one frame) to the high-score detections left over;
5. start tracks from what is still unmatched above ``new_track_thresh``, drop tracks lost longer
   than the buffer and drop the younger of a tracked/lost pair that overlap almost completely.

Shape letters: N detections in the frame, M tracks output.
"""

from __future__ import annotations

import logging

import numpy as np

from trackers.config import ByteTrackConfig
from trackers.kalman import KalmanFilterXYAH
from trackers.matching import fuse_score, iou_distance, linear_assignment
from trackers.output import TrackerOutput
from trackers.track import STrack, TrackState, boxes_of, predict_tracks, update_tracks

logger = logging.getLogger(__name__)


class _Detections:
    """The frame's usable detections: boxes, scores and their input rows, sliced together."""

    def __init__(self, boxes_xyxy: np.ndarray, scores: np.ndarray, indices: np.ndarray):
        self.boxes_xyxy = boxes_xyxy[indices]
        self.scores = scores[indices]
        self.indices = indices

    def take(self, rows: np.ndarray) -> _Detections:
        """The subset at ``rows`` (positions in this subset)."""
        subset = _Detections.__new__(_Detections)
        subset.boxes_xyxy = self.boxes_xyxy[rows]
        subset.scores = self.scores[rows]
        subset.indices = self.indices[rows]
        return subset


def _check_inputs(boxes_xyxy: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    boxes = np.asarray(boxes_xyxy, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    if boxes.size == 0 and scores.size == 0:
        return np.zeros((0, 4)), np.zeros(0)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes_xyxy must have shape (N, 4), got {boxes.shape}")
    if scores.shape != (boxes.shape[0],):
        raise ValueError(f"scores must have shape ({boxes.shape[0]},), got {scores.shape}")
    return boxes, scores


class ByteTracker:
    """Multi-person tracker keeping identities through crossings and short gaps.

    Track ids count from 1 per tracker instance and again after :meth:`reset`; two trackers
    never share a counter.

    Args:
        config: Thresholds and buffer; the ultralytics ``bytetrack.yaml`` defaults when None.
        fps: Frame rate of the video, converting ``config.track_buffer_s`` to frames.

    Example:
        >>> tracker = ByteTracker(ByteTrackConfig(), fps=25)
        >>> out = tracker.update(np.array([[10, 10, 50, 120]]), np.array([0.9]))
        >>> out.track_ids.tolist()
        [1]
    """

    def __init__(self, config: ByteTrackConfig | None = None, fps: float = 30.0):
        self.config = config if config is not None else ByteTrackConfig()
        self.fps = float(fps)
        self.max_frames_lost = self.config.buffer_frames(fps)
        self._kalman = KalmanFilterXYAH()
        self.reset()

    def reset(self) -> None:
        """Forget every track and restart frame counting and ids at 1 (a new video)."""
        self._tracked: list[STrack] = []
        self._lost: list[STrack] = []
        self._frame_index = 0
        self._next_track_id = 1

    @property
    def frame_index(self) -> int:
        """1-based index of the last frame passed to :meth:`update` (0 before the first)."""
        return self._frame_index

    def update(self, boxes_xyxy: np.ndarray, scores: np.ndarray) -> TrackerOutput:
        """Associate one frame's detections with the tracks.

        Args:
            boxes_xyxy: (N, 4) detection boxes in pixels; N may be 0. Boxes with a non-positive
                width or height or non-finite values are ignored.
            scores: (N,) detection scores in [0, 1].

        Returns:
            The confirmed tracks matched in this frame, sorted by id.

        Raises:
            ValueError: If the shapes do not agree.
        """
        boxes, scores = _check_inputs(boxes_xyxy, scores)
        self._frame_index += 1
        cfg = self.config
        valid = (
            np.isfinite(boxes).all(axis=1)
            & np.isfinite(scores)
            & (boxes[:, 2] > boxes[:, 0])
            & (boxes[:, 3] > boxes[:, 1])
        )
        high = _Detections(boxes, scores, np.flatnonzero(valid & (scores >= cfg.track_high_thresh)))
        low_mask = valid & (scores > cfg.track_low_thresh) & (scores < cfg.track_high_thresh)
        low = _Detections(boxes, scores, np.flatnonzero(low_mask))

        unconfirmed = [t for t in self._tracked if not t.is_activated]
        pool = [t for t in self._tracked if t.is_activated] + self._lost
        # As in ByteTrack, unconfirmed tracks are not predicted: born with zero velocity, they would
        # only gain covariance. Keeping this makes our ids match ultralytics' on the same boxes.
        predict_tracks(pool, self._kalman)

        leftover_tracks, leftover_high = self._associate_high(pool, high)
        self._associate_low(leftover_tracks, low)
        unmatched_high = self._associate_unconfirmed(unconfirmed, leftover_high)
        new_tracks = self._start_tracks(unmatched_high)

        for track in self._lost:
            if track.state == TrackState.LOST and (
                self._frame_index - track.frame_index > self.max_frames_lost
            ):
                track.mark_removed()
        everyone = pool + unconfirmed + new_tracks
        self._tracked = [t for t in everyone if t.state == TrackState.TRACKED]
        self._lost = [t for t in everyone if t.state == TrackState.LOST]
        self._remove_duplicates()
        return self._output()

    def _costs(self, tracks: list[STrack], dets: _Detections, fuse: bool) -> np.ndarray:
        cost = iou_distance(boxes_of(tracks), dets.boxes_xyxy)
        return fuse_score(cost, dets.scores) if fuse else cost

    def _apply(self, tracks: list[STrack], dets: _Detections, matches: np.ndarray) -> None:
        matched = dets.take(matches[:, 1])
        update_tracks(
            [tracks[i] for i in matches[:, 0]],
            matched.boxes_xyxy,
            matched.scores,
            matched.indices,
            self._frame_index,
            self._kalman,
        )

    def _associate_high(
        self, pool: list[STrack], high: _Detections
    ) -> tuple[list[STrack], _Detections]:
        """Stage 1: tracked and lost tracks against high-score detections."""
        cost = self._costs(pool, high, self.config.fuse_score)
        matches, rows_left, cols_left = linear_assignment(cost, self.config.match_thresh)
        self._apply(pool, high, matches)
        return [pool[i] for i in rows_left], high.take(cols_left)

    def _associate_low(self, leftover: list[STrack], low: _Detections) -> None:
        """Stage 2: tracked tracks still unmatched against low-score detections, by IoU alone.

        Fusing would punish exactly the low scores this stage exists for (paper, sec. 3.2).
        Lost tracks do not take part: a low-score box alone is too weak to revive an identity.
        """
        tracked = [t for t in leftover if t.state == TrackState.TRACKED]
        cost = self._costs(tracked, low, fuse=False)
        matches, rows_left, _ = linear_assignment(cost, self.config.second_match_thresh)
        self._apply(tracked, low, matches)
        for i in rows_left:
            tracked[i].mark_lost()

    def _associate_unconfirmed(
        self, unconfirmed: list[STrack], leftover_high: _Detections
    ) -> _Detections:
        """Stage 3: one-frame tracks against leftover high-score detections; misses end them."""
        cost = self._costs(unconfirmed, leftover_high, self.config.fuse_score)
        matches, rows_left, cols_left = linear_assignment(
            cost, self.config.unconfirmed_match_thresh
        )
        self._apply(unconfirmed, leftover_high, matches)
        for i in rows_left:
            unconfirmed[i].mark_removed()
        return leftover_high.take(cols_left)

    def _start_tracks(self, unmatched: _Detections) -> list[STrack]:
        new_tracks = []
        for box, score, index in zip(
            unmatched.boxes_xyxy, unmatched.scores, unmatched.indices, strict=True
        ):
            if score < self.config.new_track_thresh:
                continue
            new_tracks.append(
                STrack(self._next_track_id, box, score, index, self._frame_index, self._kalman)
            )
            self._next_track_id += 1
        return new_tracks

    def _remove_duplicates(self) -> None:
        """Drop the younger of each tracked/lost pair overlapping beyond the duplicate gate."""
        cost = iou_distance(boxes_of(self._tracked), boxes_of(self._lost))
        for i, j in zip(*np.nonzero(cost < self.config.duplicate_iou_distance), strict=True):
            tracked, lost = self._tracked[i], self._lost[j]
            younger = lost if tracked.age_frames > lost.age_frames else tracked
            younger.mark_removed()
            logger.debug("track %d duplicates another and is dropped", younger.track_id)
        self._tracked = [t for t in self._tracked if t.state != TrackState.REMOVED]
        self._lost = [t for t in self._lost if t.state != TrackState.REMOVED]

    def _output(self) -> TrackerOutput:
        shown = sorted((t for t in self._tracked if t.is_activated), key=lambda t: t.track_id)
        if not shown:
            return TrackerOutput.empty()
        return TrackerOutput(
            track_ids=np.array([t.track_id for t in shown], dtype=np.int64),
            boxes_xyxy=boxes_of(shown).astype(np.float32),
            scores=np.array([t.score for t in shown], dtype=np.float32),
            det_indices=np.array([t.det_index for t in shown], dtype=np.int64),
        )
