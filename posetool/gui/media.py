"""What the viewer opens: a video's metadata from its probe, and the poses file beside it.

Qt-free.
"""

from __future__ import annotations

from pathlib import Path

from posetool.io.inputs import SIZES_DIFFER, image_files, photo_folder_reason
from posetool.io.video_io import VideoOpenError, VideoProbe, VideoReader
from posetool.records import VideoMeta

__all__ = [
    "default_json_path",
    "find_poses_json",
    "meta_from_probe",
    "probe_video",
    "refuse_photo_folder",
]


def meta_from_probe(probe: VideoProbe, frame_count: int | None = None) -> VideoMeta:
    """A :class:`VideoMeta` for ``probe`` (``frame_count`` overrides the announced count)."""
    count = probe.frame_count if frame_count is None else frame_count
    return VideoMeta(
        path=probe.path,
        fps=probe.fps,
        frame_count=max(count, 1),
        width=probe.width,
        height=probe.height,
        rotation_deg=probe.rotation_deg,
    )


def probe_video(path: str | Path) -> VideoMeta:
    """Open ``path`` (video file or image folder) just long enough to read its metadata; an
    image folder gets :data:`~posetool.io.inputs.IMAGE_FOLDER_FPS`, as in the pipeline.

    Raises:
        VideoOpenError: the input cannot be opened.
    """
    with VideoReader(path) as reader:
        return meta_from_probe(reader.probe)


def refuse_photo_folder(path: str | Path, to_pose: bool = False) -> None:
    """Refuse a folder of unrelated photos as one video (the rule ``posetool run`` follows to
    pose them photo by photo, one poses file each: :func:`posetool.io.inputs.photo_folder_reason`).
    Photos of several sizes cannot play as one video's frames; photos of one size can, but
    posed as one video (``to_pose``: the viewer's pipeline run) they would lose most persons
    (a track starts only for a person seen twice). A video file, or a folder of one video's
    frames, passes.

    Raises:
        VideoOpenError: ``path`` is such a folder; the message says why and what to do.
    """
    path = Path(path)
    if not path.is_dir():
        return
    reason = photo_folder_reason(path, image_files(path))
    if reason == SIZES_DIFFER or (reason is not None and to_pose):
        raise VideoOpenError(
            path,
            f"it holds {reason}, not one video's frames; pose them with `posetool run` (each "
            "photo alone, one poses file each) and open one photo at a time (Open video or "
            "photo, Photos) with its poses file (`posetool run --frames` reads such a folder "
            "as one video)",
        )


def _stem_of(video: Path) -> str:
    return video.stem if video.is_file() else video.name


def find_poses_json(video: str | Path) -> Path | None:
    """The PoseTrack JSON that sits beside ``video`` with the same stem, if any.

    ``clip.mp4`` → ``clip.json``; an image folder ``seq/`` → ``seq.json`` beside it or
    ``seq/seq.json`` inside it.
    """
    video = Path(video)
    stem = _stem_of(video)
    candidates = [video.parent / f"{stem}.json"]
    if video.is_dir():
        candidates.append(video / f"{stem}.json")
    return next((c for c in candidates if c.is_file()), None)


def default_json_path(video: str | Path) -> Path:
    """Where the poses of ``video`` are saved when no file was chosen: ``<stem>.json`` beside."""
    video = Path(video)
    return video.parent / f"{_stem_of(video)}.json"
