"""Flip agreement of the teacher (posetool/training/teacher_agreement.py): mirrored coordinates and
left/right slots mapped back, one-to-one pairing by box IoU, the distance rule in box heights;
and on a real PoseTrack frame, the filtered labels are a subset of the teacher's."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from diffpose.posetrack_format import load_posetrack
from posetool.run.detector import Detections
from posetool.training.pseudo_label import PseudoLabelConfig, pseudo_label
from posetool.training.teacher_agreement import COCO17_FLIP, flip_agreement

WIDTH_PX = 400


def _person(box_xyxy, keypoints_xy) -> Detections:
    return Detections(
        np.array([box_xyxy], np.float32),
        np.array([0.9], np.float32),
        np.array([keypoints_xy], np.float32),
        np.ones((1, 17), np.float32),
    )


def _mirrored(det: Detections) -> Detections:
    """What a perfectly consistent teacher returns on the mirrored frame."""
    boxes = det.boxes_xyxy.copy()
    boxes[:, [0, 2]] = WIDTH_PX - det.boxes_xyxy[:, [2, 0]]
    kps = det.keypoints_xy[:, list(COCO17_FLIP)].copy()  # its left is the original's right
    kps[..., 0] = WIDTH_PX - kps[..., 0]
    return Detections(boxes, det.scores.copy(), kps, det.keypoint_scores.copy())


def _asymmetric_pose() -> np.ndarray:
    """17 joints at distinct places, left and right far apart (a swap would be caught)."""
    rng = np.random.default_rng(0)
    return np.stack([rng.uniform(60, 140, 17), rng.uniform(20, 220, 17)], axis=1)


def test_a_consistent_teacher_agrees_on_every_joint() -> None:
    det = _person([50, 10, 150, 230], _asymmetric_pose())
    assert flip_agreement(det, _mirrored(det), WIDTH_PX, 0.01).all()


def test_slots_are_swapped_back_so_an_unswapped_mirror_disagrees() -> None:
    det = _person([50, 10, 150, 230], _asymmetric_pose())
    mirror = _mirrored(det)
    unswapped = mirror.keypoints_xy[:, list(COCO17_FLIP)]  # left and right not exchanged
    wrong = Detections(mirror.boxes_xyxy, mirror.scores, unswapped, mirror.keypoint_scores)
    agree = flip_agreement(det, wrong, WIDTH_PX, 0.01)[0]
    assert agree[0]  # the nose has no partner
    assert not agree[1:].any()


def test_one_joint_moved_beyond_the_share_of_the_box_height_disagrees() -> None:
    det = _person([50, 10, 150, 230], _asymmetric_pose())  # box height 220 px
    mirror = _mirrored(det)
    kps = mirror.keypoints_xy.copy()
    right_wrist_in_mirror = COCO17_FLIP.index(9)  # where the left wrist (9) lands
    kps[0, right_wrist_in_mirror, 1] += 0.05 * 220 + 1  # just past 0.05 box heights
    kps[0, 0, 1] += 0.05 * 220 - 1  # the nose just within
    moved = Detections(mirror.boxes_xyxy, mirror.scores, kps, mirror.keypoint_scores)
    agree = flip_agreement(det, moved, WIDTH_PX, 0.05)[0]
    assert not agree[9]
    assert agree[0]
    assert agree.sum() == 16


def test_persons_pair_by_iou_and_an_unpaired_person_agrees_on_nothing() -> None:
    pose = _asymmetric_pose()
    a = _person([50, 10, 150, 230], pose)
    b_pose = pose + np.array([200.0, 0.0])
    b = _person([250, 10, 350, 230], b_pose)
    both = Detections(
        np.concatenate([a.boxes_xyxy, b.boxes_xyxy]),
        np.concatenate([a.scores, b.scores]),
        np.concatenate([a.keypoints_xy, b.keypoints_xy]),
        np.concatenate([a.keypoint_scores, b.keypoint_scores]),
    )
    mirror_of_b_only = _mirrored(b)
    agree = flip_agreement(both, mirror_of_b_only, WIDTH_PX, 0.05)
    assert not agree[0].any()  # a has no mirrored box: unsure everywhere
    assert agree[1].all()
    # the mirrored persons in reverse order pair the same way
    mirror = _mirrored(both)
    reversed_mirror = Detections(
        *(
            x[::-1].copy()
            for x in (mirror.boxes_xyxy, mirror.scores, mirror.keypoints_xy, mirror.keypoint_scores)
        )
    )
    assert flip_agreement(both, reversed_mirror, WIDTH_PX, 0.01).all()
    assert flip_agreement(both, Detections.empty(), WIDTH_PX, 0.05).shape == (2, 17)
    assert not flip_agreement(both, Detections.empty(), WIDTH_PX, 0.05).any()


def test_filtered_labels_of_a_real_frame_are_a_subset_of_the_teachers(
    teacher, posetrack_sample, tmp_path
) -> None:
    seq = posetrack_sample / "images" / "val" / "009473_mpii_test"
    folder = tmp_path / "frame"
    folder.mkdir()
    shutil.copy(seq / "000000.jpg", folder / "000000.jpg")
    plain = PseudoLabelConfig(every=1, min_joints=1)
    pseudo_label([folder], tmp_path / "plain", teacher, plain)
    filtered = PseudoLabelConfig(every=1, min_joints=1, flip_agreement=0.05)
    pseudo_label([folder], tmp_path / "agree", teacher, filtered)
    a = load_posetrack(tmp_path / "plain" / "annotations" / "train" / "frame.json").frames[0]
    b = load_posetrack(tmp_path / "agree" / "annotations" / "train" / "frame.json").frames[0]
    assert b.num_persons >= 1
    kept = 0
    for kp in b.keypoints:  # every filtered person is one of the teacher's, same joints or fewer
        same = [p for p in a.keypoints if np.allclose(p[kp[:, 2] > 0, :2], kp[kp[:, 2] > 0, :2])]
        assert len(same) == 1
        assert ((kp[:, 2] > 0) <= (same[0][:, 2] > 0)).all()
        kept += int((kp[:, 2] > 0).sum())
    assert 0 < kept <= int((a.keypoints[..., 2] > 0).sum())


def test_a_negative_share_is_refused() -> None:
    with pytest.raises(ValueError, match="flip_agreement"):
        PseudoLabelConfig(flip_agreement=-0.1)
