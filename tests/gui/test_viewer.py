"""The Qt viewer, offscreen with pytest-qt, on real footage: open a video with a PoseTrack file,
step frames, drag a joint, undo/redo, merge/split, export and read back, close guards."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, Qt  # noqa: E402

from posetool.io.posetrack_io import read_posetrack, write_posetrack  # noqa: E402
from posetool.records import FrameRecord, VideoMeta, VideoResult  # noqa: E402
from tests.required import missing_input

N_FRAMES = 300  # basketball_mmaction2.mp4


@pytest.fixture
def video(shared_data):
    path = shared_data / "videos" / "basketball_mmaction2.mp4"
    if not path.is_file():
        missing_input(f"{path} is absent")
    return path


def _poses(video, tmp_path):
    """A PoseTrack file for the real video: track 1 in frames 0-9, track 2 in 0-4, track 3
    in 5-9 (so 2 and 3 can merge)."""
    frames = []
    for i in range(N_FRAMES):
        ids = [t for t, span in ((1, range(10)), (2, range(5)), (3, range(5, 10))) if i in span]
        n = len(ids)
        x0 = np.array([60.0 + 150 * (t - 1) for t in ids], np.float32).reshape(n, 1)
        kp = np.zeros((n, 17, 2), np.float32)
        kp[..., 0] = x0 + 30 + 3 * np.arange(17)
        kp[..., 1] = 40 + 9 * np.arange(17)
        frames.append(
            FrameRecord(
                frame_index=i,
                timestamp_s=i / 30,
                boxes_xyxy=np.concatenate([x0, x0 * 0 + 30, x0 + 100, x0 * 0 + 200], 1),
                box_scores=np.full(n, 0.9),
                track_ids=ids,
                keypoints_xy=kp,
                keypoint_scores=np.full((n, 17), 0.9),
                keypoint_spread_px=np.full((n, 17), 1.0),
            )
        )
    meta = VideoMeta(path=video, fps=30, frame_count=N_FRAMES, width=426, height=240)
    path = tmp_path / "basketball_mmaction2.json"
    write_posetrack(VideoResult(meta, tuple(frames)), path)
    return path


def _wait_frame(qtbot, window, index):
    """Wait until the decoder delivered ``index`` (or it is already cached)."""
    if window.source.cached(index) is None:
        qtbot.waitUntil(lambda: window.source.cached(index) is not None, timeout=10_000)


def test_cv2_first_then_qapplication_offscreen():
    code = (
        "import os, cv2\n"
        "from posetool.gui.app import create_application\n"
        "from PySide6.QtWidgets import QLabel\n"
        "app = create_application()\n"
        "w = QLabel('ok'); w.show(); app.processEvents()\n"
        "assert 'cv2' not in os.environ.get('QT_QPA_PLATFORM_PLUGIN_PATH', '')\n"
    )
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_open_step_drag_undo_redo_export(make_window, qtbot, video, tmp_path):
    poses = _poses(video, tmp_path)
    window = make_window()
    window.open_input(video, poses)  # the JSON beside the video would be found too
    s = window.session
    assert s.frame_count == N_FRAMES and s.record.num_persons == 2
    _wait_frame(qtbot, window, 0)
    window.activateWindow()
    qtbot.keyClick(window.view, Qt.Key.Key_Right)
    qtbot.keyClick(window.view, Qt.Key.Key_Right)
    assert s.frame == 2
    _wait_frame(qtbot, window, 2)
    qtbot.keyClick(window.view, Qt.Key.Key_Left)
    assert s.frame == 1

    # drag joint 9 (left wrist) of track 2 with the mouse
    p = s.record.index_of_track(2)
    start = s.record.keypoints_xy[p, 9].astype(float)
    viewport = window.view.viewport()
    a = window.view.mapFromScene(*start)
    b = a + QPoint(40, 25)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(viewport, pos=a + QPoint(20, 12))
    qtbot.mouseMove(viewport, pos=b)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=b)
    target = window.view.mapToScene(b)
    moved = s.record.keypoints_xy[p, 9]
    np.testing.assert_allclose(moved, [target.x(), target.y()], atol=1.0)
    assert s.selection.track_id == 2 and s.selection.joint == 9
    assert s.record.human_edited[p] and s.dirty and "*" in window.windowTitle()

    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_allclose(s.record.keypoints_xy[p, 9], start)
    assert not s.record.human_edited[p] and not s.dirty
    qtbot.keyClick(
        window.view,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    np.testing.assert_allclose(s.record.keypoints_xy[p, 9], moved)

    qtbot.keyClick(window.view, Qt.Key.Key_V)  # hide the selected joint
    assert not s.record.keypoint_visible[p, 9]

    # merge 3 into 2, then split 1 at frame 6
    window.merge_into_selected(3)
    assert [fr.track_ids.tolist() for fr in s.result.frames[4:7]] == [[1, 2], [1, 2], [1, 2]]
    s.set_frame(6)
    s.select(1)
    qtbot.keyClick(window.view, Qt.Key.Key_S)
    ids = [sorted(fr.track_ids.tolist()) for fr in s.result.frames[:10]]
    assert ids[5] == [1, 2] and ids[6] == [2, 3] and ids[9] == [2, 3]  # 3 was free again

    qtbot.keyClick(window.view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not s.dirty and poses.is_file()
    out = tmp_path / "export_2021.json"
    s.export(out, fmt="2021")
    for path in (poses, out):
        back = read_posetrack(path)
        assert back.meta.frame_count == N_FRAMES
        fr1 = back.frames[1]
        q = fr1.index_of_track(2)
        np.testing.assert_allclose(fr1.keypoints_xy[q, 9], [0, 0])  # hidden joints export as 0
        assert not fr1.keypoint_visible[q, 9] and fr1.human_edited[q]
        assert sorted(back.frames[7].track_ids.tolist()) == [2, 3]
        assert back.frames[7].human_edited.all()  # renamed by merge (3->2) and split (1->3)
        assert not back.frames[0].human_edited.any()


def test_a_photo_opens_as_one_frame_with_its_poses(make_window, qtbot, shared_data, tmp_path):
    """A photo (one of `posetool run`'s photo inputs) opens with the poses found beside it,
    decoded as an image: one frame, the photo's own size."""
    import cv2

    src = shared_data / "images" / "coco_val2014_people" / "COCO_val2014_000000000241.jpg"
    if not src.is_file():
        missing_input(f"{src} is absent")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(src.read_bytes())
    height, width = cv2.imread(str(photo)).shape[:2]
    kp = np.zeros((1, 17, 2), np.float32)
    kp[..., 0] = 100 + 5 * np.arange(17)
    kp[..., 1] = 100 + 10 * np.arange(17)
    frame = FrameRecord(
        frame_index=0,
        timestamp_s=0.0,
        boxes_xyxy=np.array([[90.0, 90.0, 200.0, 300.0]], np.float32),
        box_scores=np.full(1, 0.9),
        track_ids=[1],
        keypoints_xy=kp,
        keypoint_scores=np.full((1, 17), 0.9),
        keypoint_spread_px=np.full((1, 17), 1.0),
    )
    meta = VideoMeta(path=photo, fps=30, frame_count=1, width=width, height=height)
    write_posetrack(VideoResult(meta, (frame,)), tmp_path / "photo.json")
    window = make_window()
    assert window.open_input(photo)  # photo.json beside it is found
    assert window.session.frame_count == 1 and window.session.record.num_persons == 1
    _wait_frame(qtbot, window, 0)
    image = window.source.cached(0)
    assert (image.height(), image.width()) == (height, width)


def test_a_folder_of_photos_is_refused_unless_poses_were_made_for_it(make_window, tmp_path):
    """A folder of photos of several sizes is not opened (nor posed) as one video: the
    analyst is told why; with a poses file made for the folder as one video (`posetool run
    --frames`), it opens as given."""
    import cv2

    folder = tmp_path / "shots"
    folder.mkdir()
    for i, (h, w) in enumerate([(60, 80), (80, 60), (70, 70)]):
        cv2.imwrite(str(folder / f"p{i}.jpg"), np.full((h, w, 3), 90, np.uint8))
    shown = []
    calls = []
    window = make_window(
        inform=lambda title, text: shown.append(text),
        run_fn=lambda *a: calls.append(a),
    )
    assert not window.open_input(folder)
    assert window.session is None or window.session.result.meta.path != folder
    assert "photos of different sizes" in shown[-1] and str(folder) in shown[-1]
    before = len(shown)
    assert window.run_pipeline(folder) is None and not calls
    assert len(shown) == before + 1 and "photos of different sizes" in shown[-1]
    meta = VideoMeta(path=folder, fps=30, frame_count=3, width=80, height=60)
    frames = tuple(FrameRecord(frame_index=i, timestamp_s=i / 30) for i in range(3))
    write_posetrack(VideoResult(meta, frames), tmp_path / "shots.json")
    assert window.open_input(folder)  # shots.json beside it
    assert window.session.frame_count == 3


def test_playback_uncertain_lanes_and_help(make_window, qtbot, video, tmp_path):
    window = make_window()
    window.open_input(video, _poses(video, tmp_path))
    s = window.session
    window.timeline.toggle_play()
    qtbot.waitUntil(lambda: s.frame >= 3, timeout=5_000)
    window.timeline.toggle_play()
    assert not window.timeline.playing
    window.panel.min_score.setValue(0.95)  # every joint scored 0.9 is now uncertain
    s.set_frame(20)
    assert s.thresholds.min_score == pytest.approx(0.95)
    qtbot.keyClick(window.view, Qt.Key.Key_N, Qt.KeyboardModifier.ShiftModifier)
    assert s.frame == 9  # last frame with persons
    assert window.view.overlay._uncertain.all()
    spans = window.timeline.lanes.spans
    assert spans.ids == [1, 2, 3] and spans.frame_count == N_FRAMES
    assert spans.present[3].pairs() == [(5, 10)]
    qtbot.keyClick(window.view, Qt.Key.Key_F1)
    assert window.help.isVisible() and len(window.help.rows) > 10
    qtbot.keyClick(window.help, Qt.Key.Key_Escape)
    assert not window.help.isVisible()
    assert float(window.settings.value("minScore")) == pytest.approx(0.95)


def test_close_guard_and_add_person(make_window, qtbot, video, tmp_path):
    window = make_window()
    window.open_input(video, _poses(video, tmp_path))
    s = window.session
    window.start_add_person()
    viewport = window.view.viewport()
    a, b = window.view.mapFromScene(300, 60), window.view.mapFromScene(380, 220)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(viewport, pos=b)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=b)
    assert s.record.num_persons == 3 and s.selection.track_id == 4
    make_window.answers.append("cancel")
    assert not window.close() and window.isVisible()
    make_window.answers.append("discard")
    assert window.close()


def test_pipeline_runs_in_a_worker_and_cancels(make_window, qtbot, video, tmp_path):
    ran = threading.Event()

    def run_fn(path, progress, cancel):
        meta = VideoMeta(path=path, fps=30, frame_count=N_FRAMES, width=426, height=240)
        frames = []
        for i in range(N_FRAMES):
            progress(i + 1, N_FRAMES)
            frames.append(FrameRecord(frame_index=i))
        ran.set()
        return VideoResult(meta, tuple(frames))

    window = make_window(run_fn=run_fn)
    runner = window.run_pipeline(video)
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        pass
    qtbot.waitUntil(lambda: window.session is not None, timeout=5_000)
    assert ran.is_set() and window.session.dirty and window.session.frame_count == N_FRAMES
    assert window.notice.text() == ""  # as many frames as the video announces

    def slow(path, progress, cancel):
        while not cancel.wait(0.01):
            progress(0, 1)
        raise RuntimeError("stopped")

    window.session.save(tmp_path / "from_pipeline.json")
    window._run_fn = slow
    runner = window.run_pipeline(video)
    with qtbot.waitSignal(runner.cancelled, timeout=10_000):
        runner.cancel()
    assert window.session.json_path == tmp_path / "from_pipeline.json"


def test_pipeline_missing_is_reported(make_window, monkeypatch, video):
    messages = []
    monkeypatch.setattr("posetool.gui.main_window.resolve_run_fn", lambda: (None, "not installed"))
    window = make_window(inform=lambda title, text: messages.append(text))
    assert window.run_pipeline(video) is None
    assert messages == ["not installed"]


def test_posetrack_sample_frame(make_window, qtbot, posetrack_sample):
    seq = "012834_mpii_test"
    window = make_window()
    window.open_input(
        posetrack_sample / "images" / "val" / seq,
        posetrack_sample / "annotations" / "val" / f"{seq}.json",
    )
    assert window.session.record.num_persons == 11
    _wait_frame(qtbot, window, 0)
    assert window.source.cached(0).width() == 1920


def test_pyside_refcount_guard_survives_many_calls():
    code = (
        "from posetool.gui.app import create_application\n"
        "from PySide6.QtGui import QAction\n"
        "app = create_application()\n"
        "a = QAction('x')\n"
        "for _ in range(20000):\n"
        "    a.setEnabled(True); a.trigger()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
