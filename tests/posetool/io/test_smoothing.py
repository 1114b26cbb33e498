"""Temporal smoothing: less jitter on a noisy walk, human-edited persons untouched, stretches
cut at gaps and hidden joints, and the --smooth option of render."""

from __future__ import annotations

import numpy as np
import pytest

from posetool.io.smoothing import (
    SmoothingConfig,
    mean_acceleration_px,
    mean_displacement_px,
    smooth_result,
)
from posetool.records import FrameRecord, VideoMeta, VideoResult

# One-Euro with less lag than its default: on a steady 50 px/s walk the default's lag costs
# about as much as the 3 px noise it removes
METHODS = [
    SmoothingConfig(method="one-euro", beta=0.05),
    SmoothingConfig(method="savgol", window=7, order=2),
]


def _noisy_walk(
    frames: int = 40, fps: float = 25.0, edited: tuple[int, ...] = (), absent: tuple[int, ...] = ()
) -> tuple[VideoResult, np.ndarray]:
    """One track moving 2 px/frame with 3 px noise; returns the result and the clean path."""
    rng = np.random.default_rng(1)
    clean = np.array([[50.0 + 2 * f, 60.0] for f in range(frames)])
    records = []
    for f in range(frames):
        if f in absent:
            records.append(FrameRecord(frame_index=f, timestamp_s=f / fps))
            continue
        kp = clean[f] + np.arange(17)[:, None] * [0, 5] + rng.normal(0, 3, (17, 2))
        records.append(
            FrameRecord(
                frame_index=f,
                timestamp_s=f / fps,
                boxes_xyxy=[[0, 0, 200, 200]],
                box_scores=[0.9],
                track_ids=[7],
                keypoints_xy=kp[None],
                keypoint_scores=np.ones((1, 17)),
                human_edited=[f in edited],
            )
        )
    meta = VideoMeta(path="walk.mp4", fps=fps, frame_count=frames, width=400, height=200)
    return VideoResult(meta, tuple(records)), clean


@pytest.mark.parametrize("config", METHODS, ids=lambda c: c.method)
def test_smoothing_reduces_jitter_and_error(config):
    result, clean = _noisy_walk()
    smoothed = smooth_result(result, config)
    assert mean_acceleration_px(smoothed) < 0.5 * mean_acceleration_px(result)
    truth = clean[:, None] + np.arange(17)[:, None] * [0, 5]

    def err(r) -> float:
        gaps = [
            np.linalg.norm(fr.keypoints_xy[0] - t, axis=-1)
            for fr, t in zip(r.frames, truth, strict=True)
        ]
        return float(np.mean(gaps))

    assert err(smoothed) < err(result)
    assert smoothed.frames[5].box_scores.tolist() == result.frames[5].box_scores.tolist()


@pytest.mark.parametrize("config", METHODS, ids=lambda c: c.method)
def test_human_edited_persons_pass_through_unchanged(config):
    result, _ = _noisy_walk(edited=(0, 10, 11, 25))
    smoothed = smooth_result(result, config)
    for f in (0, 10, 11, 25):
        assert np.array_equal(smoothed.frames[f].keypoints_xy, result.frames[f].keypoints_xy)
    assert not np.allclose(smoothed.frames[12].keypoints_xy, result.frames[12].keypoints_xy)


def test_a_gap_in_the_track_restarts_the_filter():
    result, _ = _noisy_walk(absent=(20,))
    smoothed = smooth_result(result, SmoothingConfig(method="one-euro"))
    # the first frame after the gap starts a new stretch: One-Euro passes it through as is
    assert np.array_equal(smoothed.frames[21].keypoints_xy, result.frames[21].keypoints_xy)
    assert smoothed.frames[20].num_persons == 0


def test_hidden_joints_are_not_smoothed_or_bridged():
    result, _ = _noisy_walk(frames=12)
    frames = list(result.frames)
    vis = np.ones((1, 17), bool)
    vis[0, 9] = False
    far = frames[6].keypoints_xy.copy()
    far[0, 9] = [1000.0, 1000.0]  # a hidden joint's stale position must not leak into others
    from dataclasses import replace

    frames[6] = replace(frames[6], keypoint_visible=vis, keypoints_xy=far)
    result = VideoResult(result.meta, tuple(frames))
    smoothed = smooth_result(result, SmoothingConfig(method="savgol", window=5, order=1))
    assert smoothed.frames[6].keypoints_xy[0, 9].tolist() == [1000.0, 1000.0]
    assert np.all(smoothed.frames[5].keypoints_xy[0, 9] < 200)


def test_jitter_metrics_on_a_known_path():
    result, _ = _noisy_walk(frames=5)
    frames = tuple(
        FrameRecord(
            frame_index=f,
            timestamp_s=f / 25,
            boxes_xyxy=[[0, 0, 9, 9]],
            box_scores=[1],
            track_ids=[1],
            keypoints_xy=np.full((1, 17, 2), [f * f, 0.0]),
            keypoint_scores=np.ones((1, 17)),
        )
        for f in range(5)
    )
    quad = VideoResult(result.meta, frames)
    assert mean_acceleration_px(quad) == pytest.approx(2.0)  # x = f^2: second difference 2
    assert mean_displacement_px(quad) == pytest.approx(4.0)  # 1, 3, 5, 7


def test_config_rejects_bad_parameters():
    with pytest.raises(ValueError, match="odd"):
        SmoothingConfig(method="savgol", window=6)
    with pytest.raises(ValueError, match="order"):
        SmoothingConfig(method="savgol", window=5, order=5)
    with pytest.raises(ValueError, match="method"):
        SmoothingConfig(method="kalman")


def test_render_smooth_option_draws_smoothed_poses(tmp_path):
    import cv2
    from click.testing import CliRunner

    from posetool.cli import main
    from posetool.io.posetrack_io import write_posetrack

    video = tmp_path / "walk.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (400, 200))
    for _ in range(40):
        writer.write(np.zeros((200, 400, 3), np.uint8))
    writer.release()
    result, _ = _noisy_walk()
    poses = write_posetrack(result, tmp_path / "walk.json")
    outs = {}
    for name, extra in (("raw", []), ("smooth", ["--smooth", "one-euro", "--min-cutoff", "0.5"])):
        out = tmp_path / f"{name}.mp4"
        res = CliRunner().invoke(main, ["render", str(video), str(poses), "-o", str(out), *extra])
        assert res.exit_code == 0, res.output
        outs[name] = out
    # frame 0 is the filter's start (the same); the drawings differ from there on
    cap_raw, cap_smooth = cv2.VideoCapture(str(outs["raw"])), cv2.VideoCapture(str(outs["smooth"]))
    diffs = [
        np.abs(cap_raw.read()[1].astype(int) - cap_smooth.read()[1].astype(int)).sum()
        for _ in range(10)
    ]
    assert diffs[0] == 0 and max(diffs[1:]) > 0
