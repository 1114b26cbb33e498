"""Pose-level suppression of duplicate poses (two boxes on one person)."""

from __future__ import annotations

import numpy as np
import pytest

from diffpose.keypoints import KEYPOINT_NAMES, NUM_KEYPOINTS, PLACEHOLDER_SLOTS
from posetool.run.duplicate_poses import (
    OKS_SIGMAS,
    distinct_pose_rows,
    pose_similarity,
    pose_similarity_matrix,
)
from tests.required import missing_input, require_models


def _standing(x0: float, y0: float, height_px: float) -> np.ndarray:
    """A rough standing pose (K, 2): joints spread over a box ``height_px`` tall."""
    rng = np.random.default_rng(0)
    rel = rng.uniform([0.2, 0.0], [0.8, 1.0], size=(NUM_KEYPOINTS, 2))
    return np.array([x0, y0]) + rel * np.array([height_px * 0.4, height_px])


def _visible() -> np.ndarray:
    v = np.ones(NUM_KEYPOINTS, bool)
    v[list(PLACEHOLDER_SLOTS)] = False
    return v


def test_sigmas_cover_every_slot_and_limbs_take_cocos() -> None:
    assert OKS_SIGMAS.shape == (NUM_KEYPOINTS,)
    names = list(KEYPOINT_NAMES)
    assert OKS_SIGMAS[names.index("left_hip")] == pytest.approx(0.107)
    assert OKS_SIGMAS[names.index("right_wrist")] == pytest.approx(0.062)


def test_similarity_is_the_oks_formula() -> None:
    a = _standing(0, 0, 200)
    assert pose_similarity(a, a, _visible(), 80 * 200) == pytest.approx(1.0)
    b = a.copy()
    j = list(KEYPOINT_NAMES).index("left_knee")
    b[j, 0] += 10.0  # one joint 10 px off
    area = 80.0 * 200.0
    want_j = np.exp(-100.0 / (2 * (2 * 0.087) ** 2 * area))
    n = int(_visible().sum())
    assert pose_similarity(a, b, _visible(), area) == pytest.approx((n - 1 + want_j) / n)
    assert pose_similarity(a, a + 500.0, _visible(), area) < 1e-6
    assert pose_similarity(a, a, np.zeros(NUM_KEYPOINTS, bool), area) == 0.0
    assert pose_similarity(a, a, _visible(), 0.0) == 0.0


def test_the_lower_scored_of_two_alike_poses_is_dropped_and_order_kept() -> None:
    person = _standing(100, 50, 300)
    other = _standing(400, 60, 280)  # a second person beside the first
    near_copy = person + 3.0  # the same body from a second box
    kp = np.stack([other, near_copy, person])
    vis = np.stack([_visible()] * 3)
    boxes = np.array([[400, 60, 512, 340], [90, 40, 230, 360], [100, 50, 220, 350]], float)
    scores = np.array([0.8, 0.5, 0.9])
    assert distinct_pose_rows(kp, vis, boxes, scores, 0.5).tolist() == [0, 2]
    # the copy scoring higher keeps it instead
    assert distinct_pose_rows(kp, vis, boxes, np.array([0.8, 0.95, 0.9]), 0.5).tolist() == [0, 1]
    # off: every pose kept
    assert distinct_pose_rows(kp, vis, boxes, scores, 0.0).tolist() == [0, 1, 2]
    assert distinct_pose_rows(kp[:1], vis[:1], boxes[:1], scores[:1], 0.5).tolist() == [0]
    assert distinct_pose_rows(kp[:0], vis[:0], boxes[:0], scores[:0], 0.5).tolist() == []


def test_a_slivers_pose_is_judged_at_the_larger_boxs_scale() -> None:
    """A 20 px wide sliver beside a person, posed 20 px off the person's pose: alike at the
    person box's scale (a duplicate), not at the sliver's own (which would keep it)."""
    person = _standing(100, 50, 300)
    sliver_pose = person + 20.0
    kp = np.stack([person, sliver_pose])
    vis = np.stack([_visible()] * 2)
    boxes = np.array([[100, 50, 220, 350], [90, 60, 110, 360]], float)
    oks = pose_similarity_matrix(kp, vis, boxes)[0, 1]
    at_sliver_scale = pose_similarity(person, sliver_pose, _visible(), 20.0 * 300.0)
    assert at_sliver_scale < 0.5 < oks
    assert distinct_pose_rows(kp, vis, boxes, np.array([0.9, 0.4]), 0.5).tolist() == [0]
    assert distinct_pose_rows(kp, vis, boxes, np.array([0.4, 0.9]), 0.5).tolist() == [1]


def test_joints_not_visible_or_not_finite_do_not_count() -> None:
    a = _standing(0, 0, 200)
    b = a.copy()
    ears = list(PLACEHOLDER_SLOTS)
    b[ears] += 400.0  # placeholders far off: not visible, no effect
    vis = np.stack([_visible()] * 2)
    boxes = np.array([[0, 0, 80, 200]] * 2, float)
    assert pose_similarity_matrix(np.stack([a, b]), vis, boxes)[0, 1] == pytest.approx(1.0)
    b[5] = np.nan  # a joint lost: the rest still decide
    sim = pose_similarity_matrix(np.stack([a, b]), vis, boxes)
    assert np.isfinite(sim).all() and sim[0, 1] == pytest.approx(1.0)
    assert distinct_pose_rows(np.stack([a, b]), vis, boxes, np.array([0.9, 0.8]), 0.5).tolist() == [
        0
    ]


def test_two_overlapping_persons_with_different_poses_both_stay() -> None:
    """Boxes overlapping by most of their area (one person behind another) are not
    duplicates when their poses differ: only pose similarity counts."""
    front = _standing(100, 50, 300)
    behind = front.copy()
    behind[:, 0] = front[:, 0].mean() - (front[:, 0] - front[:, 0].mean())  # mirrored body
    behind[:, 1] += 40.0
    kp = np.stack([front, behind])
    boxes = np.array([[100, 50, 220, 350], [105, 60, 225, 360]], float)
    keep = distinct_pose_rows(kp, np.stack([_visible()] * 2), boxes, np.array([0.9, 0.8]), 0.5)
    assert keep.tolist() == [0, 1]


def test_preferred_rows_win_over_alike_ones_whatever_their_scores() -> None:
    person = _standing(100, 50, 300)
    kp = np.stack([person, person + 2.0])
    vis = np.stack([_visible()] * 2)
    boxes = np.array([[100, 50, 220, 350], [98, 48, 222, 352]], float)
    scores = np.array([0.6, 0.9])
    assert distinct_pose_rows(kp, vis, boxes, scores, 0.5).tolist() == [1]
    assert distinct_pose_rows(kp, vis, boxes, scores, 0.5, np.array([True, False])).tolist() == [0]
    assert distinct_pose_rows(kp, vis, boxes, scores, 0.5, np.array([True, True])).tolist() == [1]


@pytest.fixture(scope="module")
def seated_man(shared_data):
    """COCO val2014 000241 and the models; YOLO puts two boxes on the seated man at the left."""
    import cv2

    from posetool.run.pipeline import load_models
    from posetool.run.pipeline_config import PipelineConfig

    require_models()
    photo = shared_data / "images" / "coco_val2014_people" / "COCO_val2014_000000000241.jpg"
    if not photo.is_file():
        missing_input(f"{photo} is absent")
    return photo, cv2.imread(str(photo)), load_models(PipelineConfig())


def test_two_tracks_on_one_person_do_not_take_turns(seated_man) -> None:
    """Two tracks on the seated man whose box scores swap every frame: the track posed in
    the first frame keeps the pose in every frame (per frame by score alone, the pose would
    alternate between the two track ids)."""
    from posetool.run.pose_config import PoseConfig
    from posetool.run.pose_estimator import PoseEstimator
    from tests.posetool.frames import tracked

    _, frame, models = seated_man
    est = PoseEstimator(models.pose_model, PoseConfig(ensemble=1))
    boxes = np.array([[1, 255, 207, 614], [4, 258, 204, 611]], np.float32)
    out = []
    for i in range(6):
        scores = [0.9, 0.8] if i % 2 == 0 else [0.8, 0.9]
        out += est.push(tracked(i, frame, [1, 2], boxes, scores))
    out += est.flush()
    assert [fr.track_ids.tolist() for fr in out] == [[1]] * 6


def test_the_pipeline_drops_the_second_skeleton_on_a_seated_man(seated_man) -> None:
    """COCO val2014 000241: YOLO puts two boxes on the seated man at the left (one a
    46 px sliver at the image edge); both crops pose him. With suppression one skeleton
    stays there, and the other persons of the photo are all still posed."""
    from dataclasses import replace

    from posetool.run.pipeline import process_video
    from posetool.run.pipeline_config import PipelineConfig

    photo, _, models = seated_man
    base = PipelineConfig()
    cfg = replace(base, pose=replace(base.pose, ensemble=1))
    kept, summary_kept = process_video(photo, cfg, models)
    off, summary_off = process_video(
        photo, replace(cfg, pose=replace(cfg.pose, duplicate_oks=0.0)), models
    )
    rec_kept, rec_off = kept.frames[0], off.frames[0]
    assert rec_kept.num_persons == rec_off.num_persons - 1
    assert (summary_kept.duplicate_poses_dropped, summary_off.duplicate_poses_dropped) == (1, 0)
    assert "(1 duplicate pose dropped)" in summary_kept.line()
    assert "duplicate" not in summary_off.line()
    left = lambda rec: int(np.sum(rec.boxes_xyxy[:, 2] < 250))  # noqa: E731
    assert left(rec_off) == 2 and left(rec_kept) == 1
    # the kept one is the higher-scored, whole-body box
    i = int(np.flatnonzero(rec_kept.boxes_xyxy[:, 2] < 250)[0])
    assert rec_kept.boxes_xyxy[i, 2] - rec_kept.boxes_xyxy[i, 0] > 150
