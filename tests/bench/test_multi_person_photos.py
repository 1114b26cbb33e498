"""bench/multi_person_photos.py: the real multi-person labels, detection matching, grouped PCK."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.multi_person_photos import (
    HEAD_SLOTS,
    LIMB_SLOTS,
    PhotoGT,
    load_multi_person_photos,
    match_detections,
    pck_groups,
)
from diffpose.keypoints import KEYPOINT_NAMES
from tests.required import missing_input

SLOT = {name: k for k, name in enumerate(KEYPOINT_NAMES)}


@pytest.fixture(scope="module")
def photos_root(shared_data: Path) -> Path:
    if not (shared_data / "pose_samples").is_dir():
        missing_input(f"{shared_data / 'pose_samples'} is absent")
    return shared_data


def test_loader_counts_on_real_photos(photos_root: Path) -> None:
    photos = load_multi_person_photos(photos_root)
    counts = Counter()
    for p in photos:
        counts[p.dataset] += len(p.boxes_xyxy)
    assert dict(counts) == {"aic": 7, "mhp": 2, "exlpose": 6, "humanart": 2}
    assert len(photos) == 7
    everyone = load_multi_person_photos(photos_root, min_limb_joints=0)
    assert sum(len(p.boxes_xyxy) for p in everyone) == 21
    assert len(everyone) == 8


def test_loaded_persons_are_labelled_inside_their_image(photos_root: Path) -> None:
    for p in load_multi_person_photos(photos_root):
        assert len(p.boxes_xyxy) >= 2, p.image_path
        assert (p.weights[:, list(LIMB_SLOTS)].sum(1) >= 8).all(), p.image_path
        assert set(np.unique(p.weights)) <= {0.0, 1.0}
        h, w = cv2.imread(p.image_path).shape[:2]
        xy = p.keypoints_xy[p.weights > 0]
        assert (xy >= 0).all() and (xy[:, 0] < w).all() and (xy[:, 1] < h).all(), p.image_path
        boxes = p.boxes_xyxy
        assert (boxes[:, 2:] > boxes[:, :2]).all(), p.image_path


def test_head_slots_mapped_the_right_way_up(photos_root: Path) -> None:
    """head_top (aic 'Head top', mhp 'Head-top', exlpose 'head') lies above head_bottom
    (the neck) and the shoulders; humanart labels neither."""
    for p in load_multi_person_photos(photos_root):
        head = p.weights[:, list(HEAD_SLOTS)]
        if p.dataset == "humanart":
            assert not head.any()
            continue
        assert head.all(), p.image_path
        top_y = p.keypoints_xy[:, SLOT["head_top"], 1]
        neck_y = p.keypoints_xy[:, SLOT["head_bottom"], 1]
        shoulders_y = p.keypoints_xy[:, [SLOT["left_shoulder"], SLOT["right_shoulder"]], 1]
        assert (top_y < neck_y).all(), p.image_path
        assert (neck_y < shoulders_y.max(1)).all(), p.image_path


def test_match_detections_is_greedy_and_one_to_one() -> None:
    gt = np.array([[0, 0, 100, 200], [50, 0, 150, 200], [400, 0, 500, 200]], dtype=float)
    det = np.array(
        [
            [40, 0, 140, 200],  # IoU 0.43 with gt 0, 0.82 with gt 1
            [0, 0, 90, 200],  # IoU 0.9 with gt 0, 0.27 with gt 1
            [45, 0, 150, 200],  # IoU 0.95 with gt 1 (0.37 with gt 0): takes gt 1 first
            [1000, 0, 1100, 200],  # overlaps nobody
        ]
    )
    assert match_detections(gt, det).tolist() == [1, 2, -1]
    # highest IoU first, not GT order: gt 0 would take det 0 (0.43) before gt 1 (0.82)
    assert match_detections(gt, det[:1]).tolist() == [-1, 0, -1]
    assert match_detections(gt, det[:1], min_iou=0.9).tolist() == [-1, -1, -1]
    assert match_detections(gt, np.zeros((0, 4))).tolist() == [-1, -1, -1]


def two_people() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two fully labelled persons (ears unlabelled) in 100x200 boxes: PCK@0.1 allows 20 px."""
    rng = np.random.default_rng(0)
    boxes = np.array([[0, 0, 100, 200], [300, 0, 400, 200]], dtype=float)
    xy = boxes[:, None, :2] + rng.uniform(0, 1, (2, 17, 2)) * [100, 200]
    weights = np.ones((2, 17))
    weights[:, [SLOT["left_ear"], SLOT["right_ear"]]] = 0
    return xy, weights, boxes


def test_pck_groups_perfect_prediction() -> None:
    xy, weights, boxes = two_people()
    pck, counts = pck_groups(xy, xy, weights, boxes, np.array([True, True]))
    assert pck == {g: 100.0 for g in counts}
    assert counts == {
        "Shoulder": 4,
        "Elbow": 4,
        "Wrist": 4,
        "Hip": 4,
        "Knee": 4,
        "Ankle": 4,
        "Limbs": 24,
        "Head": 4,
    }


def test_pck_groups_shifted_wrist_drops_wrist_group_only() -> None:
    xy, weights, boxes = two_people()
    pred = xy.copy()
    pred[0, SLOT["left_wrist"], 0] += 20.5  # just beyond 0.1 x 200 px
    pred[1, SLOT["right_wrist"], 1] += 19.5  # just within
    pck, counts = pck_groups(pred, xy, weights, boxes, np.array([True, True]))
    assert pck["Wrist"] == pytest.approx(75.0)
    assert pck["Limbs"] == pytest.approx(100.0 * 23 / 24)
    assert all(pck[g] == 100.0 for g in ("Shoulder", "Elbow", "Hip", "Knee", "Ankle", "Head"))
    loose, _ = pck_groups(pred, xy, weights, boxes, np.array([True, True]), threshold=0.2)
    assert loose["Wrist"] == 100.0


def test_pck_groups_unmatched_person_counts_as_missed() -> None:
    xy, weights, boxes = two_people()
    pred = xy.copy()  # person 1's row is exact, but without a detection it is not used
    weights[0, SLOT["right_knee"]] = 0  # an unlabelled joint counts nowhere
    pck, counts = pck_groups(pred, xy, weights, boxes, np.array([True, False]))
    assert counts["Knee"] == 3 and counts["Limbs"] == 23
    assert pck["Knee"] == pytest.approx(100.0 / 3)
    assert pck["Limbs"] == pytest.approx(100.0 * 11 / 23)
    assert pck["Head"] == pytest.approx(50.0)
    pred[1] = np.nan  # what a caller may put in the rows of unmatched persons
    assert pck_groups(pred, xy, weights, boxes, np.array([True, False]))[0] == pck
    weights[:, list(HEAD_SLOTS)] = 0
    pck, counts = pck_groups(pred, xy, weights, boxes, np.array([True, False]))
    assert counts["Head"] == 0 and np.isnan(pck["Head"])


def test_photo_gt_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="photo.jpg"):
        PhotoGT("photo.jpg", "aic", np.zeros((2, 17, 2)), np.zeros((2, 17)), np.zeros((3, 4)))
