"""Effect of ``--smooth`` on real videos (jitter, px/frame) and on the PoseTrack sample (mAP).

The pipeline runs once per video (``posetool run --max-frames N``, one thread, one video after
another) into ``--out``; existing outputs are reused. Per video and in total (weighted by
joint steps) it prints, for the raw poses and each filter at its default parameters:

- ``accel``: jitter, mean |x[t+1] − 2 x[t] + x[t−1]| of each visible joint over consecutive
  frames of its track, px/frame² (a steady motion scores 0);
- ``disp``: mean frame-to-frame displacement, px/frame;
- ``moved``: mean distance between smoothed and raw joints, px (what the filter costs).

PoseTrack sample: the pipeline on its labelled image folders, exported with each filter,
scored with ``posetool eval`` (Total AP).

Usage: python bench/bench_smoothing.py [--max-frames 60] [--preset refine|paper]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from posetool.io.exports import export_result, load_result_for_export
from posetool.io.smoothing import (
    SmoothingConfig,
    joint_differences_px,
    mean_acceleration_px,
    mean_displacement_px,
    smooth_result,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA = REPO_ROOT.parent / "shared" / "data"
FILTERS = {
    "one-euro": SmoothingConfig(method="one-euro"),
    "savgol": SmoothingConfig(method="savgol"),
}


def _cli(*args: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "YOLO_OFFLINE": "1", "PYTHONPATH": str(REPO_ROOT)}
    cmd = [sys.executable, "-m", "posetool.cli", *args]
    return subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout


def _run(inputs: list[Path], out: Path, max_frames: int, preset: str) -> None:
    """The pipeline on each input whose output is missing, one after another."""
    for path in inputs:
        name = path.stem if path.is_file() else path.name
        if not (out / f"{name}.json").is_file():
            print(f"running the pipeline on {path.name} ...", file=sys.stderr)
            _cli(
                "run",
                str(path),
                "-o",
                str(out),
                "--max-frames",
                str(max_frames),
                "--preset",
                preset,
                "--threads",
                "1",
            )


def _moved_px(raw, smooth) -> float:
    d = [
        np.linalg.norm(a.keypoints_xy - b.keypoints_xy, axis=-1)[a.keypoint_visible]
        for a, b in zip(raw.frames, smooth.frames, strict=True)
        if a.num_persons
    ]
    return float(np.concatenate(d).mean()) if d else float("nan")


def bench_videos(videos: list[Path], out: Path) -> None:
    names = ["raw", *FILTERS]
    print(
        f"{'video':32s} {'tracks':>6s} "
        + " ".join(f"{n + ' accel/disp/moved':>26s}" for n in names)
    )
    totals = {n: np.zeros(3) for n in names}  # weighted sums: accel, disp, moved
    weights = np.zeros(2)
    for video in videos:
        raw = load_result_for_export(out / f"{video.stem}.json", video)
        results = {"raw": raw, **{n: smooth_result(raw, c) for n, c in FILTERS.items()}}
        n2, n1 = len(joint_differences_px(raw, 2)), len(joint_differences_px(raw, 1))
        weights += [n2, n1]
        cells = []
        for n, res in results.items():
            a, d, m = mean_acceleration_px(res), mean_displacement_px(res), _moved_px(raw, res)
            totals[n] += [a * n2 if n2 else 0, d * n1 if n1 else 0, m * n1 if n1 else 0]
            cells.append(f"{a:8.2f} {d:8.2f} {m:8.2f}")
        print(f"{video.stem:32s} {len(raw.track_ids()):6d} " + " ".join(f"{c:>26s}" for c in cells))
    cells = [
        f"{t[0] / weights[0]:8.2f} {t[1] / weights[1]:8.2f} {t[2] / weights[1]:8.2f}"
        for t in totals.values()
    ]
    print(f"{'all (weighted by joint steps)':32s} {'':6s} " + " ".join(f"{c:>26s}" for c in cells))


def bench_posetrack(out: Path, preset: str) -> None:
    sample = DATA / "posetrack18_sample"
    gt = sample / "annotations" / "val"
    folders = sorted((sample / "images" / "val").iterdir())
    raw_dir = out / "posetrack_raw"
    _run(folders, raw_dir, 0, preset)
    frames = {f.name: len(list(f.glob("*.jpg"))) for f in folders}
    print(f"\nPoseTrack sample ({len(folders)} sequences, frames each: {frames})")
    for name in ["raw", *FILTERS]:
        pred = raw_dir
        if name != "raw":
            pred = out / f"posetrack_{name}"
            pred.mkdir(exist_ok=True)
            for folder in folders:
                res = load_result_for_export(raw_dir / f"{folder.name}.json")
                export_result(
                    res,
                    "posetrack",
                    pred / f"{folder.name}.json",
                    overwrite=True,
                    smoothing=FILTERS[name],
                )
        report = json.loads(_cli("eval", str(gt), str(pred), "--format", "json", "--no-tracking"))
        print(f"  {name:10s} Total AP {report['ap']['Total']:.1f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--videos", type=Path, default=DATA / "videos")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "out" / "bench_smoothing")
    p.add_argument("--max-frames", type=int, default=60)
    p.add_argument("--preset", choices=["refine", "paper"], default="refine")
    a = p.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    videos = sorted(v for v in a.videos.iterdir() if v.suffix in (".mp4", ".avi"))
    _run(videos, a.out, a.max_frames, a.preset)
    print(f"defaults: {FILTERS}\n")
    bench_videos(videos, a.out)
    bench_posetrack(a.out, a.preset)


if __name__ == "__main__":
    main()
