"""End-to-end pipeline speed and memory, side by side with the peer ``yolo pose track``.

Cases (each in its own subprocess so peak RSS is per case):
- ours at the default settings and at ``--fast``, split by stage (decode, detect, track, pose),
  pipelined (the default) and, for comparison, ``--sequential`` (one frame at a time);
- the peer: ultralytics YOLO11n-pose + ByteTrack via ``YOLO(w).track(stream=True,
  tracker='bytetrack.yaml')`` on the same frames (ultralytics imports ``lap``, installed; it is
  kept offline with ``YOLO_OFFLINE=1``), twice: as a user gets it (ultralytics puts torch on
  ``min(8, cores - 1)`` threads, 1 on 2 cores) and forced onto every core, as ours runs;
- the crop-mode accuracy cost: own_box vs key_box on the same clip and seed, mean
  ``keypoint_gap_px`` over the evaluated joints, and the time of each.

Usage::

    .venv/bin/python bench/bench_pipeline.py --frames 150
    .venv/bin/python bench/bench_pipeline.py --frames 30 --videos crosswalk_crowd.mp4
    .venv/bin/python bench/bench_pipeline.py --frames 72 --videos two_people_indoor_mmaction2.mp4 \
        --skip-crop --skip-sequential --with-640 --with-256-prior
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
VIDEOS = ROOT.parent / "shared" / "data" / "videos"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def case_ours(video: Path, preset: str, frames: int) -> dict:
    """``preset``: "default" or "fast", with "-sequential" for one frame at a time, or
    "default-640": the default with the detector at 640 px whatever the frame's size, or
    "default-256prior": the default without the 384×288 prior crop (``pose.prior_crop_px``
    0: the crop prior from the model's own 256×192 crop pass)."""
    from diffpose.torch_threads import usable_cpu_count
    from posetool.run.pipeline import load_models, process_video
    from posetool.run.pipeline_config import PipelineConfig

    cfg = PipelineConfig.fast() if preset.startswith("fast") else PipelineConfig()
    cfg = replace(cfg, max_frames=frames, pipelined=not preset.endswith("-sequential"))
    if preset == "default-640":
        cfg = replace(cfg, detector=replace(cfg.detector, max_imgsz=0))
    if preset == "default-256prior":
        cfg = replace(cfg, pose=replace(cfg.pose, prior_crop_px=0))
    models = load_models(cfg)
    process_video(video, replace(cfg, max_frames=3), models)  # warm-up, as the peer's below
    _, s = process_video(video, cfg, models)
    per_frame = {k: 1000 * v / max(s.frames, 1) for k, v in s.stage_seconds.items()}
    return {
        "frames": s.frames,
        "persons": s.persons,
        "tracks": s.tracks,
        "threads": cfg.threads or usable_cpu_count(),
        "ms_per_frame": 1000 * s.seconds / max(s.frames, 1),
        "stages_ms": per_frame,
        "peak_mb": _peak_mb(),
    }


def case_peer(video: Path, frames: int, all_cores: bool) -> dict:
    import torch
    from ultralytics import YOLO

    from diffpose.torch_threads import usable_cpu_count
    from diffpose.yolo_weights import default_weights_path

    model = YOLO(str(default_weights_path()), task="pose")
    import cv2

    cap = cv2.VideoCapture(str(video))
    ok, first = cap.read()
    cap.release()
    if ok:
        model.predict(first, verbose=False)  # warm-up: predictor set-up is not per-frame cost
    if all_cores:  # ultralytics' select_device sets torch to its NUM_THREADS on every set-up
        import ultralytics.utils.torch_utils as torch_utils

        torch_utils.NUM_THREADS = usable_cpu_count()
        torch.set_num_threads(torch_utils.NUM_THREADS)
    threads = torch.get_num_threads()
    n = persons = 0
    ids: set[int] = set()
    start = time.perf_counter()
    for result in model.track(str(video), stream=True, tracker="bytetrack.yaml", verbose=False):
        n += 1
        boxes = result.boxes
        persons += len(boxes)
        if boxes.id is not None:
            ids.update(int(i) for i in boxes.id.tolist())
        if n >= frames:
            break
    seconds = time.perf_counter() - start
    assert torch.get_num_threads() == threads
    return {
        "frames": n,
        "persons": persons,
        "tracks": len(ids),
        "threads": threads,
        "ms_per_frame": 1000 * seconds / max(n, 1),
        "peak_mb": _peak_mb(),
    }


def keypoint_gap_px(keypoints_a_xy, keypoints_b_xy):
    """(N, K) image-pixel distance between two predictions of the same persons (both already
    mapped back to the image): the accuracy cost of own-box crops against key-box ones."""
    import numpy as np

    diff = np.asarray(keypoints_a_xy, np.float64) - np.asarray(keypoints_b_xy, np.float64)
    return np.linalg.norm(diff, axis=-1)


def case_crop_modes(video: Path, frames: int, steps: int, ensemble: int) -> dict:
    import numpy as np

    from diffpose.keypoints import EVALUATED_SLOTS
    from posetool.run.pipeline import load_models, process_video
    from posetool.run.pipeline_config import PipelineConfig
    from posetool.run.pose_estimator import PoseConfig

    out, results = {}, {}
    models = None
    for mode in ("own_box", "key_box"):
        cfg = PipelineConfig(  # every tracked person posed: the two modes row for row
            pose=PoseConfig(steps=steps, ensemble=ensemble, crop_mode=mode, duplicate_oks=0.0),
            max_frames=frames,
        )
        models = models or load_models(cfg)
        t0 = time.perf_counter()
        results[mode], s = process_video(video, cfg, models)
        out[f"{mode}_pose_ms_per_frame"] = 1000 * s.stage_seconds["pose"] / max(s.frames, 1)
        out[f"{mode}_total_s"] = time.perf_counter() - t0
    gaps = []
    for a, b in zip(results["own_box"].frames, results["key_box"].frames, strict=True):
        assert np.array_equal(a.track_ids, b.track_ids)  # same detector + tracker
        if a.num_persons:
            gaps.append(keypoint_gap_px(a.keypoints_xy, b.keypoints_xy)[:, EVALUATED_SLOTS])
    gap = np.concatenate(gaps) if gaps else np.zeros((0, 15))
    out.update(
        person_frames=len(gap),
        mean_gap_px=float(gap.mean()) if len(gap) else 0.0,
        median_gap_px=float(np.median(gap)) if len(gap) else 0.0,
    )
    return out


def _sub(args: list[str]) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
    )
    if proc.returncode:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=150, help="frames per video (default 150)")
    ap.add_argument("--videos", nargs="*", default=["crosswalk_crowd.mp4", "dancer_mgt.avi"])
    ap.add_argument("--crop-video", default="dancer_mgt.avi")
    ap.add_argument("--crop-frames", type=int, default=30)
    ap.add_argument("--crop-steps", type=int, default=4)
    ap.add_argument("--crop-ensemble", type=int, default=10)
    ap.add_argument("--skip-crop", action="store_true")
    ap.add_argument(
        "--skip-sequential",
        action="store_true",
        help="leave out the one-frame-at-a-time runs of both presets",
    )
    ap.add_argument(
        "--with-640",
        action="store_true",
        help="also the default with the detector at 640 px on frames larger than that "
        "(what detector.max_imgsz costs)",
    )
    ap.add_argument(
        "--with-256-prior",
        action="store_true",
        help="also the default without the 384x288 prior crop (what pose.prior_crop_px costs)",
    )
    ap.add_argument("--case", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:  # child: one case, JSON on the last line
        kind, video, extra = args.case.split("|")
        path = VIDEOS / video
        if kind == "ours":
            res = case_ours(path, extra, args.frames)
        elif kind == "peer":
            res = case_peer(path, args.frames, all_cores=extra == "all")
        else:
            res = case_crop_modes(path, args.crop_frames, args.crop_steps, args.crop_ensemble)
        print(json.dumps(res))
        return
    import torch

    print(
        f"bench_pipeline: {args.frames} frames per video, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {os.cpu_count()} cores (CPU)"
    )
    hdr = (
        f"{'video':22s} {'run':30s} {'thr':>3s} {'ms/frame':>9s} {'fps':>6s} {'decode':>7s} "
        f"{'detect':>7s} {'track':>6s} {'pose':>8s} {'persons':>8s} {'tracks':>6s} {'peakMB':>7s} "
        f"{'vs peer':>7s} {'vs peer all cores':>17s}"
    )
    print(hdr)
    for video in args.videos:
        peer = _sub([f"--frames={args.frames}", f"--case=peer|{video}|"])
        peer_all = _sub([f"--frames={args.frames}", f"--case=peer|{video}|all"])
        rows = [("yolo pose track", peer), ("yolo pose track, all cores", peer_all)]
        presets = ["default", "fast"]
        if not args.skip_sequential:
            presets += ["default-sequential", "fast-sequential"]
        if args.with_640:
            presets.append("default-640")
        if args.with_256_prior:
            presets.append("default-256prior")
        for preset in presets:
            rows.append(
                (
                    f"posetool {preset.replace('-', ', ')}",
                    _sub([f"--frames={args.frames}", f"--case=ours|{video}|{preset}"]),
                )
            )
        for label, r in rows:
            if "error" in r:
                print(f"{video:22s} {label:30s} ERROR {r['error']}")
                continue
            st = r.get("stages_ms", {})
            ratios = [
                r["ms_per_frame"] / p["ms_per_frame"] if "ms_per_frame" in p else float("nan")
                for p in (peer, peer_all)
            ]
            print(
                f"{video:22s} {label:30s} {r['threads']:3d} {r['ms_per_frame']:9.1f} "
                f"{1000 / r['ms_per_frame']:6.2f} "
                + " ".join(
                    f"{st[k]:{w}.1f}" if k in st else f"{'-':>{w}s}"
                    for k, w in (("decode", 7), ("detect", 7), ("track", 6), ("pose", 8))
                )
                + f" {r['persons'] / max(r['frames'], 1):8.1f} {r['tracks']:6d} {r['peak_mb']:7.0f}"
                f" {ratios[0]:6.2f}x {ratios[1]:16.2f}x"
            )
    print(
        "(thr: cores used (peer: torch threads); stage columns: ms per frame, busy time of "
        "the stage's threads, so in a pipelined run they overlap and add up to more than "
        "ms/frame; persons: mean per frame; peakMB: max RSS of the case's process)"
    )
    if not args.skip_crop:
        r = _sub(
            [
                f"--crop-frames={args.crop_frames}",
                f"--crop-steps={args.crop_steps}",
                f"--crop-ensemble={args.crop_ensemble}",
                f"--case=crop|{args.crop_video}|",
            ]
        )
        print(
            f"crop modes on {args.crop_video}, {args.crop_frames} frames, steps "
            f"{args.crop_steps}, ensemble {args.crop_ensemble}, seed 0: {json.dumps(r)}"
        )


if __name__ == "__main__":
    main()
