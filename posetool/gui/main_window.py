"""The viewer's main window: wires the session model to the frame view, timeline, side panel,
decoder thread, pipeline runner, shortcuts and settings. No editing logic lives here: input
becomes :mod:`posetool.gui.edits` commands applied to the :class:`AnnotationSession`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QImage, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QProgressDialog,
    QVBoxLayout,
    QWidget,
)

from posetool.gui import edits, media
from posetool.gui.decoder import FrameSource
from posetool.gui.frame_view import FrameView
from posetool.gui.help_overlay import HelpOverlay
from posetool.gui.pipeline_worker import PipelineRunner, RunFn, resolve_run_fn
from posetool.gui.session import AnnotationSession, UncertaintyThresholds, align_result
from posetool.gui.side_panel import SidePanel
from posetool.gui.timeline import Timeline

__all__ = ["MainWindow", "ask_unsaved"]

_LOG = logging.getLogger(__name__)
AUTOSAVE_INTERVAL_MS = 30_000


def ask_unsaved(parent: QWidget) -> str:
    """Ask what to do with unsaved changes: "save", "discard" or "cancel"."""
    buttons = (QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
               | QMessageBox.StandardButton.Cancel)  # fmt: skip
    answer = QMessageBox.warning(parent, "Unsaved changes",
                                 "The poses have unsaved changes. Save them first?", buttons)  # fmt: skip
    return {QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard"}.get(answer, "cancel")  # fmt: skip


class MainWindow(QMainWindow):
    """posetool viewer window.

    Args:
        settings: where preferences persist (tests pass a temporary ini file).
        confirm_unsaved: asked before unsaved changes would be lost; returns "save",
            "discard" or "cancel" (tests inject an answer instead of a dialog).
        run_fn: the pipeline callable (default: ``posetool.pipeline.run_video`` if present).
        inform: shows a message to the analyst (default: a message box).
    """

    def __init__(self, settings: QSettings | None = None,
                 confirm_unsaved: Callable[[QWidget], str] = ask_unsaved,
                 run_fn: RunFn | None = None,
                 inform: Callable[[str, str], None] | None = None) -> None:  # fmt: skip
        super().__init__()
        self.settings = settings or QSettings("posetool", "viewer")
        self._confirm_unsaved = confirm_unsaved
        self._run_fn = run_fn
        self._inform = inform or (lambda title, text: QMessageBox.information(self, title, text))
        self.session: AnnotationSession | None = None
        self.source: FrameSource | None = None
        self.runner: PipelineRunner | None = None
        self.view = FrameView()
        self.timeline = Timeline()
        self.actions_by_name: dict[str, QAction] = {}
        self._build_actions()
        edit_names = ("toggle_visible", "delete_person", "add_person", "copy_previous",
                      "split_track", "next_uncertain", "undo", "redo")  # fmt: skip
        self.panel = SidePanel([self.actions_by_name[n] for n in edit_names])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.timeline)
        self.setCentralWidget(central)
        dock = QDockWidget("Person", self)
        dock.setWidget(self.panel)
        dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.help = HelpOverlay(self._shortcut_rows(), central)
        self._connect()
        self._autosave_timer = QTimer(self)
        self._autosave_timer.timeout.connect(self._autosave)
        self._autosave_timer.start(AUTOSAVE_INTERVAL_MS)
        self.panel.set_thresholds(self._saved_thresholds())
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 860)
        self._refresh_title()

    # -- construction ------------------------------------------------------------------------

    def _build_actions(self) -> None:
        table = [
            ("open", "&Open video…", "Ctrl+O", self.open_dialog),
            ("run", "&Run pipeline on video…", "Ctrl+R", self.run_dialog),
            ("save", "&Save", "Ctrl+S", self.save),
            ("export", "&Export PoseTrack…", "Ctrl+E", self.export_dialog),
            ("prev", "Previous frame", "Left", lambda: self._step(-1)),
            ("next", "Next frame", "Right", lambda: self._step(1)),
            ("play", "Play/pause", "Space", self.timeline.toggle_play),
            ("next_uncertain", "Next uncertain", "N", lambda: self._goto_uncertain(1)),
            ("prev_uncertain", "Previous uncertain", "Shift+N", lambda: self._goto_uncertain(-1)),
            ("undo", "&Undo", "Ctrl+Z", lambda: self._history("undo")),
            ("redo", "&Redo", "Ctrl+Shift+Z", lambda: self._history("redo")),
            ("toggle_visible", "Toggle joint visibility", "V", self.toggle_visibility),
            ("delete_person", "Delete person", "Delete", self.delete_person),
            ("add_person", "Add person (draw box)", "B", self.start_add_person),
            ("copy_previous", "Copy previous pose", "C", self.copy_previous),
            ("split_track", "Split track here", "S", self.split_track),
            ("fit", "Fit frame", "F", self.view.fit),
            ("jump", "Jump to frame", "Ctrl+G", lambda: self.timeline.spin.setFocus()),
            ("help", "Keyboard shortcuts", "F1", lambda: self.help.toggle()),
        ]
        menus = {"File": ("open", "run", "save", "export"),
                 "Edit": ("undo", "redo", "toggle_visible", "delete_person", "add_person",
                          "copy_previous", "split_track"),
                 "View": ("prev", "next", "play", "next_uncertain", "prev_uncertain", "fit",
                          "jump", "help")}  # fmt: skip
        for name, text, keys, slot in table:
            action = QAction(text, self)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slot)
            self.addAction(action)
            self.actions_by_name[name] = action
        self.actions_by_name["redo"].setShortcuts([QKeySequence("Ctrl+Shift+Z"),
                                                   QKeySequence("Ctrl+Y")])  # fmt: skip
        self.actions_by_name["help"].setShortcuts([QKeySequence("F1"), QKeySequence("?")])
        for title, names in menus.items():
            menu = self.menuBar().addMenu(f"&{title}")
            for name in names:
                menu.addAction(self.actions_by_name[name])

    def _shortcut_rows(self) -> list[tuple[str, str]]:
        rows = []
        for action in self.actions_by_name.values():
            keys = " / ".join(k.toString() for k in action.shortcuts())
            rows.append((keys, action.text().replace("&", "").rstrip("…")))
        rows.append(("Wheel / drag", "Zoom / pan; drag a joint to move it"))
        return rows

    def _connect(self) -> None:
        self.view.keypointMoved.connect(self._on_keypoint_moved)
        self.view.jointClicked.connect(lambda t, k: self.session and self.session.select(t, k))
        self.view.personClicked.connect(self._on_person_clicked)
        self.view.boxDrawn.connect(self._on_box_drawn)
        self.timeline.frameRequested.connect(lambda i: self.session and self.session.set_frame(i))
        self.timeline.nextUncertain.connect(self._goto_uncertain)
        self.timeline.lanes.clicked.connect(self._on_lane_clicked)
        self.panel.reassignRequested.connect(self.reassign_selected)
        self.panel.mergeRequested.connect(self.merge_into_selected)
        self.panel.thresholdsChanged.connect(self._on_thresholds)

    def _saved_thresholds(self) -> UncertaintyThresholds:
        default = UncertaintyThresholds()
        try:
            return UncertaintyThresholds(
                spread_px=float(self.settings.value("spreadPx", default.spread_px)),
                min_score=float(self.settings.value("minScore", default.min_score)))  # fmt: skip
        except (TypeError, ValueError):
            return default

    # -- opening -----------------------------------------------------------------------------

    def open_dialog(self) -> None:
        start = str(self.settings.value("lastDir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open video", start,
                                              "Videos (*.mp4 *.avi *.mov *.mkv *.webm);;All (*)")  # fmt: skip
        if path:
            poses, _ = QFileDialog.getOpenFileName(self, "Poses (cancel: beside the video)",
                                                   str(Path(path).parent), "PoseTrack (*.json)")  # fmt: skip
            self.open_input(path, poses or None)

    def open_input(self, video: str | Path, poses: str | Path | None = None) -> bool:
        """Open a video file or image folder with its PoseTrack JSON (found beside it if not
        given; none: start empty). Returns False if the analyst kept the current session."""
        if not self._may_discard():
            return False
        video = Path(video)
        meta = media.probe_video(video)
        json_path = Path(poses) if poses else media.find_poses_json(video)
        json_path = json_path or media.default_json_path(video)
        session = AnnotationSession.open(meta, json_path, thresholds=self._saved_thresholds())
        self._install(session, video)
        if session.recovered_from is not None:
            self.statusBar().showMessage(f"Recovered unsaved edits from {session.recovered_from}")
        return True

    def _install(self, session: AnnotationSession, video: Path) -> None:
        if self.source is not None:
            self.source.close()
        self.session = session
        self.settings.setValue("lastDir", str(video.parent))
        self.source = FrameSource(video, parent=self)
        self.source.frameReady.connect(self._on_image)
        self.source.failed.connect(self._on_decode_failed)
        meta = session.result.meta
        self.view.set_frame_size(meta.width, meta.height)
        self.view.set_image(None)
        self.timeline.set_video(session.frame_count, meta.fps)
        session.subscribe(self._on_session)
        self._on_session("data")
        self._on_session("frame")

    # -- session -> widgets ------------------------------------------------------------------

    def _on_session(self, what: str) -> None:
        s = self.session
        if s is None:
            return
        if what == "frame" and self.source is not None:
            self.source.request(s.frame)
        if what in ("data", "saved"):
            self.timeline.lanes.set_data(s.result)
            self._refresh_title()
        sel = s.selection
        self.view.set_poses(s.record, s.uncertain_mask(), (sel.track_id, sel.joint))
        self.timeline.set_frame(s.frame, s.frame_count, s.record.timestamp_s)
        self.timeline.lanes.set_frame(s.frame, sel.track_id)
        self.panel.show_selection(s)
        self.actions_by_name["undo"].setEnabled(s.can_undo)
        self.actions_by_name["redo"].setEnabled(s.can_redo)
        self.actions_by_name["undo"].setText(f"&Undo {s.undo_text}".rstrip())
        self.actions_by_name["redo"].setText(f"&Redo {s.redo_text}".rstrip())

    def _on_image(self, index: int, image: QImage) -> None:
        if self.session is not None and index == self.session.frame:
            self.view.set_image(image)

    def _on_decode_failed(self, index: int, message: str) -> None:
        if self.session is not None and index == self.session.frame:
            self.view.set_image(None)
            self.statusBar().showMessage(f"frame {index}: {message}", 5000)

    def _refresh_title(self) -> None:
        s = self.session
        name = s.result.meta.path.name if s else "no video"
        self.setWindowTitle(f"posetool viewer — {name}{' *' if s and s.dirty else ''}")

    # -- navigation --------------------------------------------------------------------------

    def _step(self, delta: int) -> None:
        if self.session is not None:
            self.session.step(delta)

    def _goto_uncertain(self, direction: int) -> None:
        if self.session is not None and not self.session.goto_uncertain(direction):
            self.statusBar().showMessage("No more frames with uncertain joints", 3000)

    def _on_lane_clicked(self, frame: int, track: int) -> None:
        if self.session is not None:
            self.session.set_frame(frame)
            self.session.select(track if track >= 0 else None)

    def _on_thresholds(self, thresholds: UncertaintyThresholds) -> None:
        self.settings.setValue("spreadPx", thresholds.spread_px)
        self.settings.setValue("minScore", thresholds.min_score)
        if self.session is not None:
            self.session.set_thresholds(thresholds)

    # -- edits -------------------------------------------------------------------------------

    def _edit(self, make: Callable[[AnnotationSession], edits.FrameEdit | None]) -> None:
        """Build an edit from the session and apply it; edit errors go to the status bar."""
        if self.session is None:
            return
        try:
            edit = make(self.session)
        except edits.EditError as exc:
            self.statusBar().showMessage(str(exc), 5000)
            return
        if edit is not None:
            self.session.apply(edit)
            self.statusBar().showMessage(edit.description, 3000)

    def _selected(self, need_joint: bool = False) -> tuple[int, int | None]:
        sel = self.session.selection
        if sel.track_id is None or (need_joint and sel.joint is None):
            raise edits.EditError("select a " + ("joint" if need_joint else "person") + " first")
        return sel.track_id, sel.joint

    def _on_keypoint_moved(self, track: int, joint: int, x: float, y: float) -> None:
        self._edit(lambda s: edits.move_keypoint(s.result, s.frame, track, joint, (x, y)))

    def _on_person_clicked(self, track: int) -> None:
        if self.session is not None:
            self.session.select(track if track >= 0 else None)

    def _on_box_drawn(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self.view.add_box_mode = False
        self.view.setCursor(Qt.CursorShape.ArrowCursor)
        added: list[int] = []

        def make(s: AnnotationSession) -> edits.FrameEdit:
            edit, tid = edits.add_person(s.result, s.frame, (x1, y1, x2, y2))
            added.append(tid)
            return edit

        self._edit(make)
        if added:
            self.session.select(added[0])

    def start_add_person(self) -> None:
        self.view.add_box_mode = True
        self.view.setCursor(Qt.CursorShape.CrossCursor)
        self.statusBar().showMessage("Drag a box around the new person", 5000)

    def toggle_visibility(self) -> None:
        self._edit(lambda s: edits.toggle_visibility(s.result, s.frame, *self._selected(True)))

    def delete_person(self) -> None:
        self._edit(lambda s: edits.delete_person(s.result, s.frame, self._selected()[0]))

    def copy_previous(self) -> None:
        self._edit(lambda s: edits.copy_previous_pose(s.result, s.frame, self._selected()[0]))

    def split_track(self) -> None:
        self._edit(lambda s: edits.split_track(s.result, s.frame, self._selected()[0])[0])

    def reassign_selected(self, new_id: int) -> None:
        self._edit(lambda s: edits.reassign_track(s.result, s.frame, self._selected()[0], new_id))
        if self.session is not None and self.session.record.index_of_track(new_id) is not None:
            self.session.select(new_id)

    def merge_into_selected(self, other_id: int) -> None:
        self._edit(lambda s: edits.merge_tracks(s.result, self._selected()[0], other_id))

    def _history(self, which: str) -> None:
        if self.session is not None:
            edit = getattr(self.session, which)()
            if edit is not None:
                self.statusBar().showMessage(f"{which}: {edit.description}", 3000)

    # -- saving, pipeline, closing -----------------------------------------------------------

    def save(self) -> bool:
        if self.session is None:
            return True
        try:
            path = self.session.save()
        except OSError as exc:  # read-only data folder, full disk: keep editing, say why
            self._inform("Save failed", f"{exc}\nUse Export to write the poses elsewhere.")
            return False
        self.statusBar().showMessage(f"Saved {path}", 3000)
        return True

    def export_dialog(self) -> None:
        if self.session is None:
            return
        start = str(self.session.json_path or self.settings.value("lastDir", ""))
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export PoseTrack", start, "PoseTrack 2018 (*.json);;PoseTrack 2021 (*.json)"
        )
        if path:
            self.session.export(path, fmt="2021" if "2021" in chosen else "2018")

    def _autosave(self) -> None:
        if self.session is not None:
            self.session.autosave()

    def run_dialog(self) -> None:
        start = str(self.settings.value("lastDir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Run the pipeline on", start)
        if path:
            self.run_pipeline(path)

    def run_pipeline(self, video: str | Path) -> PipelineRunner | None:
        """Run the pose pipeline on ``video`` in a worker thread with a cancellable progress
        dialog; its result opens as an unsaved session."""
        run_fn, why = (self._run_fn, "") if self._run_fn else resolve_run_fn()
        if run_fn is None:
            self._inform("Pipeline not available", why)
            return None
        if not self._may_discard():
            return None
        video = Path(video)
        meta = media.probe_video(video)
        dialog = QProgressDialog(f"Estimating poses in {video.name}…", "Cancel", 0, 0, self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.runner = runner = PipelineRunner(run_fn, video, self)
        runner.progress.connect(
            lambda done, total: (dialog.setMaximum(total), dialog.setValue(done))
        )
        dialog.canceled.connect(runner.cancel)
        runner.cancelled.connect(lambda: self.statusBar().showMessage("Pipeline cancelled", 5000))
        runner.failed.connect(lambda msg: self._inform("Pipeline failed", msg))
        for signal in (runner.finished, runner.failed, runner.cancelled):
            signal.connect(dialog.reset)

        def done(result) -> None:
            json_path = media.default_json_path(video)
            session = AnnotationSession(align_result(result, meta), json_path,
                                        thresholds=self._saved_thresholds())  # fmt: skip
            session.mark_unsaved()
            self._install(session, video)

        runner.finished.connect(done)
        runner.start()
        dialog.show()
        return runner

    def _may_discard(self) -> bool:
        """True if there is nothing unsaved, or the analyst saved or chose to discard it."""
        if self.session is None or not self.session.dirty:
            return True
        answer = self._confirm_unsaved(self)
        if answer == "save":
            return self.save()
        if answer == "discard":
            self.session.discard_autosave()
            return True
        return False

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self._may_discard():
            event.ignore()
            return
        if self.runner is not None and self.runner.running:
            self.runner.cancel()
            self.runner.wait()
        if self.source is not None:
            self.source.close()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.sync()
        event.accept()
