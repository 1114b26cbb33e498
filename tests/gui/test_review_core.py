"""The Qt-free review tools: left/right swaps, track-id swaps from a frame on, the reviewed
mark (saved in the file, kept on save, journaled), keyframe interpolation, the review queue
ranking and filters, track events, and the left/right colours."""

from __future__ import annotations

import json

import numpy as np
import pytest

from diffpose.keypoints import KEYPOINT_NAMES
from posetool.gui import edits, interpolation
from posetool.gui.colors import LEFT_RGB, RIGHT_RGB, joint_side, limb_side, side_rgb
from posetool.gui.edits import EditError
from posetool.gui.journal import journal_path, read_journal
from posetool.gui.review_queue import QueueFilter, ReviewQueue
from posetool.gui.session import AnnotationSession
from posetool.gui.track_events import TrackEvents, track_events
from posetool.gui.uncertainty import UncertaintyThresholds
from posetool.io.posetrack_io import read_posetrack, write_posetrack
from posetool.records import FrameRecord, VideoMeta, VideoResult

L_WRIST, R_WRIST = KEYPOINT_NAMES.index("left_wrist"), KEYPOINT_NAMES.index("right_wrist")
L_KNEE = KEYPOINT_NAMES.index("left_knee")


def _result(tracks_per_frame, shift=None) -> VideoResult:
    """Frames with the given track ids; joint k of track t at (100 t + k, 50 + 10 k), moved
    by ``shift[(frame, track)]`` (dx, dy) where given."""
    shift = shift or {}
    frames = []
    for i, ids in enumerate(tracks_per_frame):
        n = len(ids)
        d = np.array([shift.get((i, t), (0.0, 0.0)) for t in ids], np.float32).reshape(n, 1, 2)
        kp = np.zeros((n, 17, 2), np.float32)
        kp[..., 0] = np.asarray(ids, np.float32)[:, None] * 100 + np.arange(17)
        kp[..., 1] = 50 + np.arange(17) * 10
        kp = kp + d
        boxes = np.concatenate([kp.min(1) - 5, kp.max(1) + 5], axis=1)
        frames.append(
            FrameRecord(
                frame_index=i,
                timestamp_s=i / 25,
                boxes_xyxy=boxes,
                box_scores=np.full(n, 0.9),
                track_ids=ids,
                keypoints_xy=kp,
                keypoint_scores=np.full((n, 17), 0.8),
                keypoint_spread_px=np.full((n, 17), 2.0),
            )
        )
    meta = VideoMeta(path="clip.mp4", fps=25, frame_count=len(frames), width=800, height=480)
    return VideoResult(meta, tuple(frames))


def _with(result: VideoResult, frame: int, track: int, **columns) -> VideoResult:
    """``result`` with per-joint columns of one person replaced (others untouched)."""
    rec = result.frames[frame]
    p = rec.index_of_track(track)
    cols = {}
    for name, value in columns.items():
        arr = np.array(getattr(rec, name))
        arr[p] = value
        cols[name] = arr
    from dataclasses import replace

    return result.with_frame(replace(rec, **cols))


# -- left / right ----------------------------------------------------------------------------


def test_joint_sides_and_colours():
    assert joint_side(L_WRIST) == "left" and joint_side(R_WRIST) == "right"
    assert joint_side(0) == "centre"  # nose
    assert limb_side(L_WRIST, KEYPOINT_NAMES.index("left_elbow")) == "left"
    assert limb_side(5, 6) == "centre"  # shoulder to shoulder
    person = (1, 2, 3)
    assert side_rgb("left", person) == LEFT_RGB != side_rgb("right", person) == RIGHT_RGB
    assert side_rgb("centre", person) == person


def test_swap_left_right_pair_and_person_undoable(tmp_path):
    result = _with(_result([[1, 2]]), 0, 1, keypoint_visible=np.arange(17) != L_WRIST)
    session = AnnotationSession(result, tmp_path / "clip.json")
    old = session.result.frames[0]
    session.apply(edits.swap_left_right(session.result, 0, 1, L_WRIST))
    new = session.result.frames[0]
    assert new.keypoints_xy[0, L_WRIST].tolist() == old.keypoints_xy[0, R_WRIST].tolist()
    assert new.keypoints_xy[0, R_WRIST].tolist() == old.keypoints_xy[0, L_WRIST].tolist()
    assert new.keypoint_visible[0, L_WRIST] and not new.keypoint_visible[0, R_WRIST]
    assert new.keypoints_xy[0, L_KNEE].tolist() == old.keypoints_xy[0, L_KNEE].tolist()
    assert new.human_edited.tolist() == [True, False]
    assert "wrist" in session.undo_text
    session.undo()
    assert session.result.frames[0] is old
    session.apply(edits.swap_left_right(session.result, 0, 1))
    flipped = session.result.frames[0].keypoints_xy[0]
    assert flipped[L_KNEE].tolist() == old.keypoints_xy[0, L_KNEE + 1].tolist()
    assert flipped[0].tolist() == old.keypoints_xy[0, 0].tolist()  # the nose stays
    session.undo()
    hip = KEYPOINT_NAMES.index("left_hip")
    session.apply(edits.swap_left_right(session.result, 0, 1, KEYPOINT_NAMES.index("right_elbow")))
    arm = session.result.frames[0].keypoints_xy[0]
    assert session.undo_text == "swap left/right elbow+wrist of track 1"
    assert arm[L_WRIST].tolist() == old.keypoints_xy[0, R_WRIST].tolist()
    assert arm[5].tolist() == old.keypoints_xy[0, 5].tolist()  # the shoulders stay
    session.undo()
    session.apply(edits.swap_left_right(session.result, 0, 1, hip))
    assert session.undo_text == "swap left/right hip+knee+ankle of track 1"
    assert (
        session.result.frames[0].keypoints_xy[0, L_WRIST].tolist()
        == old.keypoints_xy[0, L_WRIST].tolist()
    )
    with pytest.raises(EditError, match="nose has no left/right mirror"):
        edits.swap_left_right(session.result, 0, 1, 0)
    # journaled: a crash now replays the swap
    contents = read_journal(journal_path(tmp_path / "clip.json"))
    ops = [e.op for e in contents.entries]  # the session was not on disk: a snapshot first
    assert ops == ["snapshot", "apply", "undo", "apply", "undo", "apply", "undo", "apply"]


def test_swap_tracks_from_a_frame_on():
    result = _result([[1, 2], [1, 2], [1, 2], [1]])
    edit = edits.swap_tracks_from(result, 1, 1, 2)
    new = edit.apply(result)
    assert new.frames[0].track_ids.tolist() == [1, 2]
    assert new.frames[1].track_ids.tolist() == [2, 1] and new.frames[3].track_ids.tolist() == [2]
    assert new.frames[2].human_edited.all() and not new.frames[0].human_edited.any()
    assert edit.revert(new).frames[3].track_ids.tolist() == [1]
    with pytest.raises(EditError, match="itself"):
        edits.swap_tracks_from(result, 0, 1, 1)
    with pytest.raises(EditError, match="neither track 5 nor 6"):
        edits.swap_tracks_from(result, 0, 5, 6)


# -- the reviewed mark -----------------------------------------------------------------------


def test_reviewed_mark_saved_kept_and_journaled(tmp_path):
    path = tmp_path / "clip.json"
    write_posetrack(_result([[1, 2], [1, 2]]), path)
    data = json.loads(path.read_text())
    data["annotations"][0]["reviewer"] = "ann"  # a key posetool does not know
    path.write_text(json.dumps(data))
    meta = VideoMeta(path="clip.mp4", fps=25, frame_count=2, width=800, height=480)
    session = AnnotationSession.open(meta, path)
    session.apply(edits.set_reviewed(session.result, 0, 1, True))
    assert not session.result.frames[0].human_edited.any()  # a mark, not a pose change
    replayed = read_journal(journal_path(path)).entries[-1].frames[0]
    assert replayed.reviewed.tolist() == [True, False]
    session.save()
    anns = {(a["image_id"], a["track_id"]): a for a in json.loads(path.read_text())["annotations"]}
    assert anns[(0, 1)]["reviewed"] is True and anns[(0, 1)]["reviewer"] == "ann"
    assert "reviewed" not in anns[(0, 2)]
    assert read_posetrack(path).frames[0].reviewed.tolist() == [True, False]
    session.apply(edits.set_reviewed(session.result, 0, 1, False))
    session.save()
    ann = next(
        a for a in json.loads(path.read_text())["annotations"] if a["id"] == anns[(0, 1)]["id"]
    )
    assert "reviewed" not in ann and ann["reviewer"] == "ann"


def test_journal_of_an_older_viewer_without_flags_still_replays(tmp_path):
    path = tmp_path / "clip.json"
    session = AnnotationSession(_result([[1], [1]]), path)
    session.apply(edits.move_keypoint(session.result, 1, 1, 3, (5.0, 6.0)))
    jpath = journal_path(path)
    lines = jpath.read_text().splitlines()
    for i, line in enumerate(lines[1:], start=1):
        data = json.loads(line)
        for fr in data.get("frames", []):
            for key in ("reviewed", "interpolated"):
                fr["columns"].pop(key, None)
        lines[i] = json.dumps(data)
    jpath.write_text("\n".join(lines) + "\n")
    fresh = AnnotationSession(_result([[1], [1]]), path)
    fresh.recover(read_journal(jpath))
    assert fresh.result.frames[1].keypoints_xy[0, 3].tolist() == [5.0, 6.0]
    assert not fresh.result.frames[1].reviewed.any()


# -- interpolation ---------------------------------------------------------------------------


def _keyed(tmp_path):
    """Track 1 in frames 0-4 (absent in 3), edited at 0 and 4 (moved 40 px right at 4);
    track 2 everywhere. The left knee is hidden in keyframe 4."""
    result = _result([[1, 2], [1, 2], [1, 2], [2], [1, 2]], shift={(4, 1): (40.0, 0.0)})
    result = _with(result, 0, 1, human_edited=True)
    result = _with(result, 4, 1, human_edited=True, keypoint_visible=np.arange(17) != L_KNEE)
    return AnnotationSession(result, tmp_path / "clip.json")


def test_interpolate_fills_linearly_marks_and_undoes(tmp_path):
    session = _keyed(tmp_path)
    assert interpolation.keyframes(session.result, 1) == [0, 4]
    assert interpolation.keyframe_gap(session.result, 1, 2) == (0, 4)
    assert interpolation.keyframe_gap(session.result, 1, 4) == (0, 4)
    before = session.result
    model_knee = before.frames[2].keypoints_xy[0, L_KNEE].tolist()
    session.apply(interpolation.interpolate_around(session.result, 1, 2))
    frames = session.result.frames
    a, b = before.frames[0].keypoints_xy[0], before.frames[4].keypoints_xy[0]
    p = frames[2].index_of_track(1)
    want = (a + (b - a) * 0.5)[0]
    assert frames[2].keypoints_xy[p, 0].tolist() == pytest.approx(want.tolist())
    assert frames[2].keypoints_xy[p, L_KNEE].tolist() == model_knee  # not invented
    assert frames[2].interpolated[p] and not frames[2].human_edited[p]
    # frame 3 lacked the track: added, its hidden-in-a-keyframe joint hidden
    q = frames[3].index_of_track(1)
    assert q is not None and frames[3].interpolated[q]
    assert not frames[3].keypoint_visible[q, L_KNEE] and frames[3].keypoint_visible[q, 0]
    assert frames[3].keypoints_xy[q, 0, 0] == pytest.approx(a[0, 0] + 30.0)
    assert frames[2].track_ids.tolist() == [1, 2] and not frames[2].interpolated[1]
    assert interpolation.keyframes(session.result, 1) == [0, 4]  # fills are not keyframes
    session.undo()
    assert session.result.frames[3].track_ids.tolist() == [2]
    assert all(x is y for x, y in zip(session.result.frames, before.frames, strict=True))


def test_interpolate_needs_two_keyframes_and_editing_a_fill_makes_a_keyframe(tmp_path):
    session = _keyed(tmp_path)
    with pytest.raises(EditError, match="track 2 needs an edited frame"):
        interpolation.interpolate_around(session.result, 2, 2)
    session.apply(interpolation.interpolate_around(session.result, 1, 1))
    session.apply(edits.move_keypoint(session.result, 2, 1, 0, (1.0, 2.0)))
    fr = session.result.frames[2]
    assert fr.human_edited[0] and not fr.interpolated[0]
    assert interpolation.keyframes(session.result, 1) == [0, 2, 4]
    session.apply(edits.move_keypoint(session.result, 1, 1, 0, (1.0, 2.0)))
    with pytest.raises(EditError, match="no frame between"):
        interpolation.interpolate_between(session.result, 1, 1, 2)
    with pytest.raises(EditError, match="frame 1 between 0 and 4 is a keyframe too"):
        interpolation.interpolate_between(session.result, 1, 0, 4)


def test_interpolated_flag_round_trips_through_the_file(tmp_path):
    session = _keyed(tmp_path)
    session.apply(interpolation.interpolate_around(session.result, 1, 2))
    path = session.save()
    back = read_posetrack(path)
    assert back.frames[2].interpolated.tolist() == [True, False]
    assert back.frames[0].human_edited.tolist() == [True, False]


# -- the review queue ------------------------------------------------------------------------


def _uncertain():
    result = _result([[1, 2], [1, 2], [1, 2]])
    result = _with(result, 1, 2, keypoint_spread_px=np.where(np.arange(17) == L_WRIST, 30.0, 2.0))
    result = _with(result, 2, 1, keypoint_scores=np.where(np.arange(17) == L_KNEE, 0.1, 0.8))
    return _with(result, 0, 1, keypoint_spread_px=np.where(np.arange(17) == L_KNEE, 12.0, 2.0))


def test_queue_ranks_by_uncertainty_counts_and_filters():
    queue = ReviewQueue(UncertaintyThresholds(spread_px=8.0, min_score=0.3))
    items = queue.update(_uncertain())
    assert [(it.frame, it.track_id, it.joint) for it in items] == [
        (1, 2, L_WRIST),
        (0, 1, L_KNEE),
        (2, 1, L_KNEE),
    ]
    # spread 30 px over 8 px; spread 12 over 8; score 0.1: (1 - 0.1) / (1 - 0.3)
    assert [it.uncertainty for it in items] == pytest.approx([30 / 8, 12 / 8, 0.9 / 0.7])
    assert queue.left == 3
    queue.set_filter(QueueFilter(track_id=1))
    assert [it.frame for it in queue.update(_uncertain())] == [0, 2]
    queue.set_filter(QueueFilter(joint=L_WRIST))
    assert [(it.frame, it.track_id) for it in queue.update(_uncertain())] == [(1, 2)]


def test_queue_reviewed_items_stay_listed_but_not_left():
    queue = ReviewQueue()
    result = edits.set_reviewed(_uncertain(), 0, 1, True).apply(_uncertain())
    items = queue.update(result)
    assert len(items) == 3 and queue.left == 2 and items[1].reviewed
    assert queue.next_unreviewed(0, 1) == 2  # skips the reviewed one
    assert queue.next_unreviewed(2, -1) == 0
    assert queue.next_unreviewed(2, 1) is None


def test_queue_measures_only_the_frames_an_edit_changed(monkeypatch):
    queue = ReviewQueue()
    result = _uncertain()
    queue.update(result)
    calls = []
    real = queue._measure
    monkeypatch.setattr(queue, "_measure", lambda recs: calls.append(list(recs)) or real(recs))
    edited = edits.set_reviewed(result, 1, 2, True).apply(result)
    items = queue.update(edited)
    assert [[rec.frame_index for rec in recs] for recs in calls] == [[1]]
    assert items == ReviewQueue().update(edited) and queue.left == 2  # as if ranked afresh
    assert queue.index_of(1, 2) == 0 and queue.index_of(1, 1) is None


# -- track events ----------------------------------------------------------------------------


def test_track_events_starts_ends_and_jumps():
    # track 1 jumps 300 px (boxes ~30x170 px) at frame 2; track 2 leaves after 1, back at 3
    result = _result(
        [[1, 2], [1, 2], [1], [1, 2]], shift={(2, 1): (300.0, 0.0), (3, 1): (300.0, 0.0)}
    )
    events = [(e.frame, e.track_id, e.kind) for e in track_events(result)]
    assert events == [
        (0, 1, "start"),
        (0, 2, "start"),
        (1, 2, "end"),
        (2, 1, "jump"),
        (3, 2, "start"),
        (3, 1, "end"),
        (3, 2, "end"),
    ]
    assert not [e for e in track_events(result, jump_ratio=5.0) if e.kind == "jump"]
    with pytest.raises(ValueError, match="jump_ratio"):
        track_events(result, 0.0)


def test_track_events_follow_an_edit_from_the_frames_it_changed():
    result = _result([[1, 2], [1, 2], [1, 2], [1, 2]])
    finder = TrackEvents()
    assert [e.kind for e in finder.update(result)] == ["start", "start", "end", "end"]
    moved = edits.delete_person(result, 2, 2).apply(result)
    events = finder.update(moved)
    assert events == track_events(moved)
    assert [(e.frame, e.track_id, e.kind) for e in events if e.track_id == 2] == [
        (0, 2, "start"),
        (1, 2, "end"),
        (3, 2, "start"),
        (3, 2, "end"),
    ]
    assert finder.update(moved) is events  # nothing changed: nothing looked at
