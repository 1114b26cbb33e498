"""The person detector's settings side by side: time per frame and how far boxes and tracks move.

Part 1, the detector alone on one thread (as each pipeline worker runs it) over the first
``--frames`` frames of a video: float32; bfloat16 with the head in float32 (the previous
setting, reproduced by hand here); bfloat16 with the head's convolutions in bfloat16 (the
current one); the same without YOLO's keypoint branch (what the pipeline runs). Boxes of
every setting against float32: for each float32 box scoring over 0.3, the nearest box's
largest corner gap (px), median, p95 and max.

Part 2 (``--tracks``), the whole ``--fast`` pipeline in float32 against ``auto`` (bfloat16 where
native) over the same frames: MOTA of the auto tracks with the float32 tracks as truth (IoU 0.5),
id switches, misses and false positives, and the keypoint gap of matched track ids (px).

Usage::

    .venv/bin/python bench/bench_detector.py [--video crosswalk_crowd.mp4] [--frames 60] [--tracks]
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

os.environ.setdefault("YOLO_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
VIDEOS = ROOT.parent / "shared" / "data" / "videos"


def _frames(path: Path, n: int) -> list[np.ndarray]:
    from posetool.io.video_io import VideoReader

    with VideoReader(path) as reader:
        return [f.frame_bgr for _, f in zip(range(n), reader, strict=False)]


def _head_float32(detector) -> None:
    """The previous bfloat16 setting: the whole head back in float32."""
    import torch

    from posetool.run.detector import _cast

    (net,) = detector.networks()
    head = net.model[-1]
    head.float()
    for branch in (head.cv2, head.cv3, head.cv4):
        for seq in branch:
            if isinstance(seq, torch.nn.Sequential):
                seq[0].register_forward_pre_hook(lambda _m, a: _cast(a, torch.float32))


def detector_part(frames: list[np.ndarray], imgsz: int) -> None:
    import torch

    from posetool.run.detector import DetectorConfig, PersonDetector

    torch.set_num_threads(1)
    settings = [
        ("float32", "fp32", True, False),
        ("bfloat16, head float32 (before)", "bf16", True, True),
        ("bfloat16, head convs bfloat16", "bf16", True, False),
        ("  + no keypoint branch (pipeline)", "bf16", False, False),
    ]
    found = {}
    print(f"detector, {len(frames)} frames, imgsz {imgsz}, 1 thread")
    print(f"{'setting':36s} {'ms/frame':>8s} {'median px':>9s} {'p95 px':>7s} {'max px':>7s}")
    for name, precision, keypoints, head_fp32 in settings:
        det = PersonDetector(
            DetectorConfig(imgsz=imgsz, conf=0.1, precision=precision, keypoints=keypoints)
        )
        det.detect(frames[0])  # builds the predictor and sets the network up
        if head_fp32:
            _head_float32(det)
        for f in frames[:3]:
            det.detect(f)
        t0 = time.perf_counter()
        found[name] = [det.detect(f) for f in frames]
        ms = 1000 * (time.perf_counter() - t0) / len(frames)
        gaps = [
            np.abs(got.boxes_xyxy - box).max(axis=1).min() if len(got) else np.inf
            for ref, got in zip(found["float32"], found[name], strict=True)
            for box in ref.boxes_xyxy[ref.scores > 0.3]
        ]
        print(
            f"{name:36s} {ms:8.1f} {np.median(gaps):9.2f} {np.percentile(gaps, 95):7.2f} "
            f"{np.max(gaps):7.2f}"
        )


def tracks_part(video: Path, frames: int) -> None:
    import motmetrics as mm

    from posetool.run.pipeline import load_models, process_video
    from posetool.run.pipeline_config import PipelineConfig
    from trackers.matching import iou_matrix

    runs = {}
    for precision in ("fp32", "auto"):
        base = PipelineConfig.fast()
        cfg = replace(
            base,
            max_frames=frames,
            detector=replace(base.detector, precision=precision),
            pose=replace(base.pose, precision=precision),
        )
        runs[precision], _ = process_video(video, cfg, load_models(cfg))
    acc = mm.MOTAccumulator(auto_id=True)
    gaps = []
    for truth, got in zip(runs["fp32"].frames, runs["auto"].frames, strict=True):
        iou = iou_matrix(truth.boxes_xyxy, got.boxes_xyxy)
        dist = np.where(iou >= 0.5, 1.0 - iou, np.nan)
        acc.update(truth.track_ids.tolist(), got.track_ids.tolist(), dist)
        for i, track in enumerate(truth.track_ids):
            j = np.flatnonzero(got.track_ids == track)
            if len(j):
                gaps.append(np.linalg.norm(truth.keypoints_xy[i] - got.keypoints_xy[j[0]], axis=-1))
    names = ["mota", "num_switches", "num_misses", "num_false_positives", "num_objects"]
    row = mm.metrics.create().compute(acc, metrics=names).iloc[0]
    gap = np.concatenate(gaps)
    print(
        f"--fast pipeline, auto vs float32, {frames} frames of {video.name}: MOTA "
        f"{row['mota']:.3f}, id switches {int(row['num_switches'])}, misses "
        f"{int(row['num_misses'])}, false positives {int(row['num_false_positives'])} of "
        f"{int(row['num_objects'])} boxes; keypoint gap median {np.median(gap):.2f} px, "
        f"mean {gap.mean():.2f} px"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--video", default="crosswalk_crowd.mp4")
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--imgsz", type=int, default=480, help="detector input (480: --fast)")
    ap.add_argument("--tracks", action="store_true", help="also compare whole-pipeline tracks")
    ap.add_argument("--track-frames", type=int, default=150)
    args = ap.parse_args()
    path = VIDEOS / args.video
    if not path.is_file():
        raise SystemExit(f"{path} is absent (shared data)")
    detector_part(_frames(path, args.frames), args.imgsz)
    if args.tracks:
        tracks_part(path, args.track_frames)


if __name__ == "__main__":
    main()
