"""PoseEstimator with a thread pool: the same records as without, in order, bounded, errors out.

The real shipped checkpoint on a real PoseTrack frame; two synthetic tracks, one of which
leaves after a few frames, so windows repeat key frames at both ends and at the gap.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
import torch

from diffpose.keypoints import KEYPOINT_NAMES
from posetool.run.pose_estimator import PoseConfig, PoseEstimator, default_checkpoint_path
from tests.posetool.frames import tracked
from tests.required import missing_input

FRAME = "posetrack18_sample/videos/000001_mpiinew_test/000000.jpg"
BOXES = np.array([[100, 100, 220, 400], [400, 120, 520, 420]], np.float32)


@pytest.fixture(scope="module")
def pose_model():
    if not default_checkpoint_path().is_file():
        missing_input(f"no DiffPose checkpoint at {default_checkpoint_path()}")
    from posetool.run.pose_estimator import load_pose_model

    return load_pose_model(PoseConfig())


@pytest.fixture(scope="module")
def frame(shared_data):
    image = cv2.imread(str(shared_data / FRAME))
    if image is None:
        missing_input(f"{shared_data / FRAME} is absent")
    return image


@pytest.fixture(autouse=True)
def _one_op_thread():
    """As in a pipelined run: pool threads and the caller on one op thread each."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _stream(est: PoseEstimator, frame: np.ndarray, n: int = 9, watch=None) -> list:
    out = []
    for i in range(n):
        ids = [1, 2] if i < 4 else [1]  # track 2 leaves after frame 3
        boxes = BOXES[: len(ids)] + i  # moving a pixel a frame
        out += est.push(tracked(i, frame, ids, boxes, np.full(len(ids), 0.9)))
        if watch is not None:
            watch(est)
    return out + est.flush()


@pytest.mark.parametrize("crop_mode", ["own_box", "key_box"])
@pytest.mark.parametrize("workers", [1, 3])
def test_executor_gives_the_records_of_a_run_without(pose_model, frame, crop_mode, workers):
    cfg = PoseConfig(steps=1, ensemble=2, crop_mode=crop_mode)
    alone = _stream(PoseEstimator(pose_model, cfg), frame)
    with ThreadPoolExecutor(workers) as pool:  # one worker: a record task never starves
        pooled = _stream(PoseEstimator(pose_model, cfg, pool, max_pending=2), frame)
    assert [r.frame_index for r in pooled] == list(range(9))
    assert [r.num_persons for r in pooled] == [2, 2, 2, 2, 1, 1, 1, 1, 1]
    for a, b in zip(alone, pooled, strict=True):
        np.testing.assert_array_equal(a.track_ids, b.track_ids)
        np.testing.assert_array_equal(a.keypoints_xy, b.keypoints_xy)
        np.testing.assert_array_equal(a.keypoint_spread_px, b.keypoint_spread_px)


def test_push_waits_while_max_pending_records_are_in_flight(pose_model, frame):
    in_flight = []
    with ThreadPoolExecutor(2) as pool:
        est = PoseEstimator(pose_model, PoseConfig(steps=1, ensemble=1), pool, max_pending=2)
        records = _stream(est, frame, n=12, watch=lambda e: in_flight.append(len(e._pending)))
    assert len(records) == 12
    assert max(in_flight) <= 2 and est.max_buffered <= est.window
    with pytest.raises(ValueError, match="max_pending"):
        PoseEstimator(pose_model, PoseConfig(), max_pending=0)


def test_an_error_in_a_pool_task_reaches_the_caller(pose_model, frame, monkeypatch):
    def broken(*_args):
        raise RuntimeError("record task failed on purpose")

    with ThreadPoolExecutor(2) as pool:
        est = PoseEstimator(pose_model, PoseConfig(steps=1, ensemble=1), pool)
        monkeypatch.setattr(est, "_predict", broken)
        with pytest.raises(RuntimeError, match="on purpose"):
            _stream(est, frame)


def test_prior_score_weight_mixes_the_priors_confidence_into_joint_scores_only(pose_model, frame):
    """PoseConfig.prior_score_weight changes the joint scores, never the poses: at 0.5 each
    score is the geometric mean of the scores at 0 (peak × box) and at 1 (the crop prior's
    confidence × box); head_top and neck, which the prior lacks, keep peak × box."""
    runs = {
        w: _stream(
            PoseEstimator(pose_model, PoseConfig(steps=1, ensemble=2, prior_score_weight=w)),
            frame,
            n=5,
        )
        for w in (0.0, 0.5, 1.0)
    }
    moved = []
    for a, half, b in zip(runs[0.0], runs[0.5], runs[1.0], strict=True):
        for r in (half, b):
            np.testing.assert_array_equal(a.track_ids, r.track_ids)
            np.testing.assert_array_equal(a.keypoints_xy, r.keypoints_xy)
            np.testing.assert_array_equal(a.keypoint_spread_px, r.keypoint_spread_px)
        np.testing.assert_allclose(
            half.keypoint_scores, np.sqrt(a.keypoint_scores * b.keypoint_scores), rtol=1e-4
        )
        lacking = [KEYPOINT_NAMES.index("head_top"), KEYPOINT_NAMES.index("head_bottom")]
        np.testing.assert_array_equal(a.keypoint_scores[:, lacking], b.keypoint_scores[:, lacking])
        moved.append(np.abs(a.keypoint_scores - b.keypoint_scores).max())
    assert max(moved) > 0.01  # the crop prior finds a person in some boxes


def test_heatmap_decoding_reaches_the_model_and_moves_keypoints_by_sub_pixel_steps(
    pose_model, frame
):
    """PoseConfig.heatmap_decoding is the model's decoding of the averaged heatmaps: "dark"
    and "quarter" give the same persons, keypoints a fraction of a heatmap pixel apart (one
    is about 6 image px here), and the same members' spread (always the quarter shift)."""
    runs = {
        decoding: _stream(
            PoseEstimator(pose_model, PoseConfig(steps=1, ensemble=2, heatmap_decoding=decoding)),
            frame,
            n=5,
        )
        for decoding in ("quarter", "dark")
    }
    gaps = []
    for a, b in zip(runs["quarter"], runs["dark"], strict=True):
        np.testing.assert_array_equal(a.track_ids, b.track_ids)
        np.testing.assert_array_equal(a.keypoint_spread_px, b.keypoint_spread_px)
        gaps.append(np.linalg.norm(a.keypoints_xy - b.keypoints_xy, axis=-1).ravel())
    gaps = np.concatenate(gaps)
    assert gaps.max() > 0.5
    assert np.median(gaps) < 6.0
