"""Detection ahead in a pool, tracking in order: tracked_frames with stand-in detector/tracker."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pytest

from posetool.run.timed_tasks import StageSeconds
from posetool.run.tracked_frames import tracked_frames


class SlowDetector:
    """One box per frame at x = the frame's value; random delays reorder the pool's finishes."""

    def __init__(self) -> None:
        self.running = 0
        self.most_at_once = 0
        self.lock = threading.Lock()

    def detect(self, frame_bgr):
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(random.uniform(0, 0.01))
        with self.lock:
            self.running -= 1
        x = float(frame_bgr[0, 0, 0])
        return SimpleNamespace(
            boxes_xyxy=np.array([[x, 0, x + 1, 1]], np.float32),
            scores=np.ones(1, np.float32),
            keypoints_xy=np.full((1, 17, 2), x, np.float32),
            keypoint_scores=np.ones((1, 17), np.float32),
        )


class OrderTracker:
    """Records the boxes it is given; tracking must see frames in order."""

    def __init__(self) -> None:
        self.seen: list[float] = []

    def update(self, boxes, scores):
        self.seen.append(float(boxes[0, 0]) if len(boxes) else -1.0)
        ids = np.arange(len(boxes))
        return SimpleNamespace(track_ids=ids, boxes_xyxy=boxes, scores=scores, det_indices=ids)


def _decoded(n: int):
    for i in range(n):
        image = None if i % 7 == 3 else np.full((2, 2, 3), i, np.uint8)  # some undecodable
        yield i, i / 30, image


@pytest.mark.parametrize("workers", [0, 1, 3])
def test_frames_come_out_in_order_with_detection_ahead(workers) -> None:
    random.seed(0)
    detector, tracker = SlowDetector(), OrderTracker()
    stages = StageSeconds()
    pool = ThreadPoolExecutor(workers) if workers else None
    try:
        out = list(
            tracked_frames(_decoded(40), detector, tracker, stages, pool, lookahead=workers + 1)
        )
    finally:
        if pool:
            pool.shutdown()
    assert [f.frame_index for f in out] == list(range(40))
    expected = [-1.0 if i % 7 == 3 else float(i) for i in range(40)]
    assert tracker.seen == expected
    assert all((f.frame_bgr is None) == (i % 7 == 3) for i, f in enumerate(out))
    assert all(len(f.track_ids) == (0 if i % 7 == 3 else 1) for i, f in enumerate(out))
    assert detector.most_at_once <= max(workers, 1)
    if workers > 1:
        assert detector.most_at_once > 1  # detection really ran ahead, in parallel
    assert stages.detect > 0 and stages.track > 0 and stages.decode == stages.pose == 0


def test_a_detection_error_reaches_the_caller_in_order() -> None:
    class Failing(SlowDetector):
        def detect(self, frame_bgr):
            if frame_bgr[0, 0, 0] == 5:
                raise RuntimeError("frame 5 failed")
            return super().detect(frame_bgr)

    tracker = OrderTracker()
    with ThreadPoolExecutor(2) as pool:
        frames = tracked_frames(_decoded(20), Failing(), tracker, StageSeconds(), pool, lookahead=3)
        got = []
        with pytest.raises(RuntimeError, match="frame 5"):
            for f in frames:
                got.append(f.frame_index)
    assert got == [0, 1, 2, 3, 4]


def test_each_track_carries_the_keypoints_of_its_detection() -> None:
    """The detector's keypoints follow the tracker's det_indices, not the detection order."""

    class TwoPeople:
        def detect(self, frame_bgr):
            return SimpleNamespace(
                boxes_xyxy=np.array([[0, 0, 1, 1], [5, 5, 6, 6]], np.float32),
                scores=np.ones(2, np.float32),
                keypoints_xy=np.stack([np.full((17, 2), 1.0), np.full((17, 2), 2.0)]),
                keypoint_scores=np.stack([np.full(17, 0.1), np.full(17, 0.2)]),
            )

    class Reversed:
        def update(self, boxes, scores):
            return SimpleNamespace(
                track_ids=np.array([7, 8]),
                boxes_xyxy=boxes[::-1],
                scores=scores[::-1],
                det_indices=np.array([1, 0]),
            )

    (frame,) = tracked_frames(_decoded(1), TwoPeople(), Reversed(), StageSeconds())
    assert frame.keypoints_xy[:, 0, 0].tolist() == [2.0, 1.0]
    assert np.allclose(frame.keypoint_scores[:, 0], [0.2, 0.1])


def test_detections_prior_keeps_the_shared_joints_only() -> None:
    from posetool.run.detector_priors import detections_prior

    kp = np.arange(17 * 2, dtype=np.float32).reshape(1, 17, 2)
    xy, scores = detections_prior(kp, np.full((1, 17), 0.7, np.float32))
    assert scores[0].tolist()[:5] == pytest.approx([0.7, 0.0, 0.0, 0.0, 0.0])  # nose only
    assert np.all(scores[0, 5:] == pytest.approx(0.7)) and np.array_equal(xy[0, 5:], kp[0, 5:])
