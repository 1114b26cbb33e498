"""The viewer never loses an edit: bad files give a message, not a dead viewer; failed saves
and exports keep the window and the edits and write a recovery copy; a viewer killed mid-session
(SIGKILL, in a subprocess) has its edits offered back and replayed on the next open."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from posetool.gui import edits  # noqa: E402
from posetool.gui.journal import journal_path  # noqa: E402
from posetool.gui.pose_file import backup_path  # noqa: E402
from posetool.gui.session import AnnotationSession  # noqa: E402
from posetool.io.posetrack_io import read_posetrack  # noqa: E402
from posetool.records import VideoResult  # noqa: E402
from tests.gui.conftest import tiny_poses  # noqa: E402


def _messages(make_window, **kwargs):
    shown: list[tuple[str, str]] = []
    window = make_window(inform=lambda title, text: shown.append((title, text)), **kwargs)
    return window, shown


def test_bad_poses_file_is_a_message_not_a_dead_viewer(make_window, tiny_video, tmp_path):
    video, poses = tiny_video
    window, shown = _messages(make_window)
    assert window.open_input(video, poses)
    window.view.keypointMoved.emit(1, 2, 30.0, 31.0)
    bad = tmp_path / "bad.json"
    bad.write_text(re.sub(r'"score": [-+.e0-9]+', '"score": NaN', poses.read_text(), count=1))
    assert not window.open_input(video, bad)
    title, text = shown[-1]
    assert title == "Could not open" and str(bad) in text and "NaN" in text
    s = window.session  # the session and its edit stay
    assert s.json_path == poses and s.dirty and s.record.keypoints_xy[0, 2].tolist() == [30, 31]
    window.view.keypointMoved.emit(1, 3, float("nan"), 5.0)  # refused, said in the status bar
    assert "not be a number" in window.statusBar().currentMessage()
    assert np.isfinite(s.record.keypoints_xy).all() and s.undo_text.startswith("move joint 2")


def test_failed_save_on_close_keeps_window_edits_and_writes_a_copy(make_window, tiny_video):
    video, poses = tiny_video
    window, shown = _messages(make_window)
    window.open_input(video, poses)
    window.view.keypointMoved.emit(1, 4, 40.0, 41.0)
    poses.unlink()
    poses.mkdir()  # the file became a folder: the save cannot replace it
    make_window.answers.append("save")
    assert not window.close() and window.isVisible()
    title, text = shown[-1]
    assert title == "Save failed" and "a copy was written to" in text
    copy = Path(text.split("a copy was written to\n")[1].splitlines()[0])
    back = read_posetrack(copy)
    assert back.frames[0].keypoints_xy[0, 4].tolist() == [40.0, 41.0]
    assert window.session.dirty and journal_path(poses).is_file()


def test_any_save_or_export_error_is_shown(make_window, tiny_video, tmp_path, monkeypatch):
    video, poses = tiny_video
    window, shown = _messages(make_window)
    window.open_input(video, poses)
    window.view.keypointMoved.emit(2, 4, 50.0, 51.0)

    def broken(*args, **kwargs):
        raise RuntimeError("the writer broke")

    monkeypatch.setattr("posetool.gui.session.write_poses", broken)
    assert not window.save()
    assert "the writer broke" in shown[-1][1] and "a copy was written" in shown[-1][1]
    assert not window.export(tmp_path / "out.json")
    assert shown[-1][0] == "Export failed" and window.session.dirty
    monkeypatch.undo()
    assert window.export(tmp_path / "out.json")
    assert window.save() and not window.session.dirty
    assert "original is kept as clip.json.orig" in window.statusBar().currentMessage()
    assert backup_path(poses).is_file()


def test_recovery_is_offered_then_replayed_or_kept_aside(make_window, tiny_video):
    video, poses = tiny_video
    meta = read_posetrack(poses, video_path=video, fps=10).meta
    crashed = AnnotationSession.open(meta, poses)
    crashed.apply(edits.delete_person(crashed.result, 0, 2))
    crashed.apply(edits.move_keypoint(crashed.result, 1, 1, 0, (9.0, 8.0)))
    del crashed  # never saved nor closed
    questions: list[str] = []
    window = make_window(confirm_recover=lambda _w, text: questions.append(text) or False)
    window.open_input(video, poses)
    assert "2 edit(s)" in questions[0] and str(journal_path(poses)) in questions[0]
    assert window.session.record.num_persons == 2 and not window.session.dirty
    aside = [p for p in poses.parent.iterdir() if ".journal.declined-" in p.name]
    assert len(aside) == 1 and not journal_path(poses).exists()  # kept, out of the way
    aside[0].rename(journal_path(poses))
    window = make_window(confirm_recover=lambda _w, text: True)
    window.open_input(video, poses)
    s = window.session
    assert s.result.frames[0].track_ids.tolist() == [1] and s.dirty
    assert s.result.frames[1].keypoints_xy[0, 0].tolist() == [9.0, 8.0]
    assert "Recovered 2 unsaved edit(s)" in window.statusBar().currentMessage()
    assert "*" in window.windowTitle() and s.can_undo


_DRIVER = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QSettings
    from posetool.gui.app import create_application
    app = create_application()
    from posetool.gui.main_window import MainWindow
    video, poses, ini = sys.argv[1:4]
    window = MainWindow(settings=QSettings(ini, QSettings.Format.IniFormat),
                        confirm_unsaved=lambda w: "cancel", inform=print)
    window.show()
    window.open_input(video, poses)
    window.view.keypointMoved.emit(1, 5, 61.0, 62.0)   # a drag ends
    window.session.set_frame(3)
    window.session.select(2)
    window.delete_person()                             # Delete key
    window.session.set_frame(8)
    window.session.select(1)
    window.split_track()                               # S key
    window.actions_by_name["undo"].trigger()           # Ctrl+Z
    print("EDITED", flush=True)
    app.exec()
    """
)


def test_viewer_killed_mid_session_loses_no_edit(make_window, tiny_video, tmp_path):
    video, poses = tiny_video
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=os.getcwd())
    proc = subprocess.Popen(
        [sys.executable, "-c", _DRIVER, str(video), str(poses), str(tmp_path / "driver.ini")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        assert line.strip() == "EDITED", line + proc.stderr.read()[-3000:]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    before = json.loads(poses.read_text())  # the poses file was never written
    window = make_window(confirm_recover=lambda _w, text: "3 edit(s)" in text)
    window.open_input(video, poses)
    s = window.session
    assert s.result.frames[0].keypoints_xy[0, 5].tolist() == [61.0, 62.0]
    assert s.result.frames[3].track_ids.tolist() == [1]
    assert s.result.frames[8].track_ids.tolist() == [1]  # the split was undone ...
    assert s.redo_text.startswith("split track 1")  # ... and can be redone
    assert json.loads(poses.read_text()) == before


def test_frame_count_mismatch_and_journal_trouble_are_shown(make_window, tiny_video):
    video, poses = tiny_video
    data = json.loads(poses.read_text())
    data["images"] = data["images"][:10]  # poses for 10 of the 12 frames
    poses.write_text(json.dumps(data))
    journal_path(poses).mkdir()  # something in the journal's way: it cannot be written
    window, shown = _messages(make_window)
    window.open_input(video, poses)
    assert "clip.json has poses for 10 frames, the video has 12" in window.notice.text()
    window.view.keypointMoved.emit(1, 6, 20.0, 21.0)
    assert window.session.record.keypoints_xy[0, 6].tolist() == [20.0, 21.0]  # edit made
    assert shown[-1][0] == "Edits are not protected" and "clip.json.journal" in shown[-1][1]
    assert "Edits are not journaled" in window.notice.text()
    window.view.keypointMoved.emit(1, 7, 22.0, 23.0)
    assert len(shown) == 1  # said once, not at every edit


def test_an_older_viewers_autosave_is_pointed_to(make_window, tiny_video):
    video, poses = tiny_video
    sidecar = poses.with_name("clip.json.autosave.json")  # what the viewer wrote before
    sidecar.write_text(poses.read_text())
    os.utime(sidecar, ns=(poses.stat().st_atime_ns, poses.stat().st_mtime_ns + 10**9))
    window, shown = _messages(make_window)
    window.open_input(video, poses)
    assert shown == [("Older autosave found", shown[0][1])] and str(sidecar) in shown[0][1]


def test_pipeline_result_is_journaled_at_once_and_its_frame_count_shown(
    make_window, qtbot, tiny_video
):
    video, poses = tiny_video
    poses.unlink()  # no poses yet: the result exists only in the window

    def run_fn(path, progress, cancel):
        result = tiny_poses(path)
        return VideoResult(replace(result.meta, frame_count=10), result.frames[:10])

    window = make_window(run_fn=run_fn)
    runner = window.run_pipeline(video)
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        pass
    qtbot.waitUntil(lambda: window.session is not None, timeout=5_000)
    assert "the pipeline gave 10 frames, the video announces 12" in window.notice.text()
    assert journal_path(poses).is_file()  # a crash now loses nothing
    meta = window.session.result.meta
    again = AnnotationSession.open(meta, poses)
    again.recover(again.find_journal())
    assert [fr.track_ids.tolist() for fr in again.result.frames[:10]] == [
        fr.track_ids.tolist() for fr in window.session.result.frames[:10]
    ]
    assert again.dirty
