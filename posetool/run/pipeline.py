"""One video's run: detect → track → estimate over one input (its settings are
:class:`~posetool.run.pipeline_config.PipelineConfig`; the batch runner over many inputs is
:mod:`posetool.batch.runner`).

Data flow (docs/ARCHITECTURE.md): :class:`~posetool.io.video_io.VideoReader` frames →
:class:`~posetool.run.detector.PersonDetector` boxes → ``trackers.ByteTracker`` tracks →
:class:`~posetool.run.pose_estimator.PoseEstimator` (streaming, 2δ+1 window) → one
:class:`~posetool.records.FrameRecord` per frame → PoseTrack JSON / overlay video.
"""

from __future__ import annotations

import logging
import threading
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from posetool.records import FrameRecord, VideoMeta, VideoResult
from posetool.run.detector import whole_frame_px
from posetool.run.pipeline_config import PipelineConfig
from posetool.run.timed_tasks import StageSeconds

if TYPE_CHECKING:
    from diffpose import DiffPose
    from posetool.run.detector import PersonDetector
    from trackers import ByteTrackConfig

__all__ = [
    "PipelineCancelled",
    "PipelineModels",
    "RecordSink",
    "VideoSummary",
    "load_models",
    "process_video",
    "run_video",
    "stream_video",
]

logger = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]
#: Most copies of the detector's network in a pipelined run (each costs memory; more than a
#: few detecting at once only waits for the pose model).
MAX_DETECTOR_COPIES = 4


class PipelineCancelled(Exception):
    """The run was cancelled through its cancel event."""


@dataclass
class PipelineModels:
    """The heavy objects of a run, built once and shared by every input."""

    detector: PersonDetector
    pose_model: DiffPose


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
    from posetool.run.detector import PersonDetector
    from posetool.run.pose_estimator import load_pose_model

    _set_op_threads(config)
    workers = _workers(config)
    weights = config.detector_weights or None
    pose_model = load_pose_model(config.pose)
    # a model that refines the detector's pose needs the detector's keypoint branch
    detector_config = replace(
        config.detector, keypoints=config.detector.keypoints or pose_model.uses_prior
    )
    detector = PersonDetector(
        detector_config,
        weights=weights,
        max_instances=min(workers, MAX_DETECTOR_COPIES),
        trust_weights=trust_detector_weights,
    )
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
    (:mod:`posetool.batch.runner`).

    ``stage_seconds``: time spent in each stage, summed over the threads that ran it; in a
    pipelined run the stages overlap, so they add up to more than ``seconds``
    (:class:`~posetool.run.timed_tasks.StageSeconds`). ``pose_window_max_frames``: the most frames
    the pose model's 2δ+1 window held at once (memory stays bounded by it);
    ``pose_backbone_crops``: the pose model's backbone passes (one per tracked person-frame in
    ``own_box`` mode, a whole window per person in ``key_box``);
    ``duplicate_poses_dropped``: poses left out as a second pose on one person
    (``PoseConfig.duplicate_oks``), so ``persons`` + it = the tracked person-frames posed.
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
    pose_window_max_frames: int = 0
    pose_backbone_crops: int = 0
    duplicate_poses_dropped: int = 0

    def line(self) -> str:
        if self.status != "ok":
            return f"{self.name}: {self.status.upper()} {self.error}".rstrip()
        stages = "stage seconds over all threads: " + ", ".join(
            f"{k} {v:.1f}" for k, v in self.stage_seconds.items()
        )
        warn = (
            ""
            if self.decode.get("complete", True)
            else (
                f"; decode: {self.decode.get('decoded_frames')} of "
                f"{self.decode.get('expected_frames')} frames, {self.decode.get('failed_frames')} failed"
            )
        )
        n = self.duplicate_poses_dropped
        dropped = f" ({n} duplicate pose{'s' if n > 1 else ''} dropped)" if n else ""
        return (
            f"{self.name}: {self.frames} frames, {self.persons} persons{dropped}, {self.tracks} "
            f"tracks, {self.fps:.2f} frames/s ({stages}){warn}"
        )


RecordSink = Callable[[FrameRecord, np.ndarray | None], None]


def stream_video(
    path: str | Path,
    config: PipelineConfig,
    sink: RecordSink,
    models: PipelineModels | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    keep_frames: bool = False,
) -> tuple[VideoMeta, VideoSummary]:
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

    from posetool.io.video_io import VideoReader
    from posetool.run.pose_estimator import PoseEstimator
    from posetool.run.tracked_frames import decoded_frames, tracked_frames
    from trackers import ByteTracker

    path = Path(path)
    models = models or load_models(config)
    stages = StageSeconds()
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
        _warn_if_detector_input_small(path, probe, getattr(models.detector, "config", None))
        total = probe.frame_count
        if config.max_frames:
            total = min(total, config.max_frames) if total else config.max_frames
        _set_op_threads(config)
        executor, workers = None, _workers(config)
        if config.pipelined:
            executor = ThreadPoolExecutor(workers, "posetool")
            # on an error or cancel, queued work is dropped, not finished
            stack.callback(executor.shutdown, wait=True, cancel_futures=True)
        one_image = probe.kind == "images" and probe.frame_count == 1
        tracker = ByteTracker(_tracker_config(config, one_image), fps=probe.fps)
        frames = tracked_frames(
            decoded_frames(reader, config.max_frames, stages),
            models.detector,
            tracker,
            stages,
            executor,
            lookahead=workers + 1,
        )
        estimator = PoseEstimator(
            models.pose_model, config.pose, executor, 2 * workers, config.detector.imgsz
        )
        for tf in frames:
            if cancel is not None and cancel.is_set():
                raise PipelineCancelled(str(path))
            if keep_frames:
                frames_held[tf.frame_index] = tf.frame_bgr
            emit(estimator.push(tf))
            timestamps.append(tf.timestamp_s)
            if progress is not None:
                progress(len(timestamps), max(total, len(timestamps)))
        emit(estimator.flush())
        stages.add("pose", estimator.busy_seconds)
        report = reader.report
    n = counts["records"]
    meta = VideoMeta(
        path=path,
        fps=probe.fps,
        frame_count=n,
        width=probe.width,
        height=probe.height,
        rotation_deg=probe.rotation_deg,
        timestamps_s=np.asarray(timestamps),
    )
    seconds = time.perf_counter() - start
    summary = VideoSummary(
        input=str(path),
        name=meta.sequence_name,
        frames=n,
        persons=counts["persons"],
        tracks=len(track_ids),
        seconds=round(seconds, 3),
        fps=round(n / seconds, 3) if seconds else 0.0,
        stage_seconds=stages.rounded(),
        decode={
            "expected_frames": report.expected_frames,
            "decoded_frames": report.decoded_frames,
            "failed_frames": report.failed_frames,
            "missing_frames": report.missing_frames,
            "timestamp_fallbacks": report.timestamp_fallbacks,
            "complete": report.complete or bool(config.max_frames),
        },
        pose_window_max_frames=estimator.max_buffered,
        pose_backbone_crops=estimator.backbone_crops,
        duplicate_poses_dropped=estimator.clips_predicted - counts["persons"],
    )
    return meta, summary


def _tracker_config(config: PipelineConfig, one_image: bool) -> ByteTrackConfig:
    """The tracker's settings for an input, ``one_image`` for a photo (or a folder of one
    image). A photo has no second frame to confirm a track by, so there every box the pose
    stage takes (``pose.min_box_score``) starts one: ByteTrack's higher bar for starting a
    track (``tracker.new_track_thresh``) only keeps a video's flickering boxes from becoming
    tracks, and in a photo it left persons scoring between the two unposed (chosen on the
    validation photos: resources/MODEL_CARD.md). The start thresholds never go below
    ``tracker.track_low_thresh``; a video, whatever its length, keeps the tracker's settings."""
    tracker = config.tracker
    if not one_image:
        return tracker
    start = max(min(config.pose.min_box_score, tracker.new_track_thresh), tracker.track_low_thresh)
    return replace(
        tracker,
        track_high_thresh=min(tracker.track_high_thresh, start),
        new_track_thresh=start,
    )


def _warn_if_detector_input_small(path: Path, probe, detector_config) -> None:
    """Warn when the detector sees the frames at half their size or less (``--fast``'s
    480 px on HD video): a crowd's small persons are then missed (1080p street crowd of the
    validation set: 2 of 26 found at 640 px; resources/MODEL_CARD.md)."""
    if detector_config is None or not (probe.width and probe.height):
        return
    frame_hw = (probe.height, probe.width)
    input_px = detector_config.input_px(frame_hw)
    if 2 * input_px <= max(frame_hw):
        logger.warning(
            "%s: its %dx%d frames are detected at %d px, so small persons may be missed; "
            "a larger --max-imgsz (up to %d, their longer side) finds them, at a cost",
            path.name,
            probe.width,
            probe.height,
            input_px,
            whole_frame_px(frame_hw),
        )


def process_video(
    path: str | Path,
    config: PipelineConfig,
    models: PipelineModels | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> tuple[VideoResult, VideoSummary]:
    """:func:`stream_video` with every record kept: the poses of every frame (frames that
    failed to decode are present, empty) and a summary.

    Raises:
        VideoOpenError: The input cannot be opened.
        PipelineCancelled: ``cancel`` was set.
    """
    records: list[FrameRecord] = []
    meta, summary = stream_video(
        path, config, lambda record, _frame: records.append(record), models, progress, cancel
    )
    return VideoResult(meta, tuple(records)), summary


def run_video(
    path: str | Path,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    *,
    config: PipelineConfig | None = None,
) -> VideoResult:
    """The GUI's entry point: ``run_video(path, progress_cb, cancel_event) -> VideoResult``.

    Models are built on the first call and kept for the next ones with the same config.
    """
    config = config or PipelineConfig()
    result, _ = process_video(path, config, _cached_models(config), progress, cancel)
    return result
