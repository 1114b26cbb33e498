"""The paired bootstrap of AP differences, on the real PoseTrack sample (three sequences, one
labelled frame each) against predictions made from its ground truth."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from diffpose.evaluation import evaluate_videos
from diffpose.evaluation.assignment import FrameAssignment
from diffpose.evaluation.bootstrap import neighbour_clusters, paired_bootstrap
from diffpose.evaluation.evaluate import assign_sequences
from diffpose.keypoints import KEYPOINT_NAMES, NUM_KEYPOINTS
from diffpose.posetrack_format import parse_posetrack

LEFT_WRIST = KEYPOINT_NAMES.index("left_wrist")


def _pairs(posetrack_sample, move_wrist: bool = False):
    """(name, GT, prediction) of the sample's sequences; the prediction is the GT with every
    joint scored 1, and with ``move_wrist`` one left wrist of 012834 moved just past PCKh 0.5
    and scored 0.5."""
    pairs = []
    for path in sorted((posetrack_sample / "annotations" / "val").glob("*.json")):
        data = json.loads(path.read_text())
        pred = copy.deepcopy(data)
        for ann in pred["annotations"]:
            ann["scores"] = [1.0] * 17
        if move_wrist and path.name.startswith("012834"):
            ann = pred["annotations"][0]
            head_size = 0.6 * math.hypot(*ann["bbox_head"][2:])
            ann["keypoints"][3 * LEFT_WRIST] += 0.51 * head_size
            ann["scores"][LEFT_WRIST] = 0.5
        pairs.append(
            (
                path.stem,
                parse_posetrack(data, source=str(path)),
                parse_posetrack(pred, source="pred"),
            )
        )
    return pairs


def _frames(pairs):
    return [fa for seq in assign_sequences(pairs) for fa in seq]


def test_a_model_against_itself_differs_by_nothing(posetrack_sample):
    frames = _frames(_pairs(posetrack_sample))
    for row in paired_bootstrap(frames, frames, samples=50):
        assert row.a == row.b == pytest.approx(100.0)
        assert row.low == row.high == 0.0 and row.share_a_below == 0.0


def test_one_missed_wrist_shows_in_the_wrists_and_not_elsewhere(posetrack_sample):
    good_pairs, bad_pairs = _pairs(posetrack_sample), _pairs(posetrack_sample, move_wrist=True)
    rows = {
        row.group: row
        for row in paired_bootstrap(_frames(good_pairs), _frames(bad_pairs), samples=400, seed=3)
    }
    # the frames as they are: what evaluate_videos reports for each model
    good = evaluate_videos(good_pairs, tracking=False).ap_columns()
    bad = evaluate_videos(bad_pairs, tracking=False).ap_columns()
    for group, row in rows.items():
        assert (row.a, row.b) == (pytest.approx(good[group]), pytest.approx(bad[group]))
    wrist = rows["Wrist"]
    assert wrist.difference == pytest.approx(100 - (100 + 100 * 10 / 11) / 2)
    # 012834 is one of three frames: (2/3)^3 of the resamples leave it out and differ by 0,
    # the others by more; the better model is never below
    assert wrist.low == 0.0 < wrist.high and wrist.share_a_below == 0.0
    assert rows["Elbow"].low == rows["Elbow"].high == 0.0


def test_clusters_resample_together(posetrack_sample):
    good, bad = _frames(_pairs(posetrack_sample)), _frames(_pairs(posetrack_sample, True))
    # one cluster of all three frames: every resample is the set itself
    wrist = {r.group: r for r in paired_bootstrap(good, bad, clusters=[0, 0, 0], samples=20)}
    assert wrist["Wrist"].low == pytest.approx(wrist["Wrist"].difference)
    assert wrist["Wrist"].high == pytest.approx(wrist["Wrist"].difference)


def test_frames_of_other_ground_truth_are_refused(posetrack_sample):
    frames = _frames(_pairs(posetrack_sample))
    with pytest.raises(ValueError, match="same ground-truth frames"):
        paired_bootstrap(frames, frames[:2])
    with pytest.raises(ValueError, match="same ground-truth frames"):
        paired_bootstrap(frames, list(reversed(frames)))
    with pytest.raises(ValueError, match="one id per frame"):
        paired_bootstrap(frames, frames, clusters=[0, 1])
    with pytest.raises(ValueError, match="samples"):
        paired_bootstrap(frames, frames, samples=0)


def test_neighbour_clusters():
    # the crosswalk's pairs of frames 8 apart, and a clip labelled every 2nd frame
    assert neighbour_clusters([[36, 44, 96, 104], [0, 2, 4]], max_gap=10) == [0, 0, 1, 1, 2, 2, 2]
    assert neighbour_clusters([[36, 44], [0, 2]], max_gap=0) == [0, 1, 2, 3]
    assert neighbour_clusters([[], [5]], max_gap=3) == [0]
    with pytest.raises(ValueError, match="ascend"):
        neighbour_clusters([[4, 2]], max_gap=3)
    with pytest.raises(ValueError, match="max_gap"):
        neighbour_clusters([[1]], max_gap=-1)


def test_the_running_maximum_envelope_matches_the_loop():
    # voc_ap's envelope, once poseval's backward loop, on random precision curves
    from diffpose.evaluation.average_precision import voc_ap

    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(1, 30))
        precision = rng.random(n)
        recall = np.sort(rng.random(n))
        mpre = np.concatenate([[0.0], precision, [0.0]])
        mrec = np.concatenate([[0.0], recall, [1.0]])
        for i in range(len(mpre) - 2, -1, -1):
            mpre[i] = max(mpre[i], mpre[i + 1])
        idx = np.flatnonzero(~np.equal(mrec[1:], mrec[:-1])) + 1
        assert voc_ap(recall, precision) == float(np.sum((mrec[idx] - mrec[idx - 1]) * mpre[idx]))


def _frame(hit: bool, labelled: bool) -> FrameAssignment:
    """Every joint predicted once with score 1, a hit or not, labelled once or not at all."""
    k = NUM_KEYPOINTS
    return FrameAssignment(
        scores=tuple(np.ones(1) for _ in range(k)),
        hits=tuple(np.full(1, hit and labelled) for _ in range(k)),
        num_gt=np.full(k, float(labelled)),
        tracking=(),
    )


def test_resamples_without_a_labelled_joint_are_left_out():
    # frame 1 has predictions but no labels: a resample of frame 1 alone (a quarter of them)
    # has no AP; the others give A 100 against B 0 or 50
    a = [_frame(hit=True, labelled=True), _frame(hit=False, labelled=False)]
    b = [_frame(hit=False, labelled=True), _frame(hit=False, labelled=False)]
    rows = {r.group: r for r in paired_bootstrap(a, b, samples=400, seed=2)}
    wrist = rows["Wrist"]
    assert (wrist.a, wrist.b) == (pytest.approx(50.0), 0.0)  # two predictions, one labelled
    assert np.isfinite(wrist.low) and wrist.low > 0 and wrist.high == pytest.approx(100.0)
    assert wrist.share_a_below == 0.0
    nothing = paired_bootstrap(a[1:], b[1:], samples=5)
    assert all(np.isnan(r.low) and np.isnan(r.high) for r in nothing)
