"""Peak memory of writing a video's poses, at 1x and 10x the frames: every record kept and the
JSON built at once (``write_posetrack``, what the batch did before) against records streamed
to the file as frames finish (``PoseTrackStreamWriter``, what the batch does now).

Each measurement runs in a fresh process on synthetic records (``--persons`` per frame, with
spread and scores, as the pipeline emits them) and prints the peak RSS over the baseline of a
process that imported the same modules (``ru_maxrss``), so the figures isolate what grows with
the video's length. The models' own memory does not depend on it (bench_pipeline.py).

Usage:
    .venv/bin/python bench/bench_memory.py [--frames 2000] [--persons 5] [--format 2018]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]


def synthetic_records(frames: int, persons: int) -> Iterator:
    """FrameRecords as the pipeline emits them: ``persons`` tracked people per frame."""
    from posetool.records import FrameRecord

    rng = np.random.default_rng(0)
    for i in range(frames):
        x0 = rng.uniform(0, 1500, (persons, 1)).astype(np.float32)
        boxes = np.concatenate([x0, x0 / 2, x0 + 120, x0 / 2 + 300], axis=1)
        yield FrameRecord(
            frame_index=i,
            timestamp_s=i / 30,
            boxes_xyxy=boxes,
            box_scores=rng.uniform(0.3, 1, persons).astype(np.float32),
            track_ids=np.arange(persons) + 1,
            keypoints_xy=rng.uniform(0, 1000, (persons, 17, 2)).astype(np.float32),
            keypoint_scores=rng.uniform(0, 1, (persons, 17)).astype(np.float32),
            keypoint_spread_px=rng.uniform(0, 9, (persons, 17)).astype(np.float32),
        )


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(mode: str, frames: int, persons: int, fmt: str) -> None:
    """One measurement; prints the peak RSS in MiB."""
    from posetool.io.posetrack_io import write_posetrack
    from posetool.io.posetrack_stream import PoseTrackStreamWriter
    from posetool.records import VideoMeta, VideoResult

    out = Path(tempfile.mkdtemp()) / "bench.json"
    if mode == "kept":
        records = tuple(synthetic_records(frames, persons))
        meta = VideoMeta(path="bench.mp4", fps=30, frame_count=frames, width=1920, height=1080)
        write_posetrack(VideoResult(meta, records), out, fmt)
    elif mode == "streamed":
        with PoseTrackStreamWriter(out, "bench", fmt) as writer:
            for record in synthetic_records(frames, persons):
                writer.add(record)
            writer.commit()
    else:  # baseline: the same imports, one record
        next(synthetic_records(1, persons))
    size_mib = out.stat().st_size / 2**20 if out.exists() else 0.0
    print(f"{peak_rss_mib():.1f} {size_mib:.1f}")


def measure(mode: str, frames: int, persons: int, fmt: str) -> tuple[float, float]:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--frames",
        str(frames),
        "--persons",
        str(persons),
        "--format",
        fmt,
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    rss, size = done.stdout.split()
    return float(rss), float(size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--frames", type=int, default=2000, help="frames at 1x (10x is measured too)"
    )
    parser.add_argument("--persons", type=int, default=5)
    parser.add_argument("--format", default="2018", choices=["2017", "2018", "2021"])
    parser.add_argument("--child", choices=["kept", "streamed", "baseline"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.frames, args.persons, args.format)
        return
    base, _ = measure("baseline", 1, args.persons, args.format)
    print(
        f"{args.persons} persons per frame, PoseTrack {args.format}; baseline process "
        f"{base:.0f} MiB; peak RSS above it:"
    )
    print(f"{'frames':>8} {'JSON MiB':>9} {'kept + built at once':>22} {'streamed':>10}")
    for frames in (args.frames, 10 * args.frames):
        kept, size = measure("kept", frames, args.persons, args.format)
        streamed, _ = measure("streamed", frames, args.persons, args.format)
        print(f"{frames:>8} {size:>9.1f} {kept - base:>18.1f} MiB {streamed - base:>6.1f} MiB")


if __name__ == "__main__":
    main()
