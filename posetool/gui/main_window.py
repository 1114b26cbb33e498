"""The viewer's main window: wires the session model to the frame view, timeline, side panel,
decoder thread, pipeline runner, shortcuts and settings. No editing logic lives here: input
becomes :mod:`posetool.gui.edits` commands applied to the :class:`AnnotationSession`.

Open, save and export go through :class:`~posetool.gui.file_actions.FileActions`: every error
is shown, and the window and the edits stay.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QImage, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from posetool.gui import edits, media
from posetool.gui.decoder import FrameSource
from posetool.gui.dialogs import ask_recover, ask_unsaved
from posetool.gui.file_actions import FileActions
from posetool.gui.frame_view import FrameView
from posetool.gui.help_overlay import HelpOverlay
from posetool.gui.pipeline_worker import PipelineRunner, RunFn, resolve_run_fn, run_with_progress
from posetool.gui.review_tools import ReviewTools
from posetool.gui.session import AnnotationSession, UncertaintyThresholds, align_result
from posetool.gui.shortcuts import add_window_actions
from posetool.gui.side_panel import SidePanel
from posetool.gui.timeline import Timeline

__all__ = ["MainWindow"]

_LOG = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """posetool viewer window.

    Args:
        settings: where preferences persist (tests pass a temporary ini file).
        confirm_unsaved: asked before unsaved changes would be lost; returns "save",
            "discard" or "cancel" (tests inject an answer instead of a dialog).
        run_fn: the pipeline callable (default: ``posetool.run.pipeline.run_video`` if present).
        inform: shows a message to the analyst (default: a message box).
        confirm_recover: asked whether to recover the edits of a journal a crashed session
            left (gets the question's text, returns True to recover).
    """

    def __init__(
        self,
        settings: QSettings | None = None,
        confirm_unsaved: Callable[[QWidget], str] = ask_unsaved,
        run_fn: RunFn | None = None,
        inform: Callable[[str, str], None] | None = None,
        confirm_recover: Callable[[QWidget, str], bool] = ask_recover,
    ) -> None:
        super().__init__()
        self.settings = settings or QSettings("posetool", "viewer")
        self._run_fn = run_fn
        self._inform = inform or (lambda title, text: QMessageBox.warning(self, title, text))
        status = lambda text: self.statusBar().showMessage(text, 8000)  # noqa: E731
        self.files = FileActions(self, self._inform, status, confirm_unsaved, confirm_recover)
        self.session: AnnotationSession | None = None
        self.source: FrameSource | None = None
        self.runner: PipelineRunner | None = None
        self.view = FrameView()
        self.timeline = Timeline()
        self.actions_by_name: dict[str, QAction] = {}
        self._build_actions()
        self.tools = ReviewTools(self)
        edit_names = (
            "toggle_visible",
            "delete_person",
            "add_person",
            "copy_previous",
            "split_track",
            "swap_lr_pair",
            "interpolate",
            "mark_reviewed",
            "next_uncertain",
            "undo",
            "redo",
        )
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
        self.notice = QLabel()  # what the analyst must keep in mind: mismatches, journal trouble
        self.notice.setStyleSheet("color: #e0a000")
        self.statusBar().addPermanentWidget(self.notice)
        self._shown_journal_error: str | None = None
        self._connect()
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
        menus = {
            "File": ("open", "run", "save", "export"),
            "Edit": (
                "undo",
                "redo",
                "toggle_visible",
                "delete_person",
                "add_person",
                "copy_previous",
                "split_track",
            ),
            "View": (
                "prev",
                "next",
                "play",
                "next_uncertain",
                "prev_uncertain",
                "fit",
                "jump",
                "help",
            ),
        }
        add_window_actions(self, table)
        self.actions_by_name["redo"].setShortcuts(
            [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]
        )
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
                min_score=float(self.settings.value("minScore", default.min_score)),
            )
        except (TypeError, ValueError):
            return default

    # -- opening -----------------------------------------------------------------------------

    def open_dialog(self) -> None:
        start = str(self.settings.value("lastDir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open video or photo",
            start,
            "Videos (*.mp4 *.avi *.mov *.mkv *.webm);;Photos (*.jpg *.jpeg *.png *.bmp);;All (*)",
        )
        if path:
            poses, _ = QFileDialog.getOpenFileName(
                self,
                "Poses (cancel: beside the video)",
                str(Path(path).parent),
                "PoseTrack (*.json)",
            )
            self.open_input(path, poses or None)

    def open_input(self, video: str | Path, poses: str | Path | None = None) -> bool:
        """Open a video file or image folder with its PoseTrack JSON (found beside it if not
        given; none: start empty), offering back unsaved edits a crash left. Returns False if
        the current session stays: the analyst kept it, or the input could not be opened (the
        reason is shown)."""
        answer = self.files.may_end(self.session)
        if answer is None:
            return False
        video = Path(video)
        session = self.files.open(video, poses, self._saved_thresholds())
        if session is None:
            return False
        self._install(session, video, answer)  # its notes (e.g. frame counts) show in the notice
        self.files.offer_recovery(session)
        return True

    def _install(self, session: AnnotationSession, video: Path, answer: str) -> None:
        """Show ``session``; the one it replaces ends (``answer`` from ``files.may_end``)."""
        self.files.retire(self.session, answer)
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
            self._refresh_notice()
        self.tools.on_session(what)
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

    def _refresh_notice(self) -> None:
        """Keep the notes on the poses and any journal trouble in view; a new journal
        failure also gets a message box."""
        s = self.session
        error = s.journal_error if s else None
        lines = list(s.notes if s else ()) + (
            [f"Edits are not journaled: {error}"] if error else []
        )
        self.notice.setText(" · ".join(lines))
        self.notice.setToolTip("\n".join(lines))
        if error and error != self._shown_journal_error:
            self._inform(
                "Edits are not protected",
                f"The edit journal cannot be written:\n"
                f"{error}\nSave, or Export to another folder, to keep your work.",
            )
        self._shown_journal_error = error

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

    def apply_edit(self, make: Callable[[AnnotationSession], edits.FrameEdit | None]) -> None:
        """Build an edit from the session and apply it; edit errors go to the status bar."""
        if self.session is None:
            return
        try:
            edit = make(self.session)
        except ValueError as exc:  # EditError, or a record refusing the values
            self.statusBar().showMessage(str(exc), 5000)
            return
        if edit is not None:
            self.session.apply(edit)
            self.statusBar().showMessage(edit.description, 3000)

    def require_selection(self, need_joint: bool = False) -> tuple[int, int | None]:
        sel = self.session.selection
        if sel.track_id is None or (need_joint and sel.joint is None):
            raise edits.EditError("select a " + ("joint" if need_joint else "person") + " first")
        return sel.track_id, sel.joint

    def _on_keypoint_moved(self, track: int, joint: int, x: float, y: float) -> None:
        self.apply_edit(lambda s: edits.move_keypoint(s.result, s.frame, track, joint, (x, y)))

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

        self.apply_edit(make)
        if added:
            self.session.select(added[0])

    def start_add_person(self) -> None:
        self.view.add_box_mode = True
        self.view.setCursor(Qt.CursorShape.CrossCursor)
        self.statusBar().showMessage("Drag a box around the new person", 5000)

    def toggle_visibility(self) -> None:
        self.apply_edit(
            lambda s: edits.toggle_visibility(s.result, s.frame, *self.require_selection(True))
        )

    def delete_person(self) -> None:
        self.apply_edit(
            lambda s: edits.delete_person(s.result, s.frame, self.require_selection()[0])
        )

    def copy_previous(self) -> None:
        self.apply_edit(
            lambda s: edits.copy_previous_pose(s.result, s.frame, self.require_selection()[0])
        )

    def split_track(self) -> None:
        self.apply_edit(
            lambda s: edits.split_track(s.result, s.frame, self.require_selection()[0])[0]
        )

    def reassign_selected(self, new_id: int) -> None:
        self.apply_edit(
            lambda s: edits.reassign_track(s.result, s.frame, self.require_selection()[0], new_id)
        )
        if self.session is not None and self.session.record.index_of_track(new_id) is not None:
            self.session.select(new_id)

    def merge_into_selected(self, other_id: int) -> None:
        self.apply_edit(
            lambda s: edits.merge_tracks(s.result, self.require_selection()[0], other_id)
        )

    def _history(self, which: str) -> None:
        if self.session is not None:
            edit = getattr(self.session, which)()
            if edit is not None:
                self.statusBar().showMessage(f"{which}: {edit.description}", 3000)

    # -- saving, pipeline, closing -----------------------------------------------------------

    def save(self) -> bool:
        """Save; a failure is shown with where a recovery copy went. Returns whether it saved."""
        return self.session is None or self.files.save(self.session)

    def export_dialog(self) -> None:
        if self.session is None:
            return
        start = str(self.session.json_path or self.settings.value("lastDir", ""))
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export PoseTrack", start, "PoseTrack 2018 (*.json);;PoseTrack 2021 (*.json)"
        )
        if path:
            self.export(path, fmt="2021" if "2021" in chosen else "2018")

    def export(self, path: str | Path, fmt: str = "2018") -> bool:
        """Export a copy; a failure is shown. Returns whether it was written."""
        return self.session is not None and self.files.export(self.session, path, fmt)

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
        answer = self.files.may_end(self.session)
        if answer is None:
            return None
        video = Path(video)
        try:
            media.refuse_photo_folder(video, to_pose=True)  # as one video it loses most persons
            meta = media.probe_video(video)
        except Exception as exc:  # noqa: BLE001 - say it, keep the window
            self._inform("Could not open", f"{video}:\n{exc}")
            return None
        self.runner = runner = run_with_progress(self, run_fn, video)
        runner.cancelled.connect(lambda: self.statusBar().showMessage("Pipeline cancelled", 5000))
        runner.failed.connect(lambda msg: self._inform("Pipeline failed", msg))

        def done(result) -> None:
            json_path = media.default_json_path(video)
            n = len(result.frames)
            notes = (f"the pipeline gave {n} frames, the video announces {meta.frame_count}",)
            try:
                session = AnnotationSession(
                    align_result(result, meta),
                    json_path,
                    notes=notes if n != meta.frame_count else (),
                    thresholds=self._saved_thresholds(),
                )
            except Exception as exc:  # noqa: BLE001
                self._inform("Pipeline result not usable", str(exc))
                return
            self._install(session, video, answer)
            self.files.start_unsaved(session)

        runner.finished.connect(done)
        return runner

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        answer = self.files.may_end(self.session)
        if answer is None:  # cancelled, or the save failed: the edits stay open
            event.ignore()
            return
        self.files.retire(self.session, answer)
        if self.runner is not None and self.runner.running:
            self.runner.cancel()
            self.runner.wait()
        if self.source is not None:
            self.source.close()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.sync()
        event.accept()
