"""The frames of one input, decoded, detected and tracked, in order: the first half of the
pipeline (:func:`posetool.run.pipeline.process_video` feeds them to the pose estimator).

Detection can run in a thread pool a few frames ahead of the tracker (the detector is
thread-safe); decoding and tracking are sequential and stay in the caller's thread.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from functools import partial

import numpy as np

from posetool.run.timed_tasks import StageSeconds, submit_timed

__all__ = ["TrackedFrame", "decoded_frames", "tracked_frames"]


@dataclass(frozen=True)
class TrackedFrame:
    """One frame after detection and tracking; ``frame_bgr`` None where it failed to decode.

    ``keypoints_xy`` (M, 17, 2) image px and ``keypoint_scores`` (M, 17): the detector's COCO
    keypoints of the detection each track matched (zero scores where the detector computed
    none).
    """

    frame_index: int
    timestamp_s: float
    frame_bgr: np.ndarray | None
    track_ids: np.ndarray
    boxes_xyxy: np.ndarray
    scores: np.ndarray
    keypoints_xy: np.ndarray
    keypoint_scores: np.ndarray


def decoded_frames(
    reader, limit: int, stages: StageSeconds
) -> Iterator[tuple[int, float, np.ndarray | None]]:
    """(index, timestamp, BGR image) of every frame index of ``reader`` in order, up to
    ``limit`` (0: all); decode time adds to ``stages.decode``.

    Image folders skip undecodable files without shifting indices: those frames come out
    with no image, stamped one frame period after the previous one.
    """
    probe = reader.probe
    frames = iter(reader)
    seen = 0
    last_stamp: float | None = None

    def gap_stamp() -> float:
        return last_stamp + 1.0 / probe.fps if last_stamp is not None else 0.0

    while not limit or seen < limit:
        t0 = time.perf_counter()
        frame = next(frames, None)
        stages.add("decode", time.perf_counter() - t0)
        if frame is None:
            break
        while seen < frame.frame_index and (not limit or seen < limit):
            last_stamp = gap_stamp()
            yield seen, last_stamp, None
            seen += 1
        if limit and seen >= limit:
            break
        last_stamp = frame.timestamp_s
        yield seen, last_stamp, frame.frame_bgr
        seen += 1
    if probe.kind == "images" and not limit:
        while seen < probe.frame_count:  # trailing undecodable images
            last_stamp = gap_stamp()
            yield seen, last_stamp, None
            seen += 1


def tracked_frames(
    decoded,
    detector,
    tracker,
    stages: StageSeconds,
    executor: Executor | None = None,
    lookahead: int = 0,
) -> Iterator[TrackedFrame]:
    """Detect and track the ``decoded`` frames, in order; detection and tracking time add to
    ``stages.detect`` (summed over threads) and ``stages.track``.

    With an executor, detection runs in its threads up to ``lookahead`` frames ahead of the
    tracker (the detector is thread-safe; tracking is sequential and stays in this thread).
    """
    add_detect_seconds = partial(stages.add, "detect")
    waiting: deque[tuple[int, float, np.ndarray | None, Future | None]] = deque()

    def track_oldest() -> TrackedFrame:
        index, stamp, frame_bgr, found = waiting.popleft()
        if found is None:  # no image: no detections
            boxes, scores = np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
            kp, kp_scores = np.zeros((0, 17, 2), np.float32), np.zeros((0, 17), np.float32)
        else:
            det = found.result()
            boxes, scores = det.boxes_xyxy, det.scores
            kp, kp_scores = det.keypoints_xy, det.keypoint_scores
        t0 = time.perf_counter()
        tracks = tracker.update(boxes, scores)
        stages.add("track", time.perf_counter() - t0)
        rows = tracks.det_indices
        return TrackedFrame(
            index,
            stamp,
            frame_bgr,
            tracks.track_ids,
            tracks.boxes_xyxy,
            tracks.scores,
            kp[rows],
            kp_scores[rows],
        )

    for index, stamp, frame_bgr in decoded:
        found = None
        if frame_bgr is not None:
            found = submit_timed(executor, add_detect_seconds, detector.detect, frame_bgr)
        waiting.append((index, stamp, frame_bgr, found))
        while len(waiting) > lookahead:
            yield track_oldest()
    while waiting:
        yield track_oldest()
