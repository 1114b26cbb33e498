"""ByteTracker on synthetic scenes: identities through motion, crossings, gaps and weak boxes."""

from __future__ import annotations

import numpy as np
import pytest

from tests.trackers.tracker_scenes import frame, person_box_xyxy
from trackers import ByteTrackConfig, ByteTracker, TrackerOutput


def _ids_of(out: TrackerOutput) -> list[int]:
    return out.track_ids.tolist()


def test_constant_motion_keeps_one_id():
    tracker = ByteTracker(fps=25)
    for t in range(60):
        out = tracker.update(*frame(person_box_xyxy(50 + 7 * t, 200)))
        assert _ids_of(out) == [1]
        assert out.det_indices.tolist() == [0]
    # the filter has learnt the motion: its box sits on the detection
    np.testing.assert_allclose(out.boxes_xyxy[0], person_box_xyxy(50 + 7 * 59, 200), atol=1.0)


def test_two_people_crossing_keep_distinct_ids():
    tracker = ByteTracker(fps=25)
    ids_by_person: dict[str, set[int]] = {"left": set(), "right": set()}
    for t in range(70):
        # walking towards each other; their boxes overlap fully around t = 35
        left = person_box_xyxy(100 + 8 * t, 200, 40, 100)
        right = person_box_xyxy(660 - 8 * t, 206, 44, 110)
        out = tracker.update(*frame(left, right))
        assert len(out) == 2
        for track_id, det_index in zip(out.track_ids, out.det_indices, strict=True):
            ids_by_person["left" if det_index == 0 else "right"].add(int(track_id))
    assert ids_by_person == {"left": {1}, "right": {2}}


@pytest.mark.parametrize(("gap_frames", "same_id"), [(5, True), (9, True), (15, False)])
def test_gap_within_buffer_keeps_id_longer_gap_gets_new_one(gap_frames, same_id):
    fps = 10.0
    tracker = ByteTracker(ByteTrackConfig(track_buffer_s=1.0), fps=fps)  # 10 frames
    assert tracker.max_frames_lost == 10
    t = 0
    for t in range(20):
        assert _ids_of(tracker.update(*frame(person_box_xyxy(100 + 5 * t, 200)))) == [1]
    for _ in range(gap_frames):
        t += 1
        assert len(tracker.update(*frame())) == 0
    # the person comes back where constant motion puts them
    t += 1
    back = tracker.update(*frame(person_box_xyxy(100 + 5 * t, 200)))
    t += 1
    after = tracker.update(*frame(person_box_xyxy(100 + 5 * t, 200)))
    if same_id:
        assert _ids_of(back) == [1] and _ids_of(after) == [1]
    else:
        # a new track is unconfirmed in its first frame, so it shows from the second
        assert _ids_of(back) == [] and _ids_of(after) == [2]


def test_low_score_detection_reattaches_through_the_second_stage():
    tracker = ByteTracker(fps=25)
    for t in range(10):
        tracker.update(*frame(person_box_xyxy(100 + 4 * t, 200)))
    for t in range(10, 15):
        # occluded: the detector still sees the person, at a score below track_high_thresh
        out = tracker.update(*frame(person_box_xyxy(100 + 4 * t, 200), scores=[0.15]))
        assert _ids_of(out) == [1]
        np.testing.assert_allclose(out.scores, [0.15])
    out = tracker.update(*frame(person_box_xyxy(160, 200)))
    assert _ids_of(out) == [1]


def test_score_below_low_threshold_is_not_associated():
    tracker = ByteTracker(fps=25)
    for t in range(5):
        tracker.update(*frame(person_box_xyxy(100 + 4 * t, 200)))
    assert len(tracker.update(*frame(person_box_xyxy(120, 200), scores=[0.05]))) == 0


def test_low_score_detections_never_start_tracks():
    tracker = ByteTracker(fps=25)
    for _ in range(5):
        assert len(tracker.update(*frame(person_box_xyxy(100, 200), scores=[0.2]))) == 0


def test_new_track_is_unconfirmed_for_one_frame_after_the_first():
    tracker = ByteTracker(fps=25)
    assert _ids_of(tracker.update(*frame(person_box_xyxy(100, 200)))) == [1]
    newcomer = person_box_xyxy(400, 200)
    assert _ids_of(tracker.update(*frame(person_box_xyxy(100, 200), newcomer))) == [1]
    out = tracker.update(*frame(person_box_xyxy(100, 200), newcomer))
    assert _ids_of(out) == [1, 2] and out.det_indices.tolist() == [0, 1]


def test_empty_frames():
    tracker = ByteTracker(fps=25)
    for boxes, scores in [(np.zeros((0, 4)), np.zeros(0)), ([], [])]:
        out = tracker.update(boxes, scores)
        assert len(out) == 0
        assert out.boxes_xyxy.shape == (0, 4) and out.track_ids.dtype == np.int64
    # born after frame 1, the track is unconfirmed until its second detection
    assert _ids_of(tracker.update(*frame(person_box_xyxy(100, 200)))) == []
    assert _ids_of(tracker.update(*frame(person_box_xyxy(100, 200)))) == [1]
    assert len(tracker.update(*frame())) == 0
    assert _ids_of(tracker.update(*frame(person_box_xyxy(100, 200)))) == [1]


def test_degenerate_and_non_finite_boxes_are_ignored():
    tracker = ByteTracker(fps=25)
    boxes = np.array([[10, 10, 10, 50], [np.nan, 0, 5, 5], [100, 150, 140, 250]], float)
    out = tracker.update(boxes, np.array([0.9, 0.9, 0.9]))
    assert _ids_of(out) == [1] and out.det_indices.tolist() == [2]


@pytest.mark.parametrize(
    ("boxes", "scores"),
    [(np.zeros((2, 3)), np.zeros(2)), (np.zeros((2, 4)), np.zeros(3)), (np.zeros(4), np.zeros(1))],
)
def test_bad_shapes_raise(boxes, scores):
    with pytest.raises(ValueError):
        ByteTracker().update(boxes, scores)


def test_two_trackers_count_ids_independently():
    first, second = ByteTracker(fps=25), ByteTracker(fps=25)
    three_people = frame(*(person_box_xyxy(100 + 100 * i, 200) for i in range(3)))
    assert _ids_of(first.update(*three_people)) == [1, 2, 3]
    assert _ids_of(second.update(*frame(person_box_xyxy(500, 200)))) == [1]
    assert _ids_of(first.update(*three_people)) == [1, 2, 3]


def test_reset_restarts_ids_at_one():
    tracker = ByteTracker(fps=25)
    tracker.update(*frame(person_box_xyxy(100, 200), person_box_xyxy(300, 200)))
    tracker.reset()
    assert tracker.frame_index == 0
    assert _ids_of(tracker.update(*frame(person_box_xyxy(600, 200)))) == [1]


def test_many_people_random_walk_no_id_is_shared_in_a_frame():
    rng = np.random.default_rng(7)
    tracker = ByteTracker(fps=30)
    centres = rng.uniform(100, 900, (12, 2))
    seen: set[int] = set()
    for _ in range(100):
        centres += rng.normal(0, 3, centres.shape)
        boxes = np.stack([person_box_xyxy(x, y) for x, y in centres])
        out = tracker.update(boxes, rng.uniform(0.3, 1.0, 12))
        assert len(set(out.det_indices.tolist())) == len(out)
        seen.update(out.track_ids.tolist())
    assert len(seen) <= 14  # a few ids may change where people overlap, never one per frame
