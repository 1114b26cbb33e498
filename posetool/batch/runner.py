"""The batch runner: every input through :func:`posetool.run.pipeline.stream_video`, outputs
written safely, one failing input recorded while the batch goes on. The Ray engine
(:mod:`posetool.batch.ray_engine`) runs the same steps: :func:`prepare_output_folder` and
:func:`~posetool.batch.summaries.not_run_summary` on the driver, :func:`process_and_write` on
its workers. What a run records (the summaries) is :mod:`posetool.batch.summaries`.

Outputs of an input named ``NAME`` (names: :mod:`posetool.batch.outputs`), each written
atomically (temporary file + rename):

- ``NAME.json``: PoseTrack JSON, every frame present; the per-joint ensemble spread (image px)
  rides in each annotation as the extra key ``keypoint_spread_px``.
- ``NAME.overlay.mp4`` with ``render``: boxes, track ids and skeletons over the frames.

Both are written as frames finish (no record is kept), so memory does not grow with the
length of the video (bench/bench_memory.py).
- ``NAME.summary.json``: frames, persons, tracks, speed per stage, decode report and what the
  outputs were made from (:mod:`posetool.io.provenance`); "running" before the outputs are
  written, "ok" once they all are, "failed" after an error.
- ``run_summary.json`` and ``config.yaml`` (the resolved config) for the whole run.

Safety: no output path may be an input (the run is refused); a file posetool did not write,
one changed since, or one holding persons edited by hand is not replaced without
``overwrite`` (the input is reported "refused"); a full disk or a vanished output folder stops
the batch with :class:`OutputFolderError` instead of failing every remaining input.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from diffpose.yolo_weights import WeightsError
from posetool.batch.outputs import (
    RUN_FILES,
    OutputConflictError,
    check_no_input_overwritten,
    output_names,
    output_paths,
)
from posetool.batch.summaries import (
    BatchSummary,
    SummaryFile,
    failed_summary,
    not_run_summary,
    recorded_run,
    save_quietly,
)
from posetool.io.provenance import provenance, read_summary, settings_identity
from posetool.run.pipeline import (
    PipelineModels,
    ProgressFn,
    VideoSummary,
    load_models,
    stream_video,
)
from posetool.run.pipeline_config import PipelineConfig
from posetool.run.pose_config import CheckpointNotFoundError

__all__ = [
    "OutputConflictError",
    "OutputFolderError",
    "inputs_to_run",
    "prepare_output_folder",
    "process_and_write",
    "run_batch",
]

logger = logging.getLogger(__name__)

#: Write errors that every later input would meet too.
_FOLDER_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})
_CONFIG_MARK = "# written by posetool"


class OutputFolderError(OSError):
    """The output folder can take no more files (full disk, gone, read-only): the batch stops."""

    def after(self, done: int, total: int) -> OutputFolderError:
        """The same error, saying how far the batch got."""
        return OutputFolderError(
            self.errno, f"stopped after {done} of {total} inputs: {self.strerror}"
        )


def _check_run_files(out_dir: Path, overwrite: bool) -> None:
    """``config.yaml`` / ``run_summary.json`` already there and not posetool's: refuse."""
    if overwrite:
        return
    config, summary = (out_dir / name for name in RUN_FILES[::-1])
    if config.is_file() and not config.read_text(errors="replace").startswith(_CONFIG_MARK):
        raise OutputConflictError(
            f"{config} was not written by posetool; pass --overwrite to "
            "replace it or choose another output folder (-o)"
        )
    if summary.is_file() and read_summary(summary) is None:
        raise OutputConflictError(
            f"{summary} was not written by posetool; pass --overwrite "
            "to replace it or choose another output folder (-o)"
        )


def _process_one(
    path: Path,
    name: str,
    config: PipelineConfig,
    models: PipelineModels,
    progress: ProgressFn | None,
    record: SummaryFile,
) -> VideoSummary:
    """Run one input, streaming its records into the JSON (and overlay) as frames finish."""
    from contextlib import ExitStack

    from posetool.io.posetrack_stream import PoseTrackStreamWriter
    from posetool.io.render import OverlayWriter
    from posetool.io.video_io import VideoReader

    paths = record.paths
    with VideoReader(path, image_fps=config.image_fps) as reader:
        probe = reader.probe
    size_wh = (probe.width, probe.height)
    # the output name, not the input's stem: two inputs of one stem (day1/cam1.mp4,
    # day2/cam1.mp4) must not both write images/cam1/… into files merged later
    sequence = name
    with ExitStack() as stack:
        json_out = stack.enter_context(
            PoseTrackStreamWriter(
                paths["json"], sequence, config.fmt, provenance=provenance("posetrack")
            )
        )
        overlay = None
        if config.render:
            overlay = stack.enter_context(OverlayWriter(paths["video"], probe.fps, size_wh))

        def sink(frame_record, frame_bgr) -> None:
            json_out.add(frame_record)
            if overlay is not None and frame_bgr is not None:
                overlay.add(frame_bgr, frame_record)

        _, summary = stream_video(path, config, sink, models, progress, keep_frames=config.render)
        json_out.commit()
        record.wrote("json")
        summary.outputs["json"] = str(paths["json"])
        if overlay is not None:
            overlay.commit()
            record.wrote("video")
            summary.outputs["video"] = str(paths["video"])
    summary.name = name
    summary.outputs["summary"] = str(paths["summary"])
    record.save(summary)
    return summary


def process_and_write(
    path: Path,
    name: str,
    out_dir: Path,
    config: PipelineConfig,
    made_from: dict[str, Any],
    models: Callable[[], PipelineModels],
    progress: ProgressFn | None = None,
) -> VideoSummary:
    """Run one input and write its outputs (see the module docstring), its summary first as
    "running", then "ok" or "failed"; shared by :func:`run_batch` and the Ray engine's workers.

    Args:
        path, name: The input and its output name (:func:`~posetool.batch.outputs.output_names`).
        out_dir: The output folder (:func:`prepare_output_folder`).
        config: Run settings.
        made_from: What the outputs are made from
            (:func:`~posetool.batch.summaries.not_run_summary`).
        models: Gives the models, building them on first use (a failure to build them is this
            input's failure unless it is a setup error).
        progress: Called with (frames done, frames expected).

    Returns:
        The input's summary, "failed" when this input failed (the batch goes on).

    Raises:
        ImportError, MemoryError: Raised as they are.
        WeightsError, CheckpointNotFoundError: The models cannot be built (every input would
            fail alike).
        OutputFolderError: The output folder takes no more files (full disk, gone).
    """
    record = SummaryFile(output_paths(out_dir, name), made_from)
    try:
        record.save(VideoSummary(str(path), name, status="running"))
        return _process_one(path, name, config, models(), progress, record)
    except Exception as exc:  # noqa: BLE001 - one bad input must not stop the batch
        if isinstance(exc, ImportError | MemoryError):
            raise
        logger.debug("input %s failed", path, exc_info=True)
        summary = failed_summary(path, name, exc)
        save_quietly(record, summary)
        if isinstance(exc, WeightsError | CheckpointNotFoundError):  # every input would fail
            raise
        if _is_folder_error(exc, out_dir):
            raise OutputFolderError(
                exc.errno,
                f"the output folder '{out_dir}' takes no more files ({exc.strerror or exc})",
            ) from exc
        return summary


def prepare_output_folder(
    inputs: Sequence[Path], out_dir: Path, config: PipelineConfig, overwrite: bool
) -> list[str]:
    """Create the output folder, check that no output would replace an input or a run file
    posetool did not write, and write ``config.yaml``; return the inputs' output names.

    Raises:
        OutputConflictError: An output would replace an input, or a run file not posetool's.
        OSError: The output folder cannot be created or written.
    """
    from posetool.io.posetrack_io import atomic_write_text
    from posetool.run.config_file import dump_config

    out_dir.mkdir(parents=True, exist_ok=True)
    names = output_names(inputs)
    check_no_input_overwritten(inputs, out_dir, names)
    _check_run_files(out_dir, overwrite)
    atomic_write_text(out_dir / "config.yaml", f"{_CONFIG_MARK}\n{dump_config(config)}")
    return names


def run_batch(
    inputs: Sequence[Path],
    out_dir: str | Path,
    config: PipelineConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    trust_detector_weights: bool = False,
    models: PipelineModels | None = None,
    on_video_start: Callable[[int, Path, str, int], ProgressFn | None] | None = None,
    on_video_end: Callable[[VideoSummary], None] | None = None,
) -> BatchSummary:
    """Run every input; one failing input is recorded and the batch goes on.

    Args:
        inputs: Video files / image folders (see :func:`posetool.io.inputs.discover_inputs`).
        out_dir: Output folder (created; must be writable).
        config: Run settings; written beside the outputs as ``config.yaml``.
        resume: Skip inputs whose outputs are complete, made from the same input and settings.
        overwrite: Replace outputs posetool did not write, changed since, or edited by hand.
        trust_detector_weights: Load ``config.detector_weights`` even when it is not the
            pinned official file (ultralytics unpickles it, which can run code).
        models: Prebuilt models (built lazily, on the first input that needs them).
        on_video_start: ``(i, path, name, frames expected)`` → optional frame-progress callback.
        on_video_end: Called with each input's summary.

    Raises:
        OutputConflictError: An output would replace an input, or a run file not posetool's.
        OutputFolderError: The output folder filled up or vanished (the batch stopped).
        WeightsError, CheckpointNotFoundError: The models cannot be built (the batch stopped:
            every input would fail alike).
        OSError: The output folder cannot be created or written.
    """
    out_dir = Path(out_dir)
    names = prepare_output_folder(inputs, out_dir, config, overwrite)
    built = [models] if models is not None else []

    def get_models() -> PipelineModels:
        if not built:
            built.append(load_models(config, trust_detector_weights))
        return built[0]

    with recorded_run(out_dir, BatchSummary()) as batch:
        for i, path, name, summary, made_from in inputs_to_run(
            inputs, names, out_dir, config, resume, overwrite
        ):
            if summary is None:
                progress = (
                    on_video_start(i, path, name, _expected(path)) if on_video_start else None
                )
                try:
                    summary = process_and_write(
                        path, name, out_dir, config, made_from, get_models, progress
                    )
                except OutputFolderError as exc:
                    batch.videos.append(failed_summary(path, name, exc))
                    raise exc.after(i + 1, len(inputs)) from exc
                except Exception as exc:
                    batch.videos.append(failed_summary(path, name, exc))
                    raise
            batch.videos.append(summary)
            if on_video_end:
                on_video_end(summary)
    return batch


def inputs_to_run(
    inputs: Sequence[Path],
    names: Sequence[str],
    out_dir: Path,
    config: PipelineConfig,
    resume: bool,
    overwrite: bool,
) -> Iterator[tuple[int, Path, str, VideoSummary | None, dict]]:
    """``(i, path, name, summary, made_from)`` per input, in order and one at a time: the
    summary if the input is not run, else None (see
    :func:`~posetool.batch.summaries.not_run_summary`)."""
    settings = settings_identity(config)
    for i, (path, name) in enumerate(zip(inputs, names, strict=True)):
        summary, made_from = not_run_summary(
            path, name, out_dir, settings, resume, overwrite, config.render
        )
        yield i, path, name, summary, made_from


def _is_folder_error(exc: Exception, out_dir: Path) -> bool:
    """A write error every later input would meet too (full disk, folder gone)."""
    if not isinstance(exc, OSError):
        return False
    return exc.errno in _FOLDER_ERRNOS or not out_dir.is_dir()


def _expected(path: Path) -> int:
    """Frames announced by an input (0 when it cannot be probed; the run reports why)."""
    from posetool.io.video_io import VideoOpenError, VideoReader

    try:
        with VideoReader(path) as reader:
            return reader.probe.frame_count
    except (VideoOpenError, OSError, ValueError):
        return 0
