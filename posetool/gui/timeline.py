"""Timeline: slider, play/pause at the video's frame rate, step, jump to a frame, next
uncertain; and track lanes showing where each track exists (custom paint, from per-track
frame runs that an edit updates where it changed, see :mod:`posetool.gui.track_spans`)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from posetool.gui.colors import track_rgb
from posetool.gui.track_spans import TrackSpans
from posetool.io.inputs import IMAGE_FOLDER_FPS
from posetool.records import VideoResult

__all__ = ["Timeline", "TrackLanes"]


class TrackLanes(QWidget):
    """One lane per track; a bar where the track exists, darker where an analyst edited it.

    Click a lane to go to that frame and select the track.
    """

    clicked = Signal(int, int)  # frame, track id

    LANE_PX = 9

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spans = TrackSpans()
        self._ids: list[int] = []
        self._frame = 0
        self._selected: int | None = None
        self.setMinimumHeight(24)

    def set_data(self, result: VideoResult) -> None:
        """Follow ``result`` (only the frames an edit replaced are looked at)."""
        self.spans.update(result)
        self._ids = self.spans.ids
        self.setMinimumHeight(max(24, min(len(self._ids), 16) * self.LANE_PX + 4))
        self.update()

    def set_frame(self, frame: int, selected: int | None) -> None:
        self._frame, self._selected = frame, selected
        self.update()

    def _lane_height(self) -> float:
        return max(2.0, (self.height() - 4) / max(len(self._ids), 1))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(40, 40, 40))
        n_frames = max(self.spans.frame_count, 1)
        fw = self.width() / n_frames
        lh = self._lane_height()
        for row, tid in enumerate(self._ids):
            y = 2 + row * lh
            r, g, b = track_rgb(tid)
            base = QColor(r, g, b, 255 if tid == self._selected else 170)
            for start, stop in self.spans.present[tid].pairs():
                painter.fillRect(QRectF(start * fw, y, (stop - start) * fw, lh - 1), base)
            for start, stop in self.spans.edited[tid].pairs():
                painter.fillRect(
                    QRectF(start * fw, y + lh / 2, (stop - start) * fw, lh / 2 - 1),
                    base.darker(170),
                )
        painter.setPen(QColor(255, 255, 255))
        x = (self._frame + 0.5) * fw
        painter.drawLine(int(x), 0, int(x), self.height())
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        n_frames = max(self.spans.frame_count, 1)
        frame = int(event.position().x() / max(self.width(), 1) * n_frames)
        row = int((event.position().y() - 2) // self._lane_height())
        tid = self._ids[row] if 0 <= row < len(self._ids) else -1
        self.clicked.emit(min(max(frame, 0), n_frames - 1), tid)


class Timeline(QWidget):
    """Transport controls. Emits ``frameRequested`` for every navigation."""

    frameRequested = Signal(int)  # noqa: N815
    nextUncertain = Signal(int)  # noqa: N815 - direction
    playingChanged = Signal(bool)  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lanes = TrackLanes(self)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.play_button = QPushButton("▶")
        self.play_button.setToolTip("Play/pause (Space)")
        self.spin = QSpinBox()
        self.spin.setToolTip("Jump to frame (Ctrl+G)")
        self.label = QLabel()
        buttons = {
            "|◀": lambda: self.frameRequested.emit(0),
            "◀": lambda: self.frameRequested.emit(self.slider.value() - 1),
            "▶|": lambda: self.frameRequested.emit(self.slider.value() + 1),
            "⚠ next": lambda: self.nextUncertain.emit(1),
        }
        row = QHBoxLayout()
        row.addWidget(self.play_button)
        for text, slot in buttons.items():
            button = QPushButton(text)
            button.clicked.connect(slot)
            row.addWidget(button)
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        row.addWidget(self.label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.lanes)
        layout.addLayout(row)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._fps = IMAGE_FOLDER_FPS  # until set_video
        self.play_button.clicked.connect(self.toggle_play)
        self.slider.valueChanged.connect(self.frameRequested)
        self.spin.editingFinished.connect(lambda: self.frameRequested.emit(self.spin.value()))

    def set_video(self, frame_count: int, fps: float) -> None:
        self._fps = fps
        for widget in (self.slider, self.spin):
            widget.blockSignals(True)
            widget.setRange(0, max(frame_count - 1, 0))
            widget.blockSignals(False)

    def set_frame(self, frame: int, count: int, timestamp_s: float) -> None:
        for widget in (self.slider, self.spin):
            widget.blockSignals(True)
            widget.setValue(frame)
            widget.blockSignals(False)
        self.label.setText(f"{frame + 1}/{count}  {timestamp_s:7.2f} s")

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def toggle_play(self) -> None:
        if self.playing:
            self._timer.stop()
        else:
            self._timer.start(max(int(round(1000.0 / self._fps)), 1))
        self.play_button.setText("⏸" if self.playing else "▶")
        self.playingChanged.emit(self.playing)

    def _tick(self) -> None:
        if self.slider.value() >= self.slider.maximum():
            self.toggle_play()
            return
        self.frameRequested.emit(self.slider.value() + 1)
