"""Seek to random frames of a 1080p video and redraw the frame view with pose overlays.

Measures what the analyst feels when scrubbing: ms from request to decoded QImage (the
decoder thread's ``read_frame`` + BGR->QImage) and ms to redraw the view (pixmap upload +
overlay paint, rendered into an offscreen image of the viewport).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_gui_seek.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("POSETOOL_SHARED_DATA", ROOT.parent / "shared" / "data"))


def _poses(meta, n_persons: int, rng: np.random.Generator):
    """Poses to draw: ``n_persons`` skeletons per frame with random jitter (drawing cost
    only depends on how many persons and joints there are)."""
    from posetool.records import FrameRecord, VideoResult

    frames = []
    for i in range(meta.frame_count):
        x0 = rng.uniform(0, meta.width - 200, (n_persons, 1)).astype(np.float32)
        y0 = rng.uniform(0, meta.height - 400, (n_persons, 1)).astype(np.float32)
        kp = np.stack([x0 + rng.uniform(0, 200, (n_persons, 17)),
                       y0 + rng.uniform(0, 400, (n_persons, 17))], -1)  # fmt: skip
        frames.append(FrameRecord(
            frame_index=i, boxes_xyxy=np.concatenate([x0, y0, x0 + 200, y0 + 400], 1),
            box_scores=np.ones(n_persons), track_ids=np.arange(n_persons), keypoints_xy=kp,
            keypoint_scores=rng.uniform(0, 1, (n_persons, 17)),
            keypoint_spread_px=rng.uniform(0, 20, (n_persons, 17)),
        ))  # fmt: skip
    return VideoResult(meta, tuple(frames))


def _stats(ms: list[float]) -> str:
    a = np.asarray(ms)
    return f"mean {a.mean():6.1f} ms  p95 {np.percentile(a, 95):6.1f} ms  max {a.max():6.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--video", type=Path, default=DATA / "videos" / "two_people_indoor_mmaction2.mp4"
    )
    parser.add_argument("--seeks", type=int, default=40)
    parser.add_argument("--persons", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from posetool.gui.app import create_application

    app = create_application()
    from PySide6.QtGui import QImage, QPainter

    from posetool.gui.decoder import FrameSource
    from posetool.gui.frame_view import FrameView
    from posetool.gui.media import probe_video
    from posetool.gui.session import UncertaintyThresholds

    meta = probe_video(args.video)
    rng = np.random.default_rng(args.seed)
    result = _poses(meta, args.persons, rng)
    view = FrameView()
    view.resize(1400, 800)
    view.show()
    view.set_frame_size(meta.width, meta.height)
    source = FrameSource(args.video, cache_size=0)
    got: dict[int, QImage] = {}
    source.frameReady.connect(lambda i, img: got.__setitem__(i, img))
    thresholds = UncertaintyThresholds()
    canvas = QImage(view.viewport().size(), QImage.Format.Format_ARGB32_Premultiplied)

    def seek(index: int) -> float:
        got.clear()
        t0 = time.perf_counter()
        source.request(index)
        while index not in got:
            app.processEvents()
            time.sleep(0.0005)
        return (time.perf_counter() - t0) * 1000

    def redraw(index: int) -> float:
        t0 = time.perf_counter()
        rec = result.frames[index]
        view.set_image(got[index])
        view.set_poses(rec, thresholds.mask(rec), (int(rec.track_ids[0]), 5))
        painter = QPainter(canvas)
        view.render(painter)
        painter.end()
        return (time.perf_counter() - t0) * 1000

    first = seek(meta.frame_count - 1)  # builds the reader's seek table by decoding forward
    redraw(meta.frame_count - 1)
    seeks, redraws = [], []
    for index in rng.integers(0, meta.frame_count, args.seeks):
        seeks.append(seek(int(index)))
        redraws.append(redraw(int(index)))
    source.close()
    print(
        f"{args.video.name}: {meta.width}x{meta.height}, {meta.frame_count} frames, "
        f"{args.persons} persons/frame, {args.seeks} random seeks, view 1400x800"
    )
    print(f"first seek to the last frame (cold): {first:.1f} ms")
    print(f"seek (request -> QImage):   {_stats(seeks)}")
    print(f"redraw (image + overlays): {_stats(redraws)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
