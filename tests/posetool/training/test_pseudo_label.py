"""Teacher labels (posetool/training/pseudo_label.py) with the real YOLO11n-pose: on the drawn-figures
video made here, on stills, and on a real PoseTrack frame when ../shared/data is present."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from diffpose.data.posetrack import load_posetrack_file
from diffpose.keypoints import COCO17_SHARED_EVALUATED, NUM_KEYPOINTS
from diffpose.posetrack_format import load_posetrack
from posetool.training.pseudo_label import PseudoLabelConfig, pseudo_label
from tests.posetool.synthetic import figures_frame

UNLABELLED = [s for s in range(NUM_KEYPOINTS) if s not in COCO17_SHARED_EVALUATED]


def _check_labels(video, cfg: PseudoLabelConfig) -> int:
    """The rules of the module docstring, frame by frame; returns the persons labelled."""
    persons = 0
    for idx, fr in enumerate(video.frames):
        if idx % cfg.every:
            assert fr.num_persons == 0 and not fr.is_labeled
            continue
        assert fr.is_labeled == (fr.num_persons > 0)
        persons += fr.num_persons
        if not fr.num_persons:
            continue
        assert (fr.keypoints[:, UNLABELLED] == 0).all()  # head_bottom, head_top, ears
        labelled = fr.keypoints[..., 2] > 0
        assert (labelled.sum(1) >= cfg.min_joints).all()
        assert (fr.keypoint_scores[labelled] >= cfg.min_joint_score).all()
        assert (fr.boxes_xywh[:, 3] >= cfg.min_box_height_px).all()
    return persons


def test_video_frames_and_every_nth_frame_labelled(teacher, figures_video, tmp_path) -> None:
    cfg = PseudoLabelConfig(every=2, min_box_score=0.3, max_frames=6)
    counts = pseudo_label([figures_video], tmp_path, teacher, cfg)
    assert list(counts) == ["figures"]
    images = sorted((tmp_path / "images" / "figures").glob("*.jpg"))
    assert [p.name for p in images] == [f"{i:06d}.jpg" for i in range(6)]
    video = load_posetrack(tmp_path / "annotations" / "train" / "figures.json")
    assert len(video.frames) == 6  # unlabelled frames kept: the clips' neighbours
    persons = _check_labels(video, cfg)
    assert persons == counts["figures"] >= 1  # the red figure, at least once
    # the training reader takes the set as written: one clip per labelled person
    samples = load_posetrack_file(
        tmp_path / "annotations" / "train" / "figures.json", tmp_path, min_joints=cfg.min_joints
    )
    assert len(samples) == persons
    assert all(Path(p).is_file() for s in samples for p in s.frame_paths)


def test_stills_are_one_sequence_each_and_unreadable_ones_skipped(teacher, tmp_path) -> None:
    folder = tmp_path / "stills"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), figures_frame(0))
    cv2.imwrite(str(folder / "b.png"), figures_frame(4))
    (folder / "c.jpg").write_bytes(b"not an image")
    cfg = PseudoLabelConfig(every=1, min_box_score=0.3)
    counts = pseudo_label([folder], tmp_path / "out", teacher, cfg, stills=True)
    assert sorted(counts) == ["stills_a", "stills_b"]
    for name in counts:
        video = load_posetrack(tmp_path / "out" / "annotations" / "train" / f"{name}.json")
        assert len(video.frames) == 1
        assert _check_labels(video, cfg) == counts[name]


def test_a_real_posetrack_frame_gets_its_people(teacher, posetrack_sample, tmp_path) -> None:
    seq = posetrack_sample / "images" / "val" / "009473_mpii_test"
    folder = tmp_path / "frame"
    folder.mkdir()
    shutil.copy(seq / "000000.jpg", folder / "000000.jpg")
    cfg = PseudoLabelConfig(every=1)
    counts = pseudo_label([folder], tmp_path / "out", teacher, cfg)
    video = load_posetrack(tmp_path / "out" / "annotations" / "train" / "frame.json")
    assert _check_labels(video, cfg) == counts["frame"] >= 1
    assert np.isfinite(video.frames[0].keypoints).all()


def test_config_ranges_are_checked() -> None:
    with pytest.raises(ValueError, match="every"):
        PseudoLabelConfig(every=0)
    with pytest.raises(ValueError, match="min_joint_score"):
        PseudoLabelConfig(min_joint_score=1.5)
