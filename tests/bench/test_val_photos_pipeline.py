"""bench/val_photos_pipeline.py: output poses are matched to the labelled persons and scored as
PCK should (the labels themselves 100, shifted 0, missing poses missed), and variants reach the
pipeline's settings."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bench.val_photos import load_pose_samples_singles, load_val_photos
from bench.val_photos_pipeline import score_poses, variant_config
from posetool.run.pipeline_config import PipelineConfig
from tests.required import missing_input


def _photos(shared_data: Path):
    for folder in ("images/coco_val2014_people", "pose_samples"):
        if not (shared_data / folder).is_dir():
            missing_input(f"{shared_data}/{folder} is absent")
    return load_val_photos(data_root=shared_data) + load_pose_samples_singles(shared_data)


def test_output_poses_score_as_pck_should(shared_data: Path) -> None:
    photos = _photos(shared_data)
    own = [(p.keypoints_xy.astype(np.float64), p.boxes_xyxy) for p in photos]
    perfect = score_poses(photos, own)
    assert perfect["Limbs"] == 100.0 and perfect["matched"] == perfect["persons"] == 52
    assert perfect["poses"] == 52
    shifted = []
    for p in photos:
        side = np.maximum(
            p.boxes_xyxy[:, 2] - p.boxes_xyxy[:, 0], p.boxes_xyxy[:, 3] - p.boxes_xyxy[:, 1]
        )
        shifted.append((p.keypoints_xy + 0.15 * side[:, None, None], p.boxes_xyxy))
    assert score_poses(photos, shifted)["Limbs"] == 0.0
    # in reverse order within each photo the poses still find their persons (one-to-one)
    reverse = [(xy[::-1], b[::-1]) for xy, b in own]
    assert score_poses(photos, reverse)["Limbs"] == 100.0
    none = [(np.zeros((0, 17, 2)), np.zeros((0, 4))) for _ in photos]
    missed = score_poses(photos, none)
    assert missed["Limbs"] == 0.0 and missed["matched"] == 0 and missed["poses"] == 0


def test_variants_reach_pose_detector_and_tracker_settings() -> None:
    defaults = PipelineConfig()
    name, cfg = variant_config(
        "mix=prior_choice=both,detector.max_imgsz=0,tracker.track_buffer_s=2", defaults, "x.st"
    )
    assert name == "mix" and cfg.pose.prior_choice == "both" and cfg.pose.checkpoint == "x.st"
    assert cfg.detector.max_imgsz == 0 and cfg.tracker.track_buffer_s == 2
    with pytest.raises(SystemExit, match="does not apply to photos"):
        variant_config("start=tracker.new_track_thresh=0.3", defaults, "x.st")
    assert variant_config("shipped=", defaults, "x.st")[1].pose == replace(
        defaults.pose, checkpoint="x.st"
    )
    with pytest.raises(SystemExit, match="no_such_field"):
        variant_config("bad=no_such_field=1", defaults, "x.st")
