"""Time the viewer's review tools on a long synthetic result: ranking the review queue, the
review panel, and finding track events, first and after one edit (what the analyst waits for
after each keypress).

No video is decoded: the result has ``--minutes`` of 30 fps frames with ``--persons``
persons, random joints and spreads (most person-frames uncertain, the queue's worst case).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_review_tools.py --minutes 30
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _result(frames: int, persons: int):
    from posetool.records import FrameRecord, VideoMeta, VideoResult

    rng = np.random.default_rng(0)
    offset = 200 * np.arange(persons)[:, None, None]
    records = []
    for i in range(frames):
        kp = rng.uniform(0, 100, (persons, 17, 2)).astype(np.float32) + offset
        records.append(
            FrameRecord(
                i,
                i / 30,
                boxes_xyxy=np.concatenate([kp.min(1), kp.max(1)], 1),
                box_scores=np.ones(persons),
                track_ids=np.arange(persons),
                keypoints_xy=kp,
                keypoint_scores=rng.uniform(0.2, 1, (persons, 17)),
                keypoint_spread_px=rng.uniform(0, 12, (persons, 17)),
            )
        )
    meta = VideoMeta("synthetic.mp4", 30, frames, 200 * persons, 200)
    return VideoResult(meta, tuple(records))


def _ms(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--persons", type=int, default=5)
    args = parser.parse_args()
    from posetool.gui import edits
    from posetool.gui.app import create_application
    from posetool.gui.review_panel import ReviewPanel
    from posetool.gui.review_queue import ReviewQueue
    from posetool.gui.track_events import TrackEvents

    result = _result(int(args.minutes * 60 * 30), args.persons)
    edited = edits.set_reviewed(result, len(result.frames) // 2, 1, True).apply(result)
    ids = list(range(args.persons))
    queue, finder = ReviewQueue(), TrackEvents()
    rows = [("review queue", lambda r: queue.update(r)), ("track events", finder.update)]
    app = create_application()  # noqa: F841 - the panel needs it
    panel = ReviewPanel()
    rows.append(("review panel (queue + list)", lambda r: panel.set_result(r, ids)))
    print(f"{len(result.frames)} frames x {args.persons} persons")
    for name, update in rows:
        first, after = _ms(lambda u=update: u(result)), _ms(lambda u=update: u(edited))
        print(f"{name:28s} first {first:8.1f} ms   after one edit {after:7.1f} ms")
    print(f"queue items: {len(queue.items)}")


if __name__ == "__main__":
    main()
