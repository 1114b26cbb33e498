"""Detection ahead in a pool, tracking in order: tracked_frames with stand-in detector/tracker."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pytest

from posetool.tracked_frames import tracked_frames


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
        return SimpleNamespace(boxes_xyxy=np.array([[x, 0, x + 1, 1]], np.float32),
                               scores=np.ones(1, np.float32))  # fmt: skip


class OrderTracker:
    """Records the boxes it is given; tracking must see frames in order."""

    def __init__(self) -> None:
        self.seen: list[float] = []

    def update(self, boxes, scores):
        self.seen.append(float(boxes[0, 0]) if len(boxes) else -1.0)
        ids = np.arange(len(boxes))
        return SimpleNamespace(track_ids=ids, boxes_xyxy=boxes, scores=scores)


def _decoded(n: int):
    for i in range(n):
        image = None if i % 7 == 3 else np.full((2, 2, 3), i, np.uint8)  # some undecodable
        yield i, i / 30, image


@pytest.mark.parametrize("workers", [0, 1, 3])
def test_frames_come_out_in_order_with_detection_ahead(workers) -> None:
    random.seed(0)
    detector, tracker = SlowDetector(), OrderTracker()
    clock = {"detect": 0.0, "track": 0.0}
    pool = ThreadPoolExecutor(workers) if workers else None
    try:
        out = list(tracked_frames(_decoded(40), detector, tracker, clock, pool,
                                  lookahead=workers + 1))  # fmt: skip
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
    assert clock["detect"] > 0 and clock["track"] > 0


def test_a_detection_error_reaches_the_caller_in_order() -> None:
    class Failing(SlowDetector):
        def detect(self, frame_bgr):
            if frame_bgr[0, 0, 0] == 5:
                raise RuntimeError("frame 5 failed")
            return super().detect(frame_bgr)

    tracker = OrderTracker()
    with ThreadPoolExecutor(2) as pool:
        frames = tracked_frames(_decoded(20), Failing(), tracker, {"detect": 0.0, "track": 0.0},
                                pool, lookahead=3)  # fmt: skip
        got = []
        with pytest.raises(RuntimeError, match="frame 5"):
            for f in frames:
                got.append(f.frame_index)
    assert got == [0, 1, 2, 3, 4]
