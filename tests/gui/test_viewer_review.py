"""The review tools in the Qt window (offscreen, pytest-qt, on a small synthetic video): left and
right drawn apart, hover names the joint, the legend, swap left/right, the review queue with
its keys and the reviewed mark saved, interpolation, track events and the track-id swap."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QEvent, QPointF  # noqa: E402
from PySide6.QtGui import QHelpEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QToolTip  # noqa: E402

from diffpose.keypoints import KEYPOINT_NAMES  # noqa: E402
from posetool.gui.colors import LEFT_RGB, RIGHT_RGB  # noqa: E402
from posetool.gui.edits import template_pose  # noqa: E402
from posetool.io.posetrack_io import write_posetrack  # noqa: E402
from posetool.records import VideoResult  # noqa: E402
from tests.gui.conftest import tiny_poses  # noqa: E402

L_ELBOW, L_WRIST = KEYPOINT_NAMES.index("left_elbow"), KEYPOINT_NAMES.index("left_wrist")
R_ELBOW, R_WRIST = KEYPOINT_NAMES.index("right_elbow"), KEYPOINT_NAMES.index("right_wrist")


def _uncertain_video(tiny_video):
    """The tiny video with the left wrist of track 1 uncertain (spread 20 + frame px) in
    frames 2, 5 and 7, and of track 2 in frame 3."""
    video, poses = tiny_video
    result = tiny_poses(video)
    frames = list(result.frames)
    for i, tid in ((2, 1), (5, 1), (7, 1), (3, 2)):
        rec = frames[i]
        spread = np.array(rec.keypoint_spread_px)
        spread[rec.index_of_track(tid), L_WRIST] = 20.0 + i
        frames[i] = replace(rec, keypoint_spread_px=spread)
    write_posetrack(VideoResult(result.meta, tuple(frames)), poses)
    return video, poses


def _trigger(window, name):
    window.actions_by_name[name].trigger()


def _pixel(window, scene_xy):
    """(r, g, b) of the frame view at a scene point, as painted."""
    image = window.view.viewport().grab().toImage()
    at = window.view.mapFromScene(QPointF(*scene_xy))
    color = image.pixelColor(at)
    return color.red(), color.green(), color.blue()


def test_left_and_right_limbs_differ_hover_names_legend_toggles(make_window, tiny_video):
    video, poses = tiny_video
    result = tiny_poses(video)  # a standing pose, so limbs do not cross other joints
    frames = [
        replace(fr, keypoints_xy=[template_pose(b) for b in fr.boxes_xyxy]) for fr in result.frames
    ]
    write_posetrack(VideoResult(result.meta, tuple(frames)), poses)
    window = make_window()
    window.open_input(video, poses)
    kp = window.session.record.keypoints_xy[0]
    left = _pixel(window, (kp[L_ELBOW] + kp[L_WRIST]) / 2)
    right = _pixel(window, (kp[R_ELBOW] + kp[R_WRIST]) / 2)
    assert left[0] > left[2] + 80 and right[2] > right[0] + 80  # warm left, cool right
    assert LEFT_RGB[0] > LEFT_RGB[2] and RIGHT_RGB[2] > RIGHT_RGB[0]
    tip = window.view.joint_tooltip(QPointF(*kp[L_WRIST]))
    assert tip.startswith("track 1: left_wrist") and "score 0.80" in tip
    assert window.view.joint_tooltip(QPointF(-50.0, -50.0)) == ""
    at = window.view.mapFromScene(QPointF(*kp[L_WRIST]))  # the tooltip event shows it
    help_event = QHelpEvent(QEvent.Type.ToolTip, at, window.view.viewport().mapToGlobal(at))
    QApplication.sendEvent(window.view.viewport(), help_event)
    assert QToolTip.isVisible() and QToolTip.text() == tip
    corner = (12, window.view.viewport().height() - 12)
    shot = lambda: window.view.viewport().grab().toImage().pixelColor(*corner).name()  # noqa: E731
    with_legend = shot()
    _trigger(window, "legend")
    assert not window.view.show_legend and shot() != with_legend
    rows = " ".join(text for _, text in window.help.rows)
    assert (
        "Swap left/right limb (joint outwards)" in rows and "Interpolate between keyframes" in rows
    )


def test_swap_left_right_actions_are_undoable(make_window, tiny_video):
    video, poses = tiny_video
    window = make_window()
    window.open_input(video, poses)
    s = window.session
    old = s.record.keypoints_xy[0].copy()
    _trigger(window, "swap_lr_pair")
    assert "select a joint first" in window.statusBar().currentMessage()
    s.select(1, L_WRIST)
    _trigger(window, "swap_lr_pair")
    new = s.record.keypoints_xy[0]
    assert (
        new[L_WRIST].tolist() == old[R_WRIST].tolist()
        and new[L_ELBOW].tolist() == old[L_ELBOW].tolist()
    )
    _trigger(window, "undo")
    assert s.record.keypoints_xy[0].tolist() == old.tolist()
    _trigger(window, "swap_lr_person")
    assert s.record.keypoints_xy[0, L_ELBOW].tolist() == old[R_ELBOW].tolist()
    assert s.record.human_edited[0] and s.dirty


def test_review_queue_keys_mark_and_save(make_window, tiny_video, qtbot):
    video, poses = _uncertain_video(tiny_video)
    window = make_window()
    window.open_input(video, poses)
    s, panel = window.session, window.tools.review
    assert panel.count.text().startswith("4 of 4 ")
    _trigger(window, "review_next")  # the worst first: frame 7 (spread 27 px)
    assert (s.frame, s.selection.track_id, s.selection.joint) == (7, 1, L_WRIST)
    _trigger(window, "mark_reviewed")  # marks it and moves on to frame 5
    assert s.result.frames[7].reviewed.tolist() == [True] and s.frame == 5
    assert panel.count.text().startswith("3 of 4 ") and panel.row_text(0).startswith("✓ 7 1 ")
    _trigger(window, "review_prev")  # the reviewed one is skipped: nothing before
    assert s.frame == 5
    s.set_frame(3)
    s.select(2)  # going there by hand highlights its row: the keys go on from it
    assert panel.row_text(panel.current_row).startswith("3 2 ")
    _trigger(window, "review_prev")
    assert s.frame == 5
    _trigger(window, "undo")
    assert not s.result.frames[7].reviewed.any() and panel.count.text().startswith("4 of 4")
    _trigger(window, "redo")
    panel.track_filter.setCurrentIndex(panel.track_filter.findData(2))
    assert panel.model.rowCount() == 1 and panel.row_text(0) == "3 2 left_wrist 23.0 0.80"
    panel.track_filter.setCurrentIndex(0)
    panel.joint_filter.setCurrentIndex(panel.joint_filter.findData(0))  # nose: none uncertain
    assert panel.model.rowCount() == 0
    assert window.save()
    anns = json.loads(poses.read_text())["annotations"]
    assert [a["image_id"] for a in anns if a.get("reviewed")] == [7]


def test_interpolate_action_fills_between_keyframes(make_window, tiny_video):
    video, poses = tiny_video
    window = make_window()
    window.open_input(video, poses)
    s = window.session
    window.view.keypointMoved.emit(1, 0, 10.0, 10.0)  # frame 0 becomes a keyframe
    s.set_frame(4)
    window.view.keypointMoved.emit(1, 0, 50.0, 30.0)
    s.set_frame(2)
    s.select(1)
    _trigger(window, "interpolate")
    p = s.record.index_of_track(1)
    assert s.record.keypoints_xy[p, 0].tolist() == pytest.approx([30.0, 20.0])
    assert s.record.interpolated[p] and not s.record.human_edited[p]
    assert "interpolated between keyframes" in window.panel.info.text()
    assert s.undo_text == "interpolate track 1 between frames 0 and 4"
    _trigger(window, "undo")
    assert not s.record.interpolated.any()
    s.select(2)
    _trigger(window, "interpolate")
    assert "needs an edited frame" in window.statusBar().currentMessage()


def test_track_events_step_and_swap_ids_from_here(make_window, tiny_video):
    video, poses = tiny_video
    window = make_window()
    window.open_input(video, poses)
    s, tracks = window.session, window.tools.tracks
    assert tracks.events == []  # found only when shown, or when its keys are used
    _trigger(window, "event_next")
    assert (s.frame, s.selection.track_id) == (5, 2)
    s.set_frame(0)
    window.tools.tabs.setCurrentWidget(tracks)
    assert [e.describe() for e in tracks.events][:3] == [
        "frame 0: track 1 starts",
        "frame 0: track 2 starts",
        "frame 5: track 2 ends",
    ]
    _trigger(window, "event_next")
    assert (s.frame, s.selection.track_id) == (5, 2)
    _trigger(window, "event_prev")
    assert s.frame == 0
    s.set_frame(3)
    s.select(1)
    tracks.other_id.setValue(2)
    tracks.swapRequested.emit(2)
    assert s.result.frames[2].track_ids.tolist() == [1, 2]
    p = s.result.frames[3].index_of_track(2)
    assert s.result.frames[3].keypoints_xy[p, 0, 0] == pytest.approx(5.0)  # was track 1
    assert s.result.frames[11].track_ids.tolist() == [2] and s.selection.track_id == 2
    assert "track 1 ends" in " ".join(e.describe() for e in tracks.events)
    _trigger(window, "undo")
    assert s.result.frames[11].track_ids.tolist() == [1]
