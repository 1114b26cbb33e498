"""The tracks panel: where tracks start, end and jump (candidate identity switches, see
:mod:`posetool.gui.track_events`), to step through; and swapping two tracks' ids from the
current frame on.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from posetool.gui.track_events import DEFAULT_JUMP_RATIO, TrackEvent, TrackEvents
from posetool.records import VideoResult

__all__ = ["TracksPanel"]


class TracksPanel(QWidget):
    """Lists track events; emits ``eventActivated`` and ``swapRequested``."""

    eventActivated = Signal(int, int)  # noqa: N815 - frame, track id
    swapRequested = Signal(int)  # noqa: N815 - track to swap with the selected one, from here

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.events: list[TrackEvent] = []
        self._finder = TrackEvents()
        self.jump_ratio = QDoubleSpinBox()
        self.jump_ratio.setRange(0.05, 10.0)
        self.jump_ratio.setSingleStep(0.1)
        self.jump_ratio.setValue(DEFAULT_JUMP_RATIO)
        self.jump_ratio.setSuffix(" box sizes")
        self.summary = QLabel("No poses")
        self.list = QListWidget()
        self.other_id = QSpinBox()
        self.other_id.setRange(0, 1_000_000)
        swap = QPushButton("Swap selected track with this id from here on")
        swap.clicked.connect(lambda: self.swapRequested.emit(self.other_id.value()))
        form = QFormLayout()
        form.addRow("Jump above", self.jump_ratio)
        form.addRow("Other track", self.other_id)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(form)
        layout.addWidget(swap)
        layout.addWidget(self.list, 1)
        self._result: VideoResult | None = None
        self.jump_ratio.valueChanged.connect(self._on_ratio)
        self.list.itemClicked.connect(lambda it: self.activate(self.list.row(it)))

    def set_result(self, result: VideoResult) -> None:
        """Follow ``result``; the events are found when the panel is shown (and then only
        where an edit changed the frames)."""
        self._result = result
        if self.isVisible():
            self._refill()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._refill()

    def _on_ratio(self, ratio: float) -> None:
        self._finder = TrackEvents(ratio)
        self._refill()

    def _refill(self) -> None:
        if self._result is None:
            return
        events = self._finder.update(self._result)
        if events is self.events:
            return
        self.events = events
        row = self.list.currentRow()
        self.list.clear()
        self.list.addItems([e.describe() for e in self.events])
        if 0 <= row < len(self.events):
            self.list.setCurrentRow(row)
        jumps = sum(e.kind == "jump" for e in self.events)
        self.summary.setText(f"{len(self.events)} events, {jumps} jump(s)")

    def activate(self, row: int) -> None:
        if 0 <= row < len(self.events):
            self.list.setCurrentRow(row)
            event = self.events[row]
            self.eventActivated.emit(event.frame, event.track_id)

    def step(self, frame: int, direction: int) -> bool:
        """Go to the first event after ``frame`` (``direction`` > 0) or the last before it;
        events at ``frame`` are stepped through in list order. False if there is none."""
        self._refill()  # the keys work with the panel hidden too
        row = self.list.currentRow()
        on_frame = 0 <= row < len(self.events) and self.events[row].frame == frame
        if direction > 0:
            rows = [
                i
                for i, e in enumerate(self.events)
                if e.frame > frame or (on_frame and e.frame == frame and i > row)
            ]
            target = rows[0] if rows else None
        else:
            rows = [
                i
                for i, e in enumerate(self.events)
                if e.frame < frame or (on_frame and e.frame == frame and i < row)
            ]
            target = rows[-1] if rows else None
        if target is None:
            return False
        self.activate(target)
        return True
