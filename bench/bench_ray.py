"""Batch throughput of ``posetool run --engine ray`` with 1 and 2 workers against the local run.

The same inputs and settings for each case; each case writes to a fresh output folder and is
timed end to end (model loading included, as a user's run has it; the Ray instance itself is
started once before the cases, as a cluster would already be up). Prints videos/hour and
frames/s per case, and whether every case wrote byte-identical PoseTrack JSON.

On a machine with few cores, the workers share them (1 worker: every core; 2 workers: half
each), so the figures say what Ray's per-video scheduling costs or gains here, not what a
cluster gains: there, each added node adds its cores.

Usage::

    .venv/bin/python bench/bench_ray.py --frames 30
    .venv/bin/python bench/bench_ray.py --frames 10 --videos squat_lsp.mp4 dancer_mgt.avi
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

ROOT = Path(__file__).resolve().parents[1]
VIDEOS = ROOT.parent / "shared" / "data" / "videos"
DEFAULT_VIDEOS = (
    "squat_lsp.mp4",
    "two_people_indoor_mmaction2.mp4",
    "armwrestling_mmaction2.mp4",
    "basketball_mmaction2.mp4",
)


def _case(label: str, run, out_dir: Path) -> dict:
    start = time.perf_counter()
    batch = run(out_dir)
    seconds = time.perf_counter() - start
    info = batch.to_dict()
    if info["failed"]:
        raise SystemExit(f"{label}: {info['failed']} input(s) failed: {info['videos']}")
    return {
        "case": label,
        "seconds": seconds,
        "videos": info["ok"],
        "frames": info["frames"],
        "videos_per_hour": 3600 * info["ok"] / seconds,
        "frames_per_s": info["frames"] / seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--videos",
        nargs="+",
        default=list(DEFAULT_VIDEOS),
        help=f"file names in {VIDEOS} (or paths)",
    )
    parser.add_argument("--frames", type=int, default=30, help="--max-frames per video")
    parser.add_argument("--fast", action="store_true", help="the --fast preset")
    args = parser.parse_args()

    import ray

    from diffpose.torch_threads import usable_cpu_count
    from posetool.batch.ray_engine import run_batch_ray
    from posetool.batch.runner import run_batch
    from posetool.run.pipeline_config import PipelineConfig

    inputs = [p if p.is_file() else VIDEOS / p.name for p in map(Path, args.videos)]
    missing = [str(p) for p in inputs if not p.is_file()]
    if missing:
        print(f"missing inputs: {', '.join(missing)}", file=sys.stderr)
        return 2
    config = replace(
        PipelineConfig.fast() if args.fast else PipelineConfig(), max_frames=args.frames
    )
    cores = usable_cpu_count()
    print(
        f"{len(inputs)} videos x {args.frames} frames, {cores} cores, steps "
        f"{config.pose.steps}, ensemble {config.pose.ensemble}"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_ray") as tmp:
        tmp = Path(tmp)
        rows.append(
            _case("local (run_batch)", lambda out: run_batch(inputs, out, config), tmp / "local")
        )
        ray.init(
            num_cpus=cores,
            include_dashboard=False,
            logging_level=logging.WARNING,
            log_to_driver=False,
        )
        try:
            for workers in (1, 2):
                rows.append(
                    _case(
                        f"ray, {workers} worker(s)",
                        lambda out, w=workers: run_batch_ray(inputs, out, config, workers=w),
                        tmp / f"ray{workers}",
                    )
                )
        finally:
            ray.shutdown()
        same = all(
            (tmp / d / f"{p.stem}.json").read_bytes()
            == (tmp / "local" / f"{p.stem}.json").read_bytes()
            for d in ("ray1", "ray2")
            for p in inputs
        )
    print(f"\n{'case':22s} {'seconds':>8s} {'videos/hour':>12s} {'frames/s':>9s}")
    for r in rows:
        print(
            f"{r['case']:22s} {r['seconds']:8.1f} {r['videos_per_hour']:12.0f} "
            f"{r['frames_per_s']:9.2f}"
        )
    print(f"\nPoseTrack JSON identical to the local run's in every case: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
