"""The window's review and proofreading tools: the review queue and track-event panels, and
the actions that swap left and right, interpolate between keyframes, mark a person reviewed,
step through the queue and the track events, and swap two tracks' ids from a frame on.

Every change is an undoable, journaled edit applied through the window
(:meth:`~posetool.gui.main_window.MainWindow.apply_edit`); the logic is Qt-free
(:mod:`~posetool.gui.edits`, :mod:`~posetool.gui.interpolation`,
:mod:`~posetool.gui.review_queue`, :mod:`~posetool.gui.track_events`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QTabWidget

from posetool.gui import edits, interpolation
from posetool.gui.review_panel import ReviewPanel
from posetool.gui.shortcuts import add_window_actions
from posetool.gui.tracks_panel import TracksPanel

if TYPE_CHECKING:
    from posetool.gui.main_window import MainWindow

__all__ = ["ReviewTools"]


class ReviewTools:
    """Builds the panels and actions on ``window`` (added to ``window.actions_by_name``)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.review = ReviewPanel()
        self.tracks = TracksPanel()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.review, "Review queue")
        self.tabs.addTab(self.tracks, "Tracks")
        dock = QDockWidget("Review", window)
        dock.setWidget(self.tabs)
        dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        table = [
            ("swap_lr_pair", "Swap left/right limb (joint outwards)", "X", self.swap_pair),
            ("swap_lr_person", "Swap left/right (whole person)", "Shift+X", self.swap_person),
            ("interpolate", "Interpolate between keyframes", "I", self.interpolate),
            ("mark_reviewed", "Mark reviewed and go to next", "R", self.mark_reviewed),
            ("review_next", "Next review item", "]", lambda: self.step_review(1)),
            ("review_prev", "Previous review item", "[", lambda: self.step_review(-1)),
            ("event_next", "Next track event", "T", lambda: self.step_event(1)),
            ("event_prev", "Previous track event", "Shift+T", lambda: self.step_event(-1)),
            ("legend", "Show legend", "L", self.toggle_legend),
        ]
        menu = window.menuBar().addMenu("Re&view")
        for action in add_window_actions(window, table):
            menu.addAction(action)
        legend = window.actions_by_name["legend"]
        legend.setCheckable(True)
        legend.setChecked(True)
        self.review.itemActivated.connect(self._go_to)
        self.tracks.eventActivated.connect(lambda f, t: self._go_to(f, t, None))
        self.tracks.swapRequested.connect(self.swap_tracks)

    # -- following the session ---------------------------------------------------------------

    def on_session(self, what: str) -> None:
        """Follow the window's session (``what`` as in ``AnnotationSession.subscribe``)."""
        s = self.window.session
        if s is None:
            return
        if what in ("data", "saved"):
            if self.review.queue.thresholds != s.thresholds:
                self.review.queue.set_thresholds(s.thresholds)
            self.review.set_result(s.result, self.window.timeline.lanes.spans.ids)
            self.tracks.set_result(s.result)
        self.review.follow(s.frame, s.selection.track_id)

    def _go_to(self, frame: int, track: int, joint: int | None) -> None:
        s = self.window.session
        if s is not None:
            s.set_frame(frame)
            s.select(track, joint)

    def _status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 4000)

    # -- actions -----------------------------------------------------------------------------

    def swap_pair(self) -> None:
        w = self.window
        w.apply_edit(lambda s: edits.swap_left_right(s.result, s.frame, *w.require_selection(True)))

    def swap_person(self) -> None:
        w = self.window
        w.apply_edit(lambda s: edits.swap_left_right(s.result, s.frame, w.require_selection()[0]))

    def interpolate(self) -> None:
        w = self.window
        w.apply_edit(
            lambda s: interpolation.interpolate_around(s.result, w.require_selection()[0], s.frame)
        )

    def swap_tracks(self, other: int) -> None:
        w = self.window
        w.apply_edit(
            lambda s: edits.swap_tracks_from(s.result, s.frame, w.require_selection()[0], other)
        )
        s = w.session
        if s is not None and s.record.index_of_track(other) is not None:
            s.select(other)

    def mark_reviewed(self) -> None:
        """Mark the selected person of this frame reviewed (again: not reviewed); after
        marking, go to the next item of the queue that is not reviewed."""
        w = self.window
        s = w.session
        if s is None:
            return
        marked: list[bool] = []

        def make(s):
            tid = w.require_selection()[0]
            now = not bool(s.record.reviewed[s.record.index_of_track(tid)])
            marked.append(now)
            return edits.set_reviewed(s.result, s.frame, tid, now)

        w.apply_edit(make)
        if marked and marked[0] and not self.review.step(1):
            self._status(f"Reviewed; {self.review.queue.left} item(s) left in the queue")

    def step_review(self, direction: int) -> None:
        if self.window.session is not None and not self.review.step(direction):
            self._status("No more items to review that way")

    def step_event(self, direction: int) -> None:
        s = self.window.session
        if s is not None and not self.tracks.step(s.frame, direction):
            self._status("No more track events that way")

    def toggle_legend(self) -> None:
        view = self.window.view
        view.show_legend = self.window.actions_by_name["legend"].isChecked()
        view.viewport().update()
