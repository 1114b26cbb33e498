"""Analyst edits of a :class:`~posetool.records.VideoResult` as undoable command objects.

Each edit function looks at the current result and returns a :class:`FrameEdit`: the frame
records it replaces, before and after. Records are immutable, so a command is just those two
snapshots; applying and reverting swap them in. Every person an edit changes (or creates) is
marked ``human_edited`` so evaluation can tell the model from the analyst. A joint the analyst
places is certain: its score becomes 1 and its ensemble spread 0. An edit whose records would
hold a coordinate, score or box that is not a finite number cannot be made (:class:`EditError`).

Qt-free. Shape letters: N persons, K keypoints.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from diffpose.keypoints import FLIP_PAIRS, KEYPOINT_NAMES, NUM_KEYPOINTS
from posetool.records import PERSON_COLUMNS, FrameRecord, VideoResult

__all__ = [
    "EditError",
    "FrameEdit",
    "add_person",
    "append_person",
    "copy_previous_pose",
    "delete_person",
    "merge_tracks",
    "move_keypoint",
    "reassign_track",
    "set_visibility",
    "set_reviewed",
    "split_track",
    "swap_left_right",
    "swap_tracks_from",
    "template_pose",
    "toggle_visibility",
    "writable_columns",
]


class EditError(ValueError):
    """An edit that cannot be made (says why, for the status bar)."""


#: Columns an edit may never leave NaN or infinite (spread and head boxes use NaN: unknown).
_FINITE_COLUMNS = ("keypoints_xy", "keypoint_scores", "boxes_xyxy", "box_scores")


@dataclass(frozen=True)
class FrameEdit:
    """An undoable change: the frames it touches, as they were and as they become.

    Attributes:
        description: short text for the undo menu / status bar.
        before: frame index -> record before the edit.
        after: frame index -> record after the edit.
    """

    description: str
    before: dict[int, FrameRecord]
    after: dict[int, FrameRecord]

    def __post_init__(self) -> None:
        for idx, rec in self.after.items():
            if rec.frame_index != idx:
                raise EditError(f"the record for frame {idx} says frame {rec.frame_index}")
            for name in _FINITE_COLUMNS:
                if not np.all(np.isfinite(getattr(rec, name))):
                    raise EditError(f"refused: {name} in frame {idx} would not be a number")

    def apply(self, result: VideoResult) -> VideoResult:
        """The result with this edit made."""
        return _with_frames(result, self.after)

    def revert(self, result: VideoResult) -> VideoResult:
        """The result with this edit undone."""
        return _with_frames(result, self.before)


def _with_frames(result: VideoResult, records: dict[int, FrameRecord]) -> VideoResult:
    frames = list(result.frames)
    for idx, rec in records.items():
        frames[idx] = rec
    return VideoResult(result.meta, tuple(frames))


def _edit(result: VideoResult, description: str, after: dict[int, FrameRecord]) -> FrameEdit:
    before = {i: result.frames[i] for i in after}
    return FrameEdit(description, before, after)


def _person(record: FrameRecord, track_id: int) -> int:
    idx = record.index_of_track(track_id)
    if idx is None:
        raise EditError(f"no track {track_id} in frame {record.frame_index}")
    return idx


def writable_columns(record: FrameRecord) -> dict[str, np.ndarray]:
    """Writable copies of the per-person columns (:data:`~posetool.records.PERSON_COLUMNS`)."""
    return {name: np.array(getattr(record, name)) for name in PERSON_COLUMNS}


def _mark_edited(cols: dict[str, np.ndarray], p: int) -> None:
    """Person ``p`` now holds the analyst's pose: edited, and no longer interpolated."""
    cols["human_edited"][p] = True
    cols["interpolated"][p] = False


def move_keypoint(
    result: VideoResult, frame: int, track_id: int, joint: int, xy: tuple[float, float]
) -> FrameEdit:
    """Place ``joint`` of ``track_id`` at ``xy`` (image px); the joint becomes visible."""
    rec = result.frames[frame]
    p = _person(rec, track_id)
    cols = writable_columns(rec)
    cols["keypoints_xy"][p, joint] = xy
    cols["keypoint_visible"][p, joint] = True
    cols["keypoint_scores"][p, joint] = 1.0
    cols["keypoint_spread_px"][p, joint] = 0.0
    _mark_edited(cols, p)
    return _edit(result, f"move joint {joint} of track {track_id}", {frame: replace(rec, **cols)})


def set_visibility(
    result: VideoResult, frame: int, track_id: int, joint: int, visible: bool
) -> FrameEdit:
    """Mark ``joint`` of ``track_id`` as labelled (visible) or not."""
    rec = result.frames[frame]
    p = _person(rec, track_id)
    cols = writable_columns(rec)
    cols["keypoint_visible"][p, joint] = visible
    _mark_edited(cols, p)
    word = "show" if visible else "hide"
    return _edit(result, f"{word} joint {joint} of track {track_id}", {frame: replace(rec, **cols)})


def toggle_visibility(result: VideoResult, frame: int, track_id: int, joint: int) -> FrameEdit:
    """Flip whether ``joint`` of ``track_id`` is labelled."""
    rec = result.frames[frame]
    visible = bool(rec.keypoint_visible[_person(rec, track_id), joint])
    return set_visibility(result, frame, track_id, joint, not visible)


def delete_person(result: VideoResult, frame: int, track_id: int) -> FrameEdit:
    """Remove the person ``track_id`` from ``frame``."""
    rec = result.frames[frame]
    p = _person(rec, track_id)
    keep = [i for i in range(rec.num_persons) if i != p]
    return _edit(result, f"delete track {track_id}", {frame: rec.select(keep)})


#: A standing person in a unit box (x right, y down), PoseTrack slot order; used to seed the
#: joints of a person the analyst adds, hidden until placed.
_TEMPLATE_UNIT = np.array(
    [
        [0.50, 0.10],
        [0.50, 0.17],
        [0.50, 0.02],
        [0.45, 0.08],
        [0.55, 0.08],
        [0.35, 0.22],
        [0.65, 0.22],
        [0.28, 0.38],
        [0.72, 0.38],
        [0.25, 0.52],
        [0.75, 0.52],
        [0.40, 0.55],
        [0.60, 0.55],
        [0.40, 0.76],
        [0.60, 0.76],
        [0.40, 0.97],
        [0.60, 0.97],
    ],
    np.float32,
)


def template_pose(box_xyxy) -> np.ndarray:
    """(K, 2) template joints laid into ``box_xyxy``."""
    x1, y1, x2, y2 = np.asarray(box_xyxy, np.float32)
    return _TEMPLATE_UNIT * np.array([x2 - x1, y2 - y1], np.float32) + np.array([x1, y1])


def _next_track_id(result: VideoResult) -> int:
    ids = result.track_ids()
    return int(ids.max()) + 1 if len(ids) else 0


def append_person(rec: FrameRecord, person: dict[str, np.ndarray]) -> FrameRecord:
    """``rec`` with one more person, ``person`` giving its value for every per-person column."""
    cols = writable_columns(rec)
    for name, value in person.items():
        cols[name] = np.concatenate([cols[name], np.asarray(value, cols[name].dtype)[None]])
    return replace(rec, **cols)


def add_person(
    result: VideoResult, frame: int, box_xyxy, track_id: int | None = None
) -> tuple[FrameEdit, int]:
    """Add a person box to ``frame``; joints start hidden at a template pose inside the box.

    Returns:
        The edit and the new person's track id (a fresh id unless ``track_id`` is given).
    """
    rec = result.frames[frame]
    tid = _next_track_id(result) if track_id is None else int(track_id)
    if rec.index_of_track(tid) is not None:
        raise EditError(f"track {tid} is already in frame {frame}")
    x1, y1, x2, y2 = (float(v) for v in box_xyxy)
    if not np.all(np.isfinite([x1, y1, x2, y2])):
        raise EditError(f"refused: the box {x1, y1, x2, y2} is not made of numbers")
    box = np.array([min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)], np.float32)
    person = {
        "boxes_xyxy": box,
        "box_scores": np.float32(1.0),
        "track_ids": np.int64(tid),
        "keypoints_xy": template_pose(box),
        "keypoint_scores": np.ones(NUM_KEYPOINTS, np.float32),
        "keypoint_spread_px": np.zeros(NUM_KEYPOINTS, np.float32),
        "keypoint_visible": np.zeros(NUM_KEYPOINTS, bool),
        "head_boxes_xyxy": np.full(4, np.nan, np.float32),
        "human_edited": np.bool_(True),
        "reviewed": np.bool_(False),
        "interpolated": np.bool_(False),
    }
    return _edit(result, f"add track {tid}", {frame: append_person(rec, person)}), tid


def copy_previous_pose(result: VideoResult, frame: int, track_id: int) -> FrameEdit:
    """Copy the pose (joints, visibility, box) of ``track_id`` from the frame before.

    The person is added to ``frame`` if it is not there yet.
    """
    if frame == 0:
        raise EditError("frame 0 has no previous frame")
    prev = result.frames[frame - 1]
    q = prev.index_of_track(track_id)
    if q is None:
        raise EditError(f"no track {track_id} in frame {frame - 1}")
    rec = result.frames[frame]
    p = rec.index_of_track(track_id)
    src = writable_columns(prev)
    if p is None:
        person = {name: value[q] for name, value in src.items()}
        person.update(
            human_edited=np.bool_(True), reviewed=np.bool_(False), interpolated=np.bool_(False)
        )
        new = append_person(rec, person)
    else:
        cols = writable_columns(rec)
        for name in (
            "keypoints_xy",
            "keypoint_scores",
            "keypoint_spread_px",
            "keypoint_visible",
            "boxes_xyxy",
            "head_boxes_xyxy",
        ):
            cols[name][p] = src[name][q]
        _mark_edited(cols, p)
        new = replace(rec, **cols)
    return _edit(result, f"copy previous pose of track {track_id}", {frame: new})


def _renamed(rec: FrameRecord, mapping: dict[int, int]) -> FrameRecord | None:
    """``rec`` with track ids renamed by ``mapping`` (renamed persons marked edited)."""
    hit = np.isin(rec.track_ids, list(mapping))
    if not hit.any():
        return None
    cols = writable_columns(rec)
    cols["track_ids"] = np.array([mapping.get(int(t), int(t)) for t in rec.track_ids], np.int64)
    cols["human_edited"] = cols["human_edited"] | hit
    return replace(rec, **cols)


def reassign_track(result: VideoResult, frame: int, track_id: int, new_id: int) -> FrameEdit:
    """Give the person ``track_id`` in ``frame`` the id ``new_id`` (this frame only).

    If ``new_id`` is already in the frame the two persons swap ids: the usual fix of an
    identity switch.
    """
    rec = result.frames[frame]
    _person(rec, track_id)
    if new_id < 0:
        raise EditError(f"track ids are >= 0, got {new_id}")
    if new_id == track_id:
        raise EditError(f"track {track_id} already has that id")
    mapping = {track_id: new_id}
    if rec.index_of_track(new_id) is not None:
        mapping[new_id] = track_id
    new = _renamed(rec, mapping)
    return _edit(result, f"reassign track {track_id} -> {new_id} in frame {frame}", {frame: new})


def merge_tracks(result: VideoResult, keep_id: int, merge_id: int) -> FrameEdit:
    """Make ``merge_id`` part of ``keep_id`` in every frame.

    Raises:
        EditError: the two tracks share a frame (delete or reassign one there first).
    """
    if keep_id == merge_id:
        raise EditError("cannot merge a track with itself")
    both = [
        fr.frame_index
        for fr in result.frames
        if fr.index_of_track(keep_id) is not None and fr.index_of_track(merge_id) is not None
    ]
    if both:
        shown = ", ".join(str(i) for i in both[:5]) + (" ..." if len(both) > 5 else "")
        raise EditError(
            f"tracks {keep_id} and {merge_id} are both in {len(both)} frame(s) ({shown}); "
            "delete or reassign one of them there first"
        )
    after = {}
    for fr in result.frames:
        new = _renamed(fr, {merge_id: keep_id})
        if new is not None:
            after[fr.frame_index] = new
    if not after:
        raise EditError(f"no track {merge_id} in the video")
    return _edit(result, f"merge track {merge_id} into {keep_id}", after)


def split_track(result: VideoResult, frame: int, track_id: int) -> tuple[FrameEdit, int]:
    """Give ``track_id`` a new id from ``frame`` on (the frames before keep the old id).

    Returns:
        The edit and the new track id.
    """
    _person(result.frames[frame], track_id)
    new_id = _next_track_id(result)
    after = {}
    for fr in result.frames[frame:]:
        new = _renamed(fr, {track_id: new_id})
        if new is not None:
            after[fr.frame_index] = new
    return _edit(result, f"split track {track_id} at frame {frame} -> {new_id}", after), new_id


#: Limbs from the body outwards (left-side slots; each has its right mirror in FLIP_PAIRS).
_LEFT_LIMBS = ((5, 7, 9), (11, 13, 15), (3,))


def _limb_pairs(joint: int) -> tuple[tuple[int, int], ...]:
    """The left/right pairs of the limb from ``joint`` outwards (shoulder: the whole arm;
    elbow: elbow and wrist; wrist: the wrists; ear: the ears); none for a midline joint."""
    mirror = dict(FLIP_PAIRS) | {b: a for a, b in FLIP_PAIRS}
    left = joint if joint in dict(FLIP_PAIRS) else mirror.get(joint)
    for limb in _LEFT_LIMBS:
        if left in limb:
            return tuple((k, mirror[k]) for k in limb[limb.index(left) :])
    return ()


def swap_left_right(
    result: VideoResult, frame: int, track_id: int, joint: int | None = None
) -> FrameEdit:
    """Swap the left and right joints of ``track_id`` in ``frame``: the limb from ``joint``
    outwards (a wrist: both wrists; an elbow: elbows and wrists; a shoulder or hip: the whole
    arm or leg), or every pair when ``joint`` is None. Positions, scores, spread and
    visibility move together.

    Raises:
        EditError: ``joint`` has no left/right mirror (nose, head, neck).
    """
    if joint is None:
        pairs, what = FLIP_PAIRS, "all left/right joints"
    else:
        pairs = _limb_pairs(joint)
        if not pairs:
            raise EditError(f"{KEYPOINT_NAMES[joint]} has no left/right mirror")
        names = [KEYPOINT_NAMES[a].removeprefix("left_") for a, _ in pairs]
        what = "left/right " + "+".join(names)
    rec = result.frames[frame]
    p = _person(rec, track_id)
    cols = writable_columns(rec)
    order = np.arange(NUM_KEYPOINTS)
    for a, b in pairs:
        order[a], order[b] = b, a
    for name in ("keypoints_xy", "keypoint_scores", "keypoint_spread_px", "keypoint_visible"):
        cols[name][p] = cols[name][p][order]
    _mark_edited(cols, p)
    return _edit(result, f"swap {what} of track {track_id}", {frame: replace(rec, **cols)})


def swap_tracks_from(result: VideoResult, frame: int, track_a: int, track_b: int) -> FrameEdit:
    """Exchange the ids ``track_a`` and ``track_b`` in ``frame`` and every frame after it: the
    fix of an identity switch at ``frame``.

    Raises:
        EditError: the ids are equal, or neither is in ``frame`` or after it.
    """
    if track_a == track_b:
        raise EditError(f"cannot swap track {track_a} with itself")
    after = {}
    for fr in result.frames[frame:]:
        new = _renamed(fr, {track_a: track_b, track_b: track_a})
        if new is not None:
            after[fr.frame_index] = new
    if not after:
        raise EditError(f"neither track {track_a} nor {track_b} is in frame {frame} or later")
    return _edit(result, f"swap tracks {track_a} and {track_b} from frame {frame}", after)


def set_reviewed(result: VideoResult, frame: int, track_id: int, reviewed: bool) -> FrameEdit:
    """Mark the person ``track_id`` of ``frame`` as checked by the analyst (or not). The pose
    is unchanged, so the person does not become ``human_edited``."""
    rec = result.frames[frame]
    p = _person(rec, track_id)
    cols = writable_columns(rec)
    cols["reviewed"][p] = reviewed
    word = "reviewed" if reviewed else "not reviewed"
    return _edit(
        result, f"mark track {track_id} {word} in frame {frame}", {frame: replace(rec, **cols)}
    )
