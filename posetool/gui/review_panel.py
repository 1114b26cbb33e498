"""The review panel: the person-frames the model was least sure of, worst first, with the count
left to review and filters by track and joint (the ranking is :mod:`posetool.gui.review_queue`).

Click a row (or step with the window's next/previous review shortcuts) to go to that frame with
the person and its worst joint selected.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from diffpose.keypoints import KEYPOINT_NAMES
from posetool.gui.review_queue import QueueFilter, ReviewItem, ReviewQueue
from posetool.gui.uncertainty import UncertaintyThresholds
from posetool.records import VideoResult

__all__ = ["MAX_ROWS", "ReviewPanel"]

#: Rows listed at most (the count covers them all); a long video can rank 100k person-frames.
MAX_ROWS = 2000


def _row_text(item: ReviewItem) -> str:
    mark = "✓" if item.reviewed else "•"
    spread = "" if item.spread_px != item.spread_px else f"  spread {item.spread_px:.1f} px"
    return (f"{mark} frame {item.frame}  track {item.track_id}  {KEYPOINT_NAMES[item.joint]}"
            f"{spread}  score {item.score:.2f}")  # fmt: skip


class ReviewPanel(QWidget):
    """The ranked queue as a list; emits ``itemActivated`` when one is chosen."""

    itemActivated = Signal(int, int, int)  # noqa: N815 - frame, track id, joint

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.queue = ReviewQueue()
        self.count = QLabel("No poses")
        self.track_filter = QComboBox()
        self.joint_filter = QComboBox()
        self.joint_filter.addItem("all joints", None)
        for k, name in enumerate(KEYPOINT_NAMES):
            self.joint_filter.addItem(name, k)
        self.list = QListWidget()
        self.list.setMinimumWidth(300)
        form = QFormLayout()
        form.addRow("Track", self.track_filter)
        form.addRow("Joint", self.joint_filter)
        layout = QVBoxLayout(self)
        layout.addWidget(self.count)
        layout.addLayout(form)
        layout.addWidget(self.list, 1)
        self._result: VideoResult | None = None
        self._track_ids: list[int] = []
        self._set_tracks([])
        self.track_filter.currentIndexChanged.connect(self._on_filter)
        self.joint_filter.currentIndexChanged.connect(self._on_filter)
        self.list.itemClicked.connect(lambda it: self.activate(self.list.row(it)))

    # -- data --------------------------------------------------------------------------------

    def set_result(self, result: VideoResult) -> None:
        """Rank ``result`` again (only the frames an edit changed are measured)."""
        self._result = result
        ids = [int(t) for t in result.track_ids()]
        if ids != self._track_ids:
            self._set_tracks(ids)
        self._refill()

    def set_thresholds(self, thresholds: UncertaintyThresholds) -> None:
        self.queue.set_thresholds(thresholds)
        if self._result is not None:
            self._refill()

    def _set_tracks(self, ids: list[int]) -> None:
        current = self.track_filter.currentData()
        self.track_filter.blockSignals(True)
        self.track_filter.clear()
        self.track_filter.addItem("all tracks", None)
        for tid in ids:
            self.track_filter.addItem(f"track {tid}", tid)
        at = self.track_filter.findData(current) if current is not None else 0
        self.track_filter.setCurrentIndex(max(at, 0))
        self.track_filter.blockSignals(False)
        self._track_ids = ids
        if current is not None and at < 0:
            self._on_filter()

    def _on_filter(self) -> None:
        self.queue.set_filter(QueueFilter(self.track_filter.currentData(),
                                          self.joint_filter.currentData()))  # fmt: skip
        if self._result is not None:
            self._refill()

    def _refill(self) -> None:
        row = self.list.currentRow()
        current = self.queue.items[row] if 0 <= row < len(self.queue.items) else None
        items = self.queue.update(self._result)
        self.list.blockSignals(True)
        self.list.clear()
        for item in items[:MAX_ROWS]:
            row_item = QListWidgetItem(_row_text(item))
            if item.reviewed:
                row_item.setForeground(Qt.GlobalColor.gray)
            self.list.addItem(row_item)
        if current is not None:
            at = self.queue.index_of(current.frame, current.track_id)
            if at is not None and at < MAX_ROWS:
                self.list.setCurrentRow(at)
        self.list.blockSignals(False)
        shown = "" if len(items) <= MAX_ROWS else f" (first {MAX_ROWS} listed)"
        self.count.setText(f"{self.queue.left} of {len(items)} uncertain person-frames left "
                           f"to review{shown}")  # fmt: skip

    # -- navigation --------------------------------------------------------------------------

    def activate(self, row: int) -> None:
        """Choose the item at ``row``."""
        if 0 <= row < min(len(self.queue.items), MAX_ROWS):
            self.list.setCurrentRow(row)
            item = self.queue.items[row]
            self.itemActivated.emit(item.frame, item.track_id, item.joint)

    def step(self, direction: int) -> bool:
        """Go to the next (``direction`` > 0) or previous item not yet reviewed; False if none."""
        row = self.list.currentRow()
        start = row if row >= 0 else (-1 if direction > 0 else len(self.queue.items))
        found = self.queue.next_unreviewed(start, direction)
        if found is None or found >= MAX_ROWS:
            return False
        self.activate(found)
        return True
