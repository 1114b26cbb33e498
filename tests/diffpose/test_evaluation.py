"""The PoseTrack evaluator on the real sample files, against values worked out by hand.

The sample (posetrack18_sample/annotations/val) holds three sequences with one labelled frame
each: 003418 (1 person; its right knee lies in an ignore region), 009473 (2 persons, 2 ignore
regions), 012834 (11 persons). After poseval's cleanup the annotated GT joints per slot are
N_GT below (nose 13, head_bottom 14, ... left_wrist 11, ...).
"""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from diffpose.evaluation import EvaluationInputError, evaluate_paths, evaluate_videos
from diffpose.evaluation.average_precision import voc_ap
from diffpose.evaluation.polygon import points_in_polygon
from diffpose.keypoints import EVALUATED_SLOTS, KEYPOINT_NAMES
from diffpose.posetrack_format import parse_posetrack

N_GT = dict(
    zip(
        KEYPOINT_NAMES,
        [13, 14, 14, 0, 0, 14, 14, 10, 14, 11, 11, 13, 13, 10, 10, 10, 10],
        strict=True,
    )
)
LEFT_WRIST = KEYPOINT_NAMES.index("left_wrist")


@pytest.fixture()
def gt_dir(posetrack_sample):
    return posetrack_sample / "annotations" / "val"


def _load(gt_dir):
    return {p.name: json.loads(p.read_text()) for p in sorted(gt_dir.glob("*.json"))}


def _as_predictions(files, score=1.0):
    """GT turned into a prediction file: every annotated joint predicted with ``score``."""
    out = copy.deepcopy(files)
    for data in out.values():
        for ann in data["annotations"]:
            ann["scores"] = [score] * 17
    return out


def _write(tmp_path, files):
    pred = tmp_path / "pred"
    pred.mkdir()
    for name, data in files.items():
        (pred / name).write_text(json.dumps(data))
    return pred


def _total(per_joint: dict) -> float:
    return float(np.mean([per_joint[KEYPOINT_NAMES[k]] for k in EVALUATED_SLOTS]))


def test_gt_against_itself_is_100_everywhere(gt_dir):
    result = evaluate_paths(gt_dir, gt_dir, skip_last_frame=False)
    assert result.num_sequences == 3 and result.num_frames == 3
    assert all(v == pytest.approx(100.0) for v in result.ap_columns().values())
    assert all(v == pytest.approx(100.0) for v in result.mota_columns().values())


def test_mota_skips_last_frame_like_poseval(gt_dir):
    # Each sample sequence has one labelled frame; poseval drops the last one, so nothing is
    # left to track and MOTA is undefined (NaN), while AP is unaffected.
    result = evaluate_paths(gt_dir, gt_dir)
    assert result.total_ap == pytest.approx(100.0)
    assert math.isnan(result.mota_columns()["Total"])


@pytest.mark.parametrize(
    ("moved_score", "expected_ap"),
    [
        (0.5, 100 * 10 / 11),  # the miss ranks last: precision 1 up to recall 10/11
        (2.0, 100 * (10 / 11) ** 2),  # the miss ranks first: envelope 10/11 over recall 10/11
    ],
)
def test_joint_moved_beyond_threshold(gt_dir, tmp_path, moved_score, expected_ap):
    files = _as_predictions(_load(gt_dir))
    ann = files["012834_mpii_test.json"]["annotations"][0]
    x, y, _ = ann["keypoints"][3 * LEFT_WRIST : 3 * LEFT_WRIST + 3]
    assert x > 0 and y > 0
    head_w, head_h = ann["bbox_head"][2:]
    head_size = 0.6 * math.hypot(head_w, head_h)
    ann["keypoints"][3 * LEFT_WRIST] = x + 0.51 * head_size  # just beyond PCKh 0.5
    ann["scores"][LEFT_WRIST] = moved_score
    result = evaluate_paths(gt_dir, _write(tmp_path, files), tracking=False)
    per_joint = result.to_dict()["ap_per_joint"]
    assert per_joint["left_wrist"] == pytest.approx(expected_ap)
    assert result.total_ap == pytest.approx((14 * 100 + expected_ap) / 15)
    assert result.ap_columns()["Wrist"] == pytest.approx((100 + expected_ap) / 2)


def test_joint_moved_within_threshold_still_hits(gt_dir, tmp_path):
    files = _as_predictions(_load(gt_dir))
    ann = files["012834_mpii_test.json"]["annotations"][0]
    head_size = 0.6 * math.hypot(*ann["bbox_head"][2:])
    ann["keypoints"][3 * LEFT_WRIST] += 0.49 * head_size
    assert evaluate_paths(
        gt_dir, _write(tmp_path, files), tracking=False
    ).total_ap == pytest.approx(100)


def test_dropped_person_lowers_recall_only(gt_dir, tmp_path):
    files = _as_predictions(_load(gt_dir))
    dropped = files["012834_mpii_test.json"]["annotations"].pop(4)
    has = np.array(dropped["keypoints"]).reshape(17, 3)[:, :2].any(axis=1)
    result = evaluate_paths(gt_dir, _write(tmp_path, files), skip_last_frame=False)
    per_joint = result.to_dict()["ap_per_joint"]
    for k in EVALUATED_SLOTS:
        name = KEYPOINT_NAMES[k]
        # Every remaining prediction is a hit: precision 1 up to recall (n - 1)/n.
        assert per_joint[name] == pytest.approx(100 * (N_GT[name] - has[k]) / N_GT[name])
        # MOTA: one miss among N_GT objects for the joints the dropped person has.
        assert result.to_dict()["mota_per_joint"][name] == pytest.approx(
            100 * (1 - has[k] / N_GT[name])
        )


def test_scores_reversed_between_hit_and_false_positive(gt_dir, tmp_path):
    # An extra person far from everyone: a false positive for all 15 joints.
    files = _as_predictions(_load(gt_dir))
    extra = copy.deepcopy(files["009473_mpii_test.json"]["annotations"][0])
    extra["track_id"] = 99
    extra["keypoints"] = [v for _ in range(17) for v in (1500.0, 1000.0, 1)]
    files["009473_mpii_test.json"]["annotations"].append(extra)
    for fp_score, expected in ((0.5, lambda n: 100.0), (2.0, lambda n: 100 * n / (n + 1))):
        extra["scores"] = [fp_score] * 17
        pred = tmp_path / f"s{fp_score}"
        pred.mkdir()
        for name, data in files.items():
            (pred / name).write_text(json.dumps(data))
        per_joint = evaluate_paths(gt_dir, pred, tracking=False).to_dict()["ap_per_joint"]
        for k in EVALUATED_SLOTS:
            name = KEYPOINT_NAMES[k]
            assert per_joint[name] == pytest.approx(expected(N_GT[name])), (fp_score, name)


def test_points_inside_ignore_regions_are_not_counted(gt_dir, tmp_path):
    files = _as_predictions(_load(gt_dir))
    image = files["009473_mpii_test.json"]["images"][0]
    region = np.stack([image["ignore_regions_x"][0], image["ignore_regions_y"][0]], axis=1)
    inside_xy = (1400.0, 400.0)
    assert points_in_polygon(np.array([inside_xy]), region)[0]
    extra = copy.deepcopy(files["009473_mpii_test.json"]["annotations"][0])
    extra.update(
        track_id=98, scores=[5.0] * 17, keypoints=[v for _ in range(17) for v in (*inside_xy, 1)]
    )
    files["009473_mpii_test.json"]["annotations"].append(extra)
    result = evaluate_paths(gt_dir, _write(tmp_path, files), tracking=False)
    assert result.total_ap == pytest.approx(100.0)


def test_missing_prediction_file_and_frame_count(gt_dir, tmp_path):
    files = _as_predictions(_load(gt_dir))
    del files["003418_mpii_test.json"]
    with pytest.raises(EvaluationInputError, match="003418_mpii_test.json.*missing"):
        evaluate_paths(gt_dir, _write(tmp_path, files))
    files = _as_predictions(_load(gt_dir))
    img = copy.deepcopy(files["003418_mpii_test.json"]["images"][0])
    img["id"] += 1
    files["003418_mpii_test.json"]["images"].append(img)
    pred = tmp_path / "two"
    pred.mkdir()
    for name, data in files.items():
        (pred / name).write_text(json.dumps(data))
    with pytest.raises(EvaluationInputError, match="2 prediction frames.*has 1"):
        evaluate_paths(gt_dir, pred)


def _synthetic(track_ids_per_frame, source):
    """A 17-joint person at a fixed place in each frame, with the given track ids."""
    kps = [
        v
        for k in range(17)
        for v in ((0.0, 0.0, 0) if k in (3, 4) else (100.0 + 10 * k, 200.0 + 5 * k, 1))
    ]
    images, anns = [], []
    for f, tids in enumerate(track_ids_per_frame):
        images.append({"id": f, "file_name": f"images/x/{f:06d}.jpg", "is_labeled": True})
        for tid in tids:
            anns.append(
                {
                    "image_id": f,
                    "track_id": tid,
                    "keypoints": kps,
                    "scores": [1.0] * 17,
                    "bbox_head": [90, 150, 40, 40],
                }
            )
    return parse_posetrack({"images": images, "annotations": anns}, source=source)


def test_identity_switch_counted_and_last_frame_skipped():
    gt = _synthetic([[0], [0], [0]], "gt.json")
    pred = _synthetic([[5], [5], [7]], "pred.json")
    # poseval drops frame 2, where the switch happens.
    skip = evaluate_videos([("s", gt, pred)])
    assert skip.mota_columns()["Total"] == pytest.approx(100.0)
    keep = evaluate_videos([("s", gt, pred)], skip_last_frame=False)
    assert keep.mota_columns()["Total"] == pytest.approx(100 * (1 - 1 / 3))
    assert keep.total_ap == pytest.approx(100.0)


def test_frame_without_predictions_uses_poseval_placeholder():
    # poseval feeds an empty-prediction frame as one GT id 0 vs one hypothesis id 0 that cannot
    # match: one miss and one false positive per joint.
    gt = _synthetic([[0], [0]], "gt.json")
    pred = _synthetic([[0], []], "pred.json")
    keep = evaluate_videos([("s", gt, pred)], skip_last_frame=False)
    assert keep.mota_columns()["Total"] == pytest.approx(100 * (1 - 2 / 2))
    assert keep.total_ap == pytest.approx(100 * 1 / 2)


def test_voc_ap_hand_values():
    # Two hits and a miss in between, 3 positives: P = 1, 1/2, 2/3; R = 1/3, 1/3, 2/3.
    assert voc_ap(np.array([1 / 3, 1 / 3, 2 / 3]), np.array([1.0, 0.5, 2 / 3])) == pytest.approx(
        1 / 3 * 1 + 1 / 3 * 2 / 3
    )


def test_polygon_boundary_is_outside():
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float)
    pts = np.array([[5, 5], [0, 5], [10, 10], [11, 5], [5, 10], [9.99, 0.01]])
    assert points_in_polygon(pts, square).tolist() == [True, False, False, False, False, True]
