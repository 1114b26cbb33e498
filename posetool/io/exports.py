"""Export a result as PoseTrack (the default), COCO keypoints or tidy CSV, optionally smoothed.

The one entry point of ``posetool export`` and the viewer's export: plain functions on a
:class:`VideoResult`, Qt-free. Outputs are written atomically and never replace an existing
file unless asked to.
"""

from __future__ import annotations

import json
from pathlib import Path

from posetool.io.export_coco import coco_dict
from posetool.io.export_csv import csv_text
from posetool.io.posetrack_io import atomic_write_text, read_posetrack, video_to_posetrack
from posetool.io.smoothing import SmoothingConfig, smooth_result
from posetool.records import VideoResult

__all__ = [
    "EXPORT_FORMATS",
    "export_result",
    "export_text",
    "load_result_for_export",
    "video_of_result",
]

EXPORT_FORMATS = ("posetrack", "coco", "csv")


def export_text(result: VideoResult, fmt: str) -> str:
    """The file contents of ``result`` in ``fmt`` ("posetrack" = PoseTrack 2018)."""
    if fmt == "coco":
        return json.dumps(coco_dict(result), allow_nan=False)
    if fmt == "csv":
        return csv_text(result)
    if fmt == "posetrack":
        from diffpose.posetrack_writer import to_posetrack18

        return json.dumps(to_posetrack18(video_to_posetrack(result), "2018"), allow_nan=False)
    raise ValueError(f"unknown export format {fmt!r}; known: {EXPORT_FORMATS}")


def export_result(
    result: VideoResult,
    fmt: str,
    out_path: str | Path,
    *,
    overwrite: bool = False,
    smoothing: SmoothingConfig | None = None,
) -> Path:
    """Write ``result`` (smoothed first when ``smoothing`` is given) to ``out_path``.

    Raises:
        FileExistsError: ``out_path`` exists and ``overwrite`` is False.
        ValueError: unknown format.
        OSError: the file cannot be written.
    """
    out_path = Path(out_path)
    if out_path.exists() and not overwrite:
        raise FileExistsError(f"{out_path} exists; pass --overwrite to replace it")
    if smoothing is not None:
        result = smooth_result(result, smoothing)
    atomic_write_text(out_path, export_text(result, fmt))
    return out_path


def load_result_for_export(
    poses_path: str | Path, video_path: str | Path | None = None
) -> VideoResult:
    """The result in a PoseTrack file, timed and sized by its video.

    The video is ``video_path``, else :func:`video_of_result`; without one, frames are
    :data:`~posetool.io.inputs.IMAGE_FOLDER_FPS` apart and the size is guessed from the file.

    Raises:
        PoseTrackFormatError: malformed poses file.
        VideoOpenError: the video cannot be opened.
    """
    poses_path = Path(poses_path)
    if video_path is None:
        video_path = video_of_result(poses_path)
    if video_path is None:
        return read_posetrack(poses_path)
    from posetool.io.video_io import VideoReader

    with VideoReader(video_path) as reader:
        probe = reader.probe
    return read_posetrack(
        poses_path, video_path=video_path, fps=probe.fps, size=(probe.width, probe.height)
    )


def video_of_result(poses_path: str | Path) -> Path | None:
    """The video of ``NAME.json``: the input ``posetool run`` named in ``NAME.summary.json``
    beside it if that still exists, else a video file ``NAME.<ext>`` beside it (where the
    viewer saves the poses of a video), else None."""
    from posetool.io.inputs import VIDEO_SUFFIXES

    poses_path = Path(poses_path)
    summary = poses_path.with_name(poses_path.stem + ".summary.json")
    try:
        source = Path(json.loads(summary.read_text(encoding="utf-8"))["input"])
    except (OSError, ValueError, KeyError, TypeError):
        source = None
    if source is not None and source.exists():
        return source
    beside = [poses_path.with_suffix(ext) for ext in sorted(VIDEO_SUFFIXES)]
    return next((p for p in beside if p.is_file()), None)
