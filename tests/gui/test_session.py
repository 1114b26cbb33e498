"""The Qt-free session model: every edit kind with undo/redo, merge/split semantics,
human_edited flags, export + read back, journal recovery after a simulated crash."""

from __future__ import annotations

import shutil
import sys

import numpy as np
import pytest

from posetool.gui import edits
from posetool.gui.journal import JournalError, journal_path, read_journal
from posetool.gui.session import AnnotationSession, UncertaintyThresholds
from posetool.io.posetrack_io import read_posetrack, write_posetrack
from posetool.records import FrameRecord, VideoMeta, VideoResult


def _result(tracks_per_frame, tmp_path=None) -> VideoResult:
    """Frames with the given track ids; person of track t sits at x = 100 * t."""
    frames = []
    for i, ids in enumerate(tracks_per_frame):
        n = len(ids)
        x = np.asarray(ids, np.float32)[:, None] * 100
        kp = np.zeros((n, 17, 2), np.float32)
        kp[..., 0] = x + np.arange(17)
        kp[..., 1] = 50 + np.arange(17) * 10
        frames.append(
            FrameRecord(
                frame_index=i,
                timestamp_s=i / 25,
                boxes_xyxy=np.concatenate([x, x * 0 + 40, x + 60, x * 0 + 240], axis=1),
                box_scores=np.full(n, 0.9),
                track_ids=ids,
                keypoints_xy=kp,
                keypoint_scores=np.full((n, 17), 0.8),
                keypoint_spread_px=np.full((n, 17), 2.0),
            )
        )
    meta = VideoMeta(path="clip.mp4", fps=25, frame_count=len(frames), width=640, height=480)
    return VideoResult(meta, tuple(frames))


@pytest.fixture
def session(tmp_path) -> AnnotationSession:
    result = _result([[1, 2], [1, 2], [1, 2], [1, 3], [3]])
    return AnnotationSession(result, tmp_path / "clip.json")


def _frame_state(session):
    return [
        (
            fr.track_ids.tolist(),
            fr.keypoints_xy.tolist(),
            fr.keypoint_visible.tolist(),
            fr.human_edited.tolist(),
        )
        for fr in session.result.frames
    ]


def _undo_redo_round_trip(session, edit):
    before = _frame_state(session)
    session.apply(edit)
    after = _frame_state(session)
    assert after != before
    assert session.dirty and session.can_undo
    session.undo()
    assert _frame_state(session) == before
    session.redo()
    assert _frame_state(session) == after


def test_move_keypoint_undo_redo_marks_edited(session):
    edit = edits.move_keypoint(session.result, 1, 2, 9, (333.0, 222.0))
    _undo_redo_round_trip(session, edit)
    fr = session.result.frames[1]
    p = fr.index_of_track(2)
    assert fr.keypoints_xy[p, 9].tolist() == [333.0, 222.0]
    assert fr.keypoint_scores[p, 9] == 1.0 and fr.keypoint_spread_px[p, 9] == 0.0
    assert fr.human_edited.tolist() == [False, True]
    assert not session.result.frames[0].human_edited.any()


def test_toggle_visibility_and_delete_and_add(session):
    _undo_redo_round_trip(session, edits.toggle_visibility(session.result, 0, 1, 4))
    assert not session.result.frames[0].keypoint_visible[0, 4]
    _undo_redo_round_trip(session, edits.delete_person(session.result, 0, 2))
    assert session.result.frames[0].track_ids.tolist() == [1]
    edit, tid = edits.add_person(session.result, 4, (10, 20, 110, 220))
    assert tid == 4  # fresh id: max over the video + 1
    _undo_redo_round_trip(session, edit)
    fr = session.result.frames[4]
    p = fr.index_of_track(4)
    assert fr.human_edited[p] and not fr.keypoint_visible[p].any()  # joints wait to be placed
    assert np.all((fr.keypoints_xy[p] >= [10, 20]) & (fr.keypoints_xy[p] <= [110, 220]))
    with pytest.raises(edits.EditError):
        edits.add_person(session.result, 4, (0, 0, 1, 1), track_id=3)


def test_reassign_swaps_ids_in_one_frame(session):
    _undo_redo_round_trip(session, edits.reassign_track(session.result, 1, 1, 2))
    fr = session.result.frames[1]
    assert fr.track_ids.tolist() == [2, 1] and fr.human_edited.all()
    assert session.result.frames[0].track_ids.tolist() == [1, 2]
    _undo_redo_round_trip(session, edits.reassign_track(session.result, 0, 1, 7))
    assert session.result.frames[0].track_ids.tolist() == [7, 2]


def test_merge_tracks_renames_everywhere_and_refuses_overlap(session):
    with pytest.raises(edits.EditError, match="both in 1 frame"):
        edits.merge_tracks(session.result, 1, 3)  # 1 and 3 share frame 3
    _undo_redo_round_trip(session, edits.merge_tracks(session.result, 2, 3))
    ids = [fr.track_ids.tolist() for fr in session.result.frames]
    assert ids == [[1, 2], [1, 2], [1, 2], [1, 2], [2]]
    assert session.result.frames[3].human_edited.tolist() == [False, True]
    assert not session.result.frames[0].human_edited.any()  # track 2 was not renamed there


def test_split_track_gives_new_id_from_current_frame(session):
    edit, new_id = edits.split_track(session.result, 2, 1)
    assert new_id == 4
    _undo_redo_round_trip(session, edit)
    ids = [fr.track_ids.tolist() for fr in session.result.frames]
    assert ids == [[1, 2], [1, 2], [4, 2], [4, 3], [3]]
    assert session.result.frames[2].human_edited.tolist() == [True, False]


def test_copy_previous_pose(session):
    _undo_redo_round_trip(session, edits.move_keypoint(session.result, 0, 1, 0, (5.0, 6.0)))
    _undo_redo_round_trip(session, edits.copy_previous_pose(session.result, 1, 1))
    assert session.result.frames[1].keypoints_xy[0, 0].tolist() == [5.0, 6.0]
    # a track missing from the frame is added with the previous pose
    _undo_redo_round_trip(session, edits.copy_previous_pose(session.result, 3, 2))
    fr = session.result.frames[3]
    assert sorted(fr.track_ids.tolist()) == [1, 2, 3] and fr.human_edited[fr.index_of_track(2)]
    with pytest.raises(edits.EditError):
        edits.copy_previous_pose(session.result, 0, 1)


def test_new_edit_clears_redo_and_dirty_follows_saves(session, tmp_path):
    session.apply(edits.toggle_visibility(session.result, 0, 1, 0))
    session.undo()
    assert session.can_redo and not session.dirty  # back at the saved revision
    session.apply(edits.toggle_visibility(session.result, 0, 1, 1))
    assert not session.can_redo and session.dirty
    session.save()
    assert not session.dirty
    session.undo()
    assert session.dirty


def test_next_uncertain_frame(session):
    assert session.find_uncertain(1) is None
    edit = edits.move_keypoint(session.result, 3, 3, 5, (1.0, 1.0))
    session.apply(edit)
    rec = session.result.frames[3]
    spread = np.array(rec.keypoint_spread_px)
    spread[0, 2] = 30.0
    from dataclasses import replace

    session.result = session.result.with_frame(replace(rec, keypoint_spread_px=spread))
    session.thresholds = UncertaintyThresholds(spread_px=10.0, min_score=0.5)
    assert session.goto_uncertain(1) and session.frame == 3
    assert session.uncertain_mask()[0, 2] and session.uncertain_mask().sum() == 1
    assert not session.goto_uncertain(1)
    session.set_frame(4)
    assert session.goto_uncertain(-1) and session.frame == 3


def test_save_every_frame_2021_and_read_back(session, tmp_path):
    session.apply(edits.move_keypoint(session.result, 4, 3, 16, (400.0, 300.0)))
    session.apply(edits.delete_person(session.result, 0, 1))
    for fmt in ("2018", "2021"):
        path = session.export(tmp_path / f"out_{fmt}.json", fmt=fmt)
        back = read_posetrack(path)
        assert back.meta.frame_count == 5
        assert back.frames[0].track_ids.tolist() == [2]
        fr = back.frames[4]
        assert fr.human_edited.tolist() == [True]
        np.testing.assert_allclose(fr.keypoints_xy[0, 16], [400.0, 300.0])


def test_journal_recovery_after_simulated_crash(tmp_path):
    json_path = tmp_path / "clip.json"
    result = _result([[1, 2], [1, 2], [2]])
    write_posetrack(result, json_path)
    meta = result.meta
    first = AnnotationSession.open(meta, json_path)
    assert first.find_journal() is None and not first.dirty
    first.apply(edits.move_keypoint(first.result, 2, 2, 3, (77.0, 88.0)))
    assert journal_path(json_path).is_file()  # the first edit is on disk at once
    first.apply(edits.split_track(first.result, 1, 1)[0])
    first.apply(edits.delete_person(first.result, 0, 1))
    first.undo()  # the undo history is journaled too
    del first  # "crash": dropped without saving or closing
    again = AnnotationSession.open(meta, json_path)
    assert not again.dirty and again.result.frames[1].track_ids.tolist() == [1, 2]
    contents = again.find_journal()
    assert contents.edit_count == 3 and not again.journal_base_changed(contents)
    assert again.recover(contents) == 3
    assert again.recovered_from == journal_path(json_path) and again.dirty
    np.testing.assert_allclose(again.result.frames[2].keypoints_xy[0, 3], [77.0, 88.0])
    assert again.result.frames[1].track_ids.tolist() == [3, 2]
    assert again.result.frames[0].track_ids.tolist() == [1, 2]  # the delete was undone
    assert again.can_redo and again.redo().description == "delete track 1"
    assert again.result.frames[0].track_ids.tolist() == [2]
    again.save()
    assert not journal_path(json_path).exists() and not again.dirty
    assert AnnotationSession.open(meta, json_path).find_journal() is None


def test_journal_of_a_pipeline_result_replays_from_its_snapshot(tmp_path):
    json_path = tmp_path / "clip.json"  # never saved: the journal must carry the result
    first = AnnotationSession(_result([[1, 2], [1], [2]]), json_path)
    first.mark_unsaved()
    assert journal_path(json_path).is_file()
    first.apply(edits.delete_person(first.result, 0, 2))
    first.close()  # closed unsaved (as after a declined save): the journal stays
    again = AnnotationSession.open(first.result.meta, json_path)
    assert again.record.num_persons == 0  # no file yet
    assert again.recover(again.find_journal()) == 1
    assert [fr.track_ids.tolist() for fr in again.result.frames] == [[1], [1], [2]]
    again.undo()
    assert again.result.frames[0].track_ids.tolist() == [1, 2] and again.dirty


def test_journal_torn_last_line_is_ignored_and_bad_lines_refused(tmp_path):
    json_path = tmp_path / "clip.json"
    result = _result([[1], [1]])
    write_posetrack(result, json_path)
    first = AnnotationSession.open(result.meta, json_path)
    first.apply(edits.move_keypoint(first.result, 1, 1, 0, (5.0, 6.0)))
    first.apply(edits.move_keypoint(first.result, 0, 1, 0, (7.0, 8.0)))
    path = journal_path(json_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])  # killed while writing the second edit
    again = AnnotationSession.open(result.meta, json_path)
    assert again.recover(again.find_journal()) == 1
    np.testing.assert_allclose(again.result.frames[1].keypoints_xy[0, 0], [5.0, 6.0])
    assert path.read_bytes().endswith(b"\n")  # rewritten without the torn line
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join([lines[0], b"{not json", lines[1], b""]))
    with pytest.raises(JournalError, match="line 2"):
        AnnotationSession.open(result.meta, json_path).find_journal()


def test_journal_failure_never_stops_an_edit(tmp_path):
    json_path = tmp_path / "gone" / "clip.json"  # the folder vanished: no journal possible
    session = AnnotationSession(_result([[1]]), json_path)
    session.apply(edits.move_keypoint(session.result, 0, 1, 0, (5.0, 6.0)))
    assert session.journal_error and "clip.json.journal" in session.journal_error
    assert session.result.frames[0].keypoints_xy[0, 0].tolist() == [5.0, 6.0]
    json_path.parent.mkdir()
    session.apply(edits.move_keypoint(session.result, 0, 1, 1, (7.0, 8.0)))
    assert session.journal_error is None
    assert read_journal(journal_path(json_path)).edit_count == 2  # started from the history


def test_edits_that_would_make_nan_are_refused(session):
    with pytest.raises(edits.EditError, match="not be a number"):
        edits.move_keypoint(session.result, 0, 1, 3, (float("nan"), 5.0))
    with pytest.raises(edits.EditError, match="not be a number"):
        edits.move_keypoint(session.result, 0, 1, 3, (float("inf"), 5.0))
    with pytest.raises(edits.EditError, match="not made of numbers"):
        edits.add_person(session.result, 0, (0, float("nan"), 10, 10))
    assert not session.dirty


def test_real_gt_file_edits_survive_round_trip(posetrack_sample, tmp_path):
    gt = tmp_path / "012834_mpii_test.json"  # a copy: the session journals beside its file
    shutil.copy(posetrack_sample / "annotations" / "val" / gt.name, gt)
    result = read_posetrack(gt)
    meta = VideoMeta(path=gt, fps=25, frame_count=1, width=1920, height=1080)
    session = AnnotationSession.open(meta, gt)
    assert session.record.num_persons == 11
    tid = int(session.record.track_ids[0])
    session.apply(edits.move_keypoint(session.result, 0, tid, 0, (10.0, 20.0)))
    out = session.save(tmp_path / "edited.json")
    back = read_posetrack(out)
    p = back.frames[0].index_of_track(tid)
    assert back.frames[0].human_edited.sum() == 1 and back.frames[0].human_edited[p]
    assert back.frames[0].image_file == result.frames[0].image_file
    np.testing.assert_allclose(back.frames[0].keypoints_xy[p, 0], [10.0, 20.0])


def test_session_model_does_not_import_qt():
    import subprocess

    code = (
        "import sys, posetool.gui.session, posetool.gui.edits; sys.exit('PySide6' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_journal_after_a_save_counts_only_the_edits_the_file_lacks(tmp_path):
    json_path = tmp_path / "clip.json"
    result = _result([[1, 2], [1, 2]])
    write_posetrack(result, json_path)
    first = AnnotationSession.open(result.meta, json_path)
    for x in (10.0, 20.0, 30.0):
        first.apply(edits.move_keypoint(first.result, 0, 1, 3, (x, 5.0)))
    first.save()
    first.apply(edits.move_keypoint(first.result, 1, 2, 4, (40.0, 6.0)))
    del first  # killed after one more edit
    again = AnnotationSession.open(result.meta, json_path)
    contents = again.find_journal()
    assert contents.edit_count == 4 and contents.unsaved_count == 1  # the history rides along
    assert again.recover(contents) == 1
    assert again.result.frames[1].keypoints_xy[1, 4].tolist() == [40.0, 6.0]
    assert again.undo_text == "move joint 4 of track 2"  # the undo history is back too
