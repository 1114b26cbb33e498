"""Read and write PoseTrack JSON for posetool's records, atomically.

The JSON formats themselves live in :mod:`diffpose.posetrack_format`; this module maps them to
:class:`~posetool.records.VideoResult` and back.

Ids: when the sequence name carries a PoseTrack sequence (``009473_mpii_test``) image ids follow
the frame-id rule ``T*10^10 + seq*10^4 + frame``; otherwise the image id is the 0-based frame
index. Annotation ids are ``image_id * 100 + person index`` (poseval's converter scheme) and
file names ``images/<sequence>/<frame:06d>.jpg`` unless the record carries its own.

Per-joint ensemble spread and the analyst's flags travel inside each annotation as the extra
keys ``keypoint_spread_px``, ``human_edited``, ``reviewed`` and ``interpolated`` (a flag is
written only when true; poseval ignores unknown keys).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from diffpose.keypoints import NUM_KEYPOINTS
from diffpose.posetrack_format import (
    PoseTrackFormatError,
    PoseTrackFrame,
    PoseTrackVideo,
    frame_id_for,
    load_posetrack,
    vid_id_for,
)
from diffpose.posetrack_writer import to_posetrack17, to_posetrack18
from posetool.io.inputs import IMAGE_FOLDER_FPS
from posetool.records import FrameRecord, VideoMeta, VideoResult

__all__ = [
    "atomic_write_text",
    "give_plain_file_mode",
    "read_posetrack",
    "record_to_posetrack_frame",
    "result_from_posetrack",
    "video_to_posetrack",
    "write_posetrack",
]

SPREAD_KEY = "keypoint_spread_px"
EDITED_KEY = "human_edited"
REVIEWED_KEY = "reviewed"
INTERPOLATED_KEY = "interpolated"
#: Per-person bool columns of a record written as annotation keys (only when true).
FLAG_KEYS: dict[str, str] = {
    "human_edited": EDITED_KEY,
    "reviewed": REVIEWED_KEY,
    "interpolated": INTERPOLATED_KEY,
}


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename.

    Either the old file or the complete new one exists at every moment; a failure leaves no
    partial file behind.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        give_plain_file_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def give_plain_file_mode(path: str | Path) -> None:
    """The mode a plain ``open()`` gives (0666 & ~umask), for a ``mkstemp`` file (0600)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def _xyxy_to_xywh(boxes: np.ndarray) -> np.ndarray:
    out = np.asarray(boxes, dtype=np.float64).copy()
    out[:, 2:] -= out[:, :2]
    return out


def record_to_posetrack_frame(fr: FrameRecord, sequence: str) -> PoseTrackFrame:
    """The neutral PoseTrack structure of one frame record (ids from ``sequence``)."""
    image_id = frame_id_for(sequence, fr.frame_index)
    image_id = fr.frame_index if image_id is None else image_id
    n = fr.num_persons
    kp = np.zeros((n, NUM_KEYPOINTS, 3))
    vis = fr.keypoint_visible
    kp[..., :2] = np.where(vis[..., None], fr.keypoints_xy, 0.0)
    kp[..., 2] = vis.astype(np.float64)
    extras = []
    for p in range(n):
        extra: dict = {}
        spread = fr.keypoint_spread_px[p]
        if np.any(np.isfinite(spread)):
            extra[SPREAD_KEY] = [None if not np.isfinite(s) else float(s) for s in spread]
        for column, key in FLAG_KEYS.items():
            if getattr(fr, column)[p]:
                extra[key] = True
        extras.append(extra)
    return PoseTrackFrame(
        image_id=image_id,
        file_name=fr.image_file or f"images/{sequence}/{fr.frame_index:06d}.jpg",
        is_labeled=fr.is_labeled,
        ignore_regions=tuple(np.asarray(p, np.float64) for p in fr.ignore_regions),
        keypoints=kp,
        keypoint_scores=np.where(vis, fr.keypoint_scores, 0.0).astype(np.float64),
        person_scores=fr.box_scores.astype(np.float64),
        track_ids=fr.track_ids,
        boxes_xywh=_xyxy_to_xywh(fr.boxes_xyxy),
        head_boxes_xywh=_xyxy_to_xywh(fr.head_boxes_xyxy),
        annotation_ids=np.full(n, -1, np.int64),
        person_extras=tuple(extras),
    )


def video_to_posetrack(result: VideoResult) -> PoseTrackVideo:
    """The neutral PoseTrack structure of a video result (every frame present)."""
    seq = result.meta.sequence_name
    frames = tuple(record_to_posetrack_frame(fr, seq) for fr in result.frames)
    return PoseTrackVideo(
        source=str(result.meta.path), fmt="2018", vid_id=vid_id_for(seq), frames=frames
    )


def write_posetrack(result: VideoResult, path: str | Path, fmt: str = "2018") -> Path:
    """Write a whole video result as PoseTrack ``2018``, ``2021`` or ``2017`` JSON,
    atomically (the batch writes frame by frame instead:
    :class:`posetool.io.posetrack_stream.PoseTrackStreamWriter`)."""
    video = video_to_posetrack(result)
    data = to_posetrack17(video) if fmt == "2017" else to_posetrack18(video, fmt)
    path = Path(path)
    atomic_write_text(path, json.dumps(data, allow_nan=False))
    return path


def _boxes_from(frame: PoseTrackFrame, present: np.ndarray) -> np.ndarray:
    """bbox as xyxy; where the file has none, the extent of the person's keypoints."""
    boxes = _xywh_to_xyxy(frame.boxes_xywh)
    for p in np.flatnonzero(~np.all(np.isfinite(boxes), axis=1)):
        pts = frame.keypoints[p, present[p], :2]
        boxes[p] = (*pts.min(0), *pts.max(0)) if len(pts) else (0.0, 0.0, 0.0, 0.0)
    return boxes


def _xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    out = np.asarray(boxes, dtype=np.float64).copy()
    out[:, 2:] += out[:, :2]
    return out


def read_posetrack(
    path: str | Path,
    video_path: str | Path | None = None,
    fps: float = IMAGE_FOLDER_FPS,
    size: tuple[int, int] | None = None,
) -> VideoResult:
    """Read a PoseTrack 2017/2018/2021 file into a :class:`VideoResult`.

    Args:
        path: the JSON file.
        video_path: the video it describes (defaults to the JSON path).
        fps: frame rate for timestamps (PoseTrack files carry none; by default the rate
            assumed for image folders, :data:`posetool.io.inputs.IMAGE_FOLDER_FPS`).
        size: (width, height) of the frames if known; else taken from the file or the poses.

    Raises:
        PoseTrackFormatError: malformed file (names the file and field).
    """
    return result_from_posetrack(load_posetrack(path), path, video_path, fps, size)


def result_from_posetrack(
    video: PoseTrackVideo,
    path: str | Path,
    video_path: str | Path | None = None,
    fps: float = IMAGE_FOLDER_FPS,
    size: tuple[int, int] | None = None,
) -> VideoResult:
    """The :class:`VideoResult` of a parsed PoseTrack file, one record per image in file order.

    Args:
        video: the parsed file.
        path: the JSON file it came from (names the sequence when the images do not).
        video_path, fps, size: as for :func:`read_posetrack`.
    """
    records = []
    for idx, fr in enumerate(video.frames):
        present = fr.present()
        spread = np.full((fr.num_persons, NUM_KEYPOINTS), np.nan, np.float32)
        flags = {column: np.zeros(fr.num_persons, bool) for column in FLAG_KEYS}
        for p, extra in enumerate(fr.person_extras):
            where = f"image {fr.image_id}, person {p}"
            spread[p], person_flags = _extras(extra, where, path)
            for column, value in person_flags.items():
                flags[column][p] = value
        scores = np.where(
            np.isnan(fr.keypoint_scores), present.astype(np.float64), fr.keypoint_scores
        )
        box_scores = np.where(np.isnan(fr.person_scores), 1.0, fr.person_scores)
        records.append(
            FrameRecord(
                frame_index=idx,
                timestamp_s=idx / fps,
                boxes_xyxy=_boxes_from(fr, present),
                box_scores=box_scores,
                track_ids=fr.track_ids,
                keypoints_xy=fr.keypoints[..., :2],
                keypoint_scores=scores,
                keypoint_spread_px=spread,
                keypoint_visible=present,
                head_boxes_xyxy=_xywh_to_xyxy(fr.head_boxes_xywh),
                **flags,
                is_labeled=fr.is_labeled,
                ignore_regions=fr.ignore_regions,
                image_file=fr.file_name,
            )
        )
    width, height = size or _guess_size(video)
    name = Path(video.frames[0].file_name).parent.name if video.frames else Path(path).stem
    meta = VideoMeta(
        path=Path(video_path) if video_path else Path(path),
        fps=fps,
        frame_count=len(records),
        width=width,
        height=height,
        timestamps_s=np.arange(len(records)) / fps,
        sequence_name=name or Path(path).stem,
    )
    return VideoResult(meta, tuple(records))


def _extras(extra: dict, where: str, path: str | Path) -> tuple[np.ndarray, dict[str, bool]]:
    """An annotation's spread (17 numbers or nulls; NaN where null or absent) and its flags
    (record column → value, False where absent; :data:`FLAG_KEYS`).

    Raises:
        PoseTrackFormatError: A key present with another type.
    """
    spread = np.full(NUM_KEYPOINTS, np.nan, np.float32)
    raw = extra.get(SPREAD_KEY)
    if raw is not None:
        numbers = isinstance(raw, list) and len(raw) == NUM_KEYPOINTS
        if not numbers or not all(_number_or_null(s) for s in raw):
            raise PoseTrackFormatError(
                path, f"{where}: {SPREAD_KEY}", f"expected {NUM_KEYPOINTS} numbers or nulls"
            )
        spread[:] = [np.nan if s is None else s for s in raw]
    flags = {}
    for column, key in FLAG_KEYS.items():
        value = extra.get(key, False)
        if not isinstance(value, bool):
            raise PoseTrackFormatError(
                path, f"{where}: {key}", f"expected true or false, got {value!r:.40}"
            )
        flags[column] = value
    return spread, flags


def _number_or_null(value: object) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _guess_size(video: PoseTrackVideo) -> tuple[int, int]:
    for fr in video.frames:
        w, h = fr.image_extras.get("width"), fr.image_extras.get("height")
        if isinstance(w, int) and isinstance(h, int) and w > 0 and h > 0:
            return w, h
    pts = [fr.keypoints[..., :2].reshape(-1, 2) for fr in video.frames if fr.num_persons]
    if pts:
        mx = np.concatenate(pts).max(0)
        return max(int(np.ceil(mx[0])), 1), max(int(np.ceil(mx[1])), 1)
    return 1, 1
