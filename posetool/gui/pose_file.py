"""The poses file the viewer opens and saves: strict loading, frames matched by image id, and
saving that keeps what the viewer does not understand.

Loading (:func:`load_poses`) refuses what would poison a session: NaN/Infinity literals,
numbers beyond float32, entries of the wrong kind, nesting too deep for the parser; each as a
:class:`~diffpose.posetrack_format.PoseTrackFormatError` naming the file and the field. Images
are placed on the video's frames by their image id (the PoseTrack frame-id rule
``T*10^10 + seq*10^4 + frame`` for PoseTrack sequences, else posetool's rule: the id is the
0-based frame index); only when the ids fit neither are they placed in file order, and a note
says so. A file that covers more or fewer frames than the video is reported in the notes too.

Saving (:func:`write_poses`) starts from the file as it was loaded (:class:`PoseSource`): a
frame the analyst did not change is written back as read (image id, file name, unknown image
and annotation keys, annotation ids, scores, boxes), and a changed frame keeps, per person,
everything of the file's person it came from that the analyst did not change. The first save
over a file keeps a copy of it as ``NAME.json.orig`` (:func:`keep_backup`, never overwritten).
When a save fails, :func:`write_recovery_copy` writes the poses somewhere that works.

Qt-free. Shape letters: N persons, K keypoints.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from diffpose.posetrack_format import (
    PoseTrackFormatError,
    PoseTrackFrame,
    PoseTrackVideo,
    frame_id_for,
    parse_posetrack,
)
from diffpose.posetrack_writer import to_posetrack17, to_posetrack18
from posetool.io.posetrack_io import (
    FLAG_KEYS,
    SPREAD_KEY,
    atomic_write_text,
    result_from_posetrack,
    video_to_posetrack,
)
from posetool.records import FrameRecord, VideoMeta, VideoResult

__all__ = [
    "BACKUP_SUFFIX",
    "LoadedPoses",
    "PoseSource",
    "backup_path",
    "keep_backup",
    "load_poses",
    "write_poses",
    "write_recovery_copy",
]

BACKUP_SUFFIX = ".orig"


@dataclass(frozen=True, eq=False)
class PoseSource:
    """A poses file as it was opened, kept so that Save writes back what it did not change.

    Attributes:
        path: the file.
        video: the file as parsed.
        frames: per frame of the session, the file's image placed there (None: none was).
        records: per frame of the session, its record as loaded; a frame whose record is still
            this very object was not edited.
    """

    path: Path
    video: PoseTrackVideo
    frames: tuple[PoseTrackFrame | None, ...]
    records: tuple[FrameRecord, ...]


@dataclass(frozen=True, eq=False)
class LoadedPoses:
    """What :func:`load_poses` found: the session's result, its source, and notes for the
    analyst (frame-count mismatch, frames placed by order)."""

    result: VideoResult
    source: PoseSource
    notes: tuple[str, ...]


# -- loading ---------------------------------------------------------------------------------


def _parse_strict(path: Path) -> PoseTrackVideo:
    def reject(name: str) -> None:
        raise PoseTrackFormatError(path, "<file>", f"{name} is not a JSON number")

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PoseTrackFormatError(path, "<file>", f"not UTF-8 text ({exc})") from None
    try:
        data = json.loads(text, parse_constant=reject)
    except json.JSONDecodeError as exc:
        raise PoseTrackFormatError(path, "<file>", f"not valid JSON ({exc})") from None
    except RecursionError:
        raise PoseTrackFormatError(path, "<file>", "nested too deeply") from None
    try:
        return parse_posetrack(data, source=str(path))
    except PoseTrackFormatError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        raise PoseTrackFormatError(path, "<file>", f"unreadable entry ({exc})") from None


def _frame_indices(video: PoseTrackVideo, frame_count: int) -> list[int] | None:
    """The video frame of each image, from its id; None when the ids are not frame numbers."""
    ids = [fr.image_id for fr in video.frames]
    seq = Path(video.frames[0].file_name).parent.name if video.frames else ""
    base = frame_id_for(seq, 0)
    bound = max(frame_count, len(ids))
    for offset in ([base] if base is not None else []) + [0]:
        indices = [i - offset for i in ids]
        if len(set(indices)) == len(indices) and all(0 <= k < bound for k in indices):
            return indices
    return None


def load_poses(path: str | Path, meta: VideoMeta) -> LoadedPoses:
    """Read the PoseTrack file ``path`` for the video ``meta``: one record per video frame.

    Frames the file lacks start empty; images past the video's end are kept (the viewer shows
    them without a picture) and the frame count grows to hold them.

    Raises:
        PoseTrackFormatError: the file is malformed (names the file and the field).
        OSError: the file cannot be read.
    """
    path = Path(path)
    video = _parse_strict(path)  # every number finite and within float32 (parse_posetrack)
    try:
        in_file_order = result_from_posetrack(
            video, path, meta.path, meta.fps, (meta.width, meta.height)
        )
    except ValueError as exc:  # a record refused the values (duplicate track ids, bad box...)
        raise PoseTrackFormatError(path, "annotations", str(exc)) from None
    notes = []
    indices = _frame_indices(video, meta.frame_count)
    if indices is None:
        indices = list(range(len(video.frames)))
        notes.append(
            f"{path.name}: image ids are not frame numbers; frames were matched "
            "by their order in the file"
        )
    if len(video.frames) != meta.frame_count:
        notes.append(
            f"{path.name} has poses for {len(video.frames)} frames, the video has "
            f"{meta.frame_count}"
        )
    count = max([meta.frame_count] + [k + 1 for k in indices])
    ts = meta.timestamps_s
    timestamps = ts if len(ts) == count else np.arange(count) / meta.fps
    records: list[FrameRecord | None] = [None] * count
    placed: list[PoseTrackFrame | None] = [None] * count
    for fr, rec, k in zip(video.frames, in_file_order.frames, indices, strict=True):
        records[k] = replace(rec, frame_index=k, timestamp_s=float(timestamps[k]))
        placed[k] = fr
    records = [
        rec
        if rec is not None
        else FrameRecord(frame_index=k, timestamp_s=float(timestamps[k]), is_labeled=False)
        for k, rec in enumerate(records)
    ]
    new_meta = replace(
        meta,
        frame_count=count,
        timestamps_s=timestamps,
        sequence_name=in_file_order.meta.sequence_name,
    )
    result = VideoResult(new_meta, tuple(records))
    source = PoseSource(path, video, tuple(placed), result.frames)
    return LoadedPoses(result, source, tuple(notes))


# -- saving ----------------------------------------------------------------------------------


def _match_persons(cur: FrameRecord, old: FrameRecord) -> list[int | None]:
    """For each person of ``cur``, the person of ``old`` it came from (None: a new one).

    First by an unchanged pose (joints and visibility; reassign, merge and split only rename),
    preferring the same track id; then by the same track id (the pose was edited).
    """
    free = set(range(old.num_persons))
    match: list[int | None] = [None] * cur.num_persons
    for p in range(cur.num_persons):
        same = [
            q
            for q in sorted(free)
            if np.array_equal(cur.keypoints_xy[p], old.keypoints_xy[q])
            and np.array_equal(cur.keypoint_visible[p], old.keypoint_visible[q])
        ]
        if same:
            tid = cur.track_ids[p]
            match[p] = next((q for q in same if old.track_ids[q] == tid), same[0])
            free.discard(match[p])
    for p in range(cur.num_persons):
        q = old.index_of_track(int(cur.track_ids[p])) if match[p] is None else None
        if q is not None and q in free:
            match[p] = q
            free.discard(q)
    return match


def _merge_frame(
    gen: PoseTrackFrame, src: PoseTrackFrame, cur: FrameRecord, old: FrameRecord
) -> PoseTrackFrame:
    """``gen`` (the edited frame as written afresh) with what ``src`` held and the analyst did
    not change: image id, file name, image keys, and per person its annotation id, unknown
    keys, and the joints, scores and boxes left as they were."""
    kp, scores = gen.keypoints.copy(), gen.keypoint_scores.copy()
    person_scores, boxes = gen.person_scores.copy(), gen.boxes_xywh.copy()
    heads, ann_ids = gen.head_boxes_xywh.copy(), gen.annotation_ids.copy()
    extras = [dict(e) for e in gen.person_extras]
    for p, q in enumerate(_match_persons(cur, old)):
        if q is None:
            continue
        same = np.all(cur.keypoints_xy[p] == old.keypoints_xy[q], axis=-1)
        same &= cur.keypoint_visible[p] == old.keypoint_visible[q]
        kp[p][same] = src.keypoints[q][same]
        same_scores = same & (cur.keypoint_scores[p] == old.keypoint_scores[q])
        if np.all(np.isfinite(src.keypoint_scores[q])):
            scores[p][same_scores] = src.keypoint_scores[q][same_scores]
        elif same_scores.all():  # the file had no scores and nothing changed: still none
            scores[p] = src.keypoint_scores[q]
        if np.array_equal(cur.boxes_xyxy[p], old.boxes_xyxy[q]):
            boxes[p] = src.boxes_xywh[q]
        if np.array_equal(cur.head_boxes_xyxy[p], old.head_boxes_xyxy[q], equal_nan=True):
            heads[p] = src.head_boxes_xywh[q]
        if cur.box_scores[p] == old.box_scores[q]:
            person_scores[p] = src.person_scores[q]
        ann_ids[p] = src.annotation_ids[q]
        ours = (SPREAD_KEY, *FLAG_KEYS.values())  # written afresh from the record
        extra = {k: v for k, v in src.person_extras[q].items() if k not in ours}
        if cur.track_ids[p] != old.track_ids[q]:
            extra.pop("person_id", None)  # PoseTrack21's identity follows the new track id
        extras[p] = {**extra, **extras[p]}
    return replace(
        gen,
        image_id=src.image_id,
        file_name=src.file_name,
        ignore_regions=src.ignore_regions,
        keypoints=kp,
        keypoint_scores=scores,
        person_scores=person_scores,
        boxes_xywh=boxes,
        head_boxes_xywh=heads,
        annotation_ids=ann_ids,
        person_extras=tuple(extras),
        image_extras=src.image_extras,
    )


def _merged(gen: PoseTrackVideo, result: VideoResult, source: PoseSource) -> PoseTrackVideo:
    src_ids = {fr.image_id for fr in source.video.frames}
    next_id = max(src_ids | {fr.image_id for fr in gen.frames}) + 1
    frames = []
    for k, fresh in enumerate(gen.frames):
        src = source.frames[k] if k < len(source.frames) else None
        if src is None:
            if fresh.image_id in src_ids:  # the file numbers its images another way
                fresh, next_id = replace(fresh, image_id=next_id), next_id + 1
            frames.append(fresh)
        elif result.frames[k] is source.records[k]:
            frames.append(src)
        else:
            frames.append(_merge_frame(fresh, src, result.frames[k], source.records[k]))
    return replace(gen, vid_id=source.video.vid_id or gen.vid_id, frames=tuple(frames))


def _posetrack_json(
    result: VideoResult, source: PoseSource | None, fmt: str, allow_nan: bool = False
) -> str:
    video = video_to_posetrack(result)
    if source is not None:
        video = _merged(video, result, source)
    if fmt == "2017":
        data = to_posetrack17(video)
    else:
        data = to_posetrack18(video, fmt)
        if source is not None:
            _restore_image_keys(data["images"], source)
    return json.dumps(data, allow_nan=allow_nan)


#: Image keys the PoseTrack writer fills itself; the file's own values win for its images.
_WRITER_IMAGE_KEYS = ("frame_id", "vid_id", "nframes")


def _restore_image_keys(images: list[dict], source: PoseSource) -> None:
    extras = {fr.image_id: fr.image_extras for fr in source.video.frames}
    for img in images:
        for key in _WRITER_IMAGE_KEYS:
            if key in extras.get(img["id"], {}):
                img[key] = extras[img["id"]][key]


def write_poses(
    result: VideoResult, path: str | Path, source: PoseSource | None = None, fmt: str = "2018"
) -> Path:
    """Write ``result`` as PoseTrack ``fmt`` JSON atomically, keeping what ``source`` held
    and the analyst did not change (see the module docstring)."""
    path = Path(path)
    atomic_write_text(path, _posetrack_json(result, source, fmt))
    return path


def backup_path(path: str | Path) -> Path:
    """Where the first save over ``path`` keeps the original: ``NAME.json.orig``."""
    path = Path(path)
    return path.with_name(path.name + BACKUP_SUFFIX)


def keep_backup(path: str | Path) -> Path | None:
    """Copy ``path`` to its backup unless a backup already exists (it is never overwritten).

    Returns:
        The backup made, or None (no file to back up, or the backup was already there).
    """
    path, backup = Path(path), backup_path(path)
    if not path.is_file() or backup.exists():
        return None
    fd, tmp = tempfile.mkstemp(prefix=f".{backup.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out, path.open("rb") as src:
            shutil.copyfileobj(src, out)
            out.flush()
            os.fsync(out.fileno())
        shutil.copystat(path, tmp)
        os.replace(tmp, backup)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return backup


def _recovery_dirs(json_path: Path) -> list[Path]:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return [json_path.parent, Path(state) / "posetool" / "recovery", Path(tempfile.gettempdir())]


def write_recovery_copy(
    result: VideoResult, json_path: str | Path, source: PoseSource | None = None
) -> Path:
    """Write the poses where it works after a failed save: beside ``json_path``, else in the
    user's state folder (``$XDG_STATE_HOME/posetool/recovery``), else the temp folder.

    Returns:
        The file written, ``NAME.json.recovered-YYYYmmdd-HHMMSS.json`` (PoseTrack 2018; a
        value that is not a number, which no edit can make, is written as ``NaN``).

    Raises:
        OSError: no folder could take it (the message lists each attempt).
    """
    json_path = Path(json_path)
    try:  # the copy must come out whatever made the save fail: NaN allowed, then no merge
        text = _posetrack_json(result, source, "2018", allow_nan=True)
    except Exception:  # noqa: BLE001 - fall back to the plain writer
        text = _posetrack_json(result, None, "2018", allow_nan=True)
    name = f"{json_path.name}.recovered-{time.strftime('%Y%m%d-%H%M%S')}.json"
    failures = []
    for folder in _recovery_dirs(json_path):
        try:
            if folder != json_path.parent:  # a vanished data folder is not made again
                folder.mkdir(parents=True, exist_ok=True)
            atomic_write_text(folder / name, text)
            return folder / name
        except OSError as exc:
            failures.append(f"{folder}: {exc}")
    raise OSError("could not write a recovery copy: " + "; ".join(failures))
