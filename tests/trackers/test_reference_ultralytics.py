"""Same boxes in, same identities out as ultralytics' BYTETracker (the reference implementation).

ultralytics is used here as an oracle only; the trackers package never imports it.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from trackers import ByteTrackConfig, ByteTracker


@pytest.fixture(scope="module")
def reference_tracker_factory():
    os.environ.setdefault("YOLO_OFFLINE", "1")
    byte_tracker = pytest.importorskip("ultralytics.trackers.byte_tracker")
    from ultralytics.engine.results import Boxes
    from ultralytics.utils import YAML, IterableSimpleNamespace
    from ultralytics.utils.checks import check_yaml

    args = IterableSimpleNamespace(**YAML.load(check_yaml("bytetrack.yaml")))

    def make():
        tracker = byte_tracker.BYTETracker(args)

        def update(boxes_xyxy: np.ndarray, scores: np.ndarray) -> list[tuple[int, int]]:
            data = np.column_stack([boxes_xyxy, scores, np.zeros(len(scores))]).astype(np.float32)
            rows = tracker.update(Boxes(data, orig_shape=(1000, 1000)))
            return sorted((int(r[7]), int(r[4])) for r in rows)

        return update, args.track_buffer

    return make


def test_identities_match_the_reference_on_random_scenes(reference_tracker_factory):
    rng = np.random.default_rng(0)
    frames_compared = 0
    for _ in range(8):
        reference, buffer_frames = reference_tracker_factory()
        ours = ByteTracker(ByteTrackConfig(track_buffer_s=buffer_frames / 30.0), fps=30.0)
        num_people = 8
        corner = rng.uniform(0, 600, (num_people, 2))
        velocity = rng.normal(0, 4, (num_people, 2))
        size = rng.uniform(40, 120, (num_people, 2))
        for _ in range(80):
            corner += velocity
            seen = rng.random(num_people) > 0.15  # misses make tracks lost and re-found
            boxes = np.concatenate([corner, corner + size], axis=1)[seen]
            boxes += rng.normal(0, 2, boxes.shape)
            scores = rng.uniform(0.05, 1.0, len(boxes))  # spans the low, high and new thresholds
            out = ours.update(boxes, scores)
            ours_pairs = sorted(zip(out.det_indices.tolist(), out.track_ids.tolist(), strict=True))
            assert ours_pairs == reference(boxes, scores)
            frames_compared += 1
    assert frames_compared == 640
