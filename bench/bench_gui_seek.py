"""Seek to random frames of a video and redraw the frame view with pose overlays; with
``--minutes``, on a long synthetic video, also the first jump, the track lanes and the journal.

Measures what the analyst feels when scrubbing: ms from request to decoded QImage (the
decoder thread's ``read_frame`` + BGR->QImage) and ms to redraw the view (pixmap upload +
overlay paint, rendered into an offscreen image of the viewport).

With ``--minutes M`` a 160x120, 30 fps MPEG-4 video of M minutes is made once (in
``--cache``, a temp folder by default) and the script also prints: the first jump of a cold
reader to 5/6 of the video (seek by the frame's time from the container's packets) against
decoding every frame up to it (what the viewer did before); updating the track lanes after one
edit (per-track frame runs that look only at the changed frames) against rebuilding dense
tracks x frames arrays; painting the lanes; and journaling one edit (append + fsync).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_gui_seek.py
    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_gui_seek.py --minutes 30
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("POSETOOL_SHARED_DATA", ROOT.parent / "shared" / "data"))
SYNTH_SIZE = (160, 120)
SYNTH_FPS = 30


def _poses(meta, n_persons: int, rng: np.random.Generator):
    """Poses to draw: ``n_persons`` skeletons per frame with random jitter (drawing cost
    only depends on how many persons and joints there are)."""
    from posetool.records import FrameRecord, VideoResult

    w, h = meta.width, meta.height
    frames = []
    for i in range(meta.frame_count):
        x0 = rng.uniform(0, w * 0.8, (n_persons, 1)).astype(np.float32)
        y0 = rng.uniform(0, h * 0.5, (n_persons, 1)).astype(np.float32)
        kp = np.stack(
            [
                x0 + rng.uniform(0, w * 0.2, (n_persons, 17)),
                y0 + rng.uniform(0, h * 0.5, (n_persons, 17)),
            ],
            -1,
        )
        frames.append(
            FrameRecord(
                frame_index=i,
                boxes_xyxy=np.concatenate([x0, y0, x0 + w * 0.2, y0 + h * 0.5], 1),
                box_scores=np.ones(n_persons),
                track_ids=np.arange(n_persons),
                keypoints_xy=kp,
                keypoint_scores=rng.uniform(0, 1, (n_persons, 17)),
                keypoint_spread_px=rng.uniform(0, 20, (n_persons, 17)),
            )
        )
    return VideoResult(meta, tuple(frames))


def _stats(ms: list[float]) -> str:
    a = np.asarray(ms)
    return f"mean {a.mean():7.1f} ms  p95 {np.percentile(a, 95):7.1f} ms  max {a.max():7.1f} ms"


def _synthetic_video(minutes: float, cache: Path) -> Path:
    """A moving gradient with a frame counter, 160x120 MPEG-4 at 30 fps (made once)."""
    import cv2

    path = cache / f"synthetic_{minutes:g}min_{SYNTH_SIZE[0]}x{SYNTH_SIZE[1]}.mp4"
    if path.is_file():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    n = int(round(minutes * 60 * SYNTH_FPS))
    tmp = path.with_suffix(".part.mp4")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), SYNTH_FPS, SYNTH_SIZE)
    ramp = np.linspace(0, 255, SYNTH_SIZE[0], dtype=np.float32)[None, :, None]
    t0 = time.perf_counter()
    for i in range(n):
        frame = np.ascontiguousarray(
            np.broadcast_to((ramp + i) % 256, (*SYNTH_SIZE[::-1], 3)), np.uint8
        )
        cv2.putText(frame, str(i), (4, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
        writer.write(frame)
    writer.release()
    tmp.rename(path)
    print(f"made {path} ({n} frames) in {time.perf_counter() - t0:.0f} s")
    return path


def _first_jump(path: Path, index: int) -> tuple[float, float]:
    """ms for a cold reader to give frame ``index``, and ms to decode 0..index (as before)."""
    import cv2

    from posetool.io.video_io import VideoReader

    t0 = time.perf_counter()
    with VideoReader(path) as reader:
        reader.read_frame(index)
    seek_ms = (time.perf_counter() - t0) * 1000
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    t0 = time.perf_counter()
    for _ in range(index + 1):
        cap.grab()
    cap.retrieve()
    cap.release()
    return seek_ms, (time.perf_counter() - t0) * 1000


def _dense_presence(result) -> tuple[np.ndarray, np.ndarray]:
    """What the lanes rebuilt on every edit before: tracks x frames bool arrays."""
    ids = result.track_ids()
    row = {int(t): i for i, t in enumerate(ids)}
    present = np.zeros((len(ids), len(result.frames)), bool)
    edited = np.zeros_like(present)
    for fr in result.frames:
        for p, tid in enumerate(fr.track_ids):
            present[row[int(tid)], fr.frame_index] = True
            edited[row[int(tid)], fr.frame_index] = fr.human_edited[p]
    return present, edited


def _long_video_figures(result, lanes, rng: np.random.Generator, edits_n: int) -> None:
    from PySide6.QtGui import QImage

    from posetool.gui import edits
    from posetool.gui.session import AnnotationSession

    with tempfile.TemporaryDirectory() as tmp:
        session = AnnotationSession(result, Path(tmp) / "long.json")
        lanes.set_data(session.result)
        spans_ms, dense_ms, journal_ms = [], [], []
        for _ in range(edits_n):
            frame = int(rng.integers(0, session.frame_count))
            edit = edits.move_keypoint(session.result, frame, 0, 3, (5.0, 6.0))
            t0 = time.perf_counter()
            session.apply(edit)  # the first apply also starts the journal (snapshot)
            journal_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            lanes.set_data(session.result)
            spans_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            _dense_presence(session.result)
            dense_ms.append((time.perf_counter() - t0) * 1000)
        session.discard_journal()
    lanes.resize(1400, 120)
    canvas = QImage(lanes.size(), QImage.Format.Format_ARGB32_Premultiplied)
    paint_ms = []
    for _ in range(10):
        t0 = time.perf_counter()
        lanes.render(canvas)
        paint_ms.append((time.perf_counter() - t0) * 1000)
    print(f"lanes after one edit, per-track runs:   {_stats(spans_ms)}")
    print(f"lanes after one edit, dense rebuild:    {_stats(dense_ms)}")
    print(f"lanes paint (1400 px wide):             {_stats(paint_ms)}")
    print(
        f"apply one edit with journal (fsync):    {_stats(journal_ms[1:])}"
        f"  (first, with the snapshot: {journal_ms[0]:.0f} ms)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--video", type=Path, default=DATA / "videos" / "two_people_indoor_mmaction2.mp4"
    )
    parser.add_argument(
        "--minutes",
        type=float,
        default=0.0,
        help="use a synthetic 160x120 video of this many minutes instead",
    )
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "posetool_bench"
    )
    parser.add_argument("--seeks", type=int, default=40)
    parser.add_argument("--persons", type=int, default=10)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    video = _synthetic_video(args.minutes, args.cache) if args.minutes else args.video
    from posetool.gui.app import create_application

    app = create_application()
    from PySide6.QtGui import QImage, QPainter

    from posetool.gui.decoder import FrameSource
    from posetool.gui.frame_view import FrameView
    from posetool.gui.media import probe_video
    from posetool.gui.session import UncertaintyThresholds
    from posetool.gui.timeline import TrackLanes

    meta = probe_video(video)
    rng = np.random.default_rng(args.seed)
    result = _poses(meta, args.persons, rng)
    view = FrameView()
    view.resize(1400, 800)
    view.show()
    view.set_frame_size(meta.width, meta.height)
    source = FrameSource(video, cache_size=0)
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

    first = seek(meta.frame_count - 1)  # a cold decoder thread: the first jump
    redraw(meta.frame_count - 1)
    seeks, redraws = [], []
    for index in rng.integers(0, meta.frame_count, args.seeks):
        seeks.append(seek(int(index)))
        redraws.append(redraw(int(index)))
    source.close()
    print(
        f"{video.name}: {meta.width}x{meta.height}, {meta.frame_count} frames, "
        f"{args.persons} persons/frame, {args.seeks} random seeks, view 1400x800"
    )
    print(f"first seek to the last frame (cold):    {first:.1f} ms")
    print(f"seek (request -> QImage):               {_stats(seeks)}")
    print(f"redraw (image + overlays):              {_stats(redraws)}")
    if args.minutes:
        target = meta.frame_count * 5 // 6
        seek_ms, decode_ms = _first_jump(video, target)
        print(
            f"first jump to frame {target}, cold reader: {seek_ms:.1f} ms "
            f"(decoding 0..{target} as before: {decode_ms:.0f} ms)"
        )
        _long_video_figures(result, TrackLanes(), rng, args.edits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
