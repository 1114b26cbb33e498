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
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
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


#: The list's columns; a row is :func:`_row_cells` of an item.
COLUMNS = ("frame", "track", "worst joint", "spread px", "score")


def _row_cells(item: ReviewItem) -> list[str]:
    spread = "" if item.spread_px != item.spread_px else f"{item.spread_px:.1f}"
    return [f"{'✓ ' if item.reviewed else ''}{item.frame}", str(item.track_id),
            KEYPOINT_NAMES[item.joint], spread, f"{item.score:.2f}"]  # fmt: skip


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
        self.list = QTreeWidget()
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setHeaderLabels(list(COLUMNS))
        self.list.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.list.setMinimumWidth(400)
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
        self.list.itemClicked.connect(
            lambda it, _col: self.activate(self.list.indexOfTopLevelItem(it))
        )

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

    @property
    def current_row(self) -> int:
        """The chosen row, -1 for none."""
        item = self.list.currentItem()
        return self.list.indexOfTopLevelItem(item) if item is not None else -1

    def row_text(self, row: int) -> str:
        """The text of ``row`` as shown, cells joined by spaces."""
        item = self.list.topLevelItem(row)
        return " ".join(item.text(c) for c in range(len(COLUMNS))).strip()

    def _select_row(self, row: int) -> None:
        item = self.list.topLevelItem(row)
        self.list.setCurrentItem(item)
        self.list.scrollToItem(item)

    def _refill(self) -> None:
        row = self.current_row
        current = self.queue.items[row] if 0 <= row < len(self.queue.items) else None
        items = self.queue.update(self._result)
        self.list.blockSignals(True)
        self.list.clear()
        rows = []
        for item in items[:MAX_ROWS]:
            row_item = QTreeWidgetItem(_row_cells(item))
            for c in (0, 1, 3, 4):
                row_item.setTextAlignment(c, Qt.AlignmentFlag.AlignRight)
            if item.reviewed:
                for c in range(len(COLUMNS)):
                    row_item.setForeground(c, Qt.GlobalColor.gray)
            rows.append(row_item)
        self.list.addTopLevelItems(rows)
        if current is not None:
            at = self.queue.index_of(current.frame, current.track_id)
            if at is not None and at < MAX_ROWS:
                self._select_row(at)
        self.list.blockSignals(False)
        shown = "" if len(items) <= MAX_ROWS else f" (first {MAX_ROWS} listed)"
        self.count.setText(f"{self.queue.left} of {len(items)} uncertain person-frames left "
                           f"to review{shown}")  # fmt: skip

    # -- navigation --------------------------------------------------------------------------

    def follow(self, frame: int, track_id: int | None) -> None:
        """Highlight the item of the person shown (kept where it is not in the queue)."""
        at = self.queue.index_of(frame, track_id) if track_id is not None else None
        if at is not None and at < MAX_ROWS and at != self.current_row:
            self.list.blockSignals(True)
            self._select_row(at)
            self.list.blockSignals(False)

    def activate(self, row: int) -> None:
        """Choose the item at ``row``."""
        if 0 <= row < min(len(self.queue.items), MAX_ROWS):
            self._select_row(row)
            item = self.queue.items[row]
            self.itemActivated.emit(item.frame, item.track_id, item.joint)

    def step(self, direction: int) -> bool:
        """Go to the next (``direction`` > 0) or previous item not yet reviewed; False if none."""
        row = self.current_row
        start = row if row >= 0 else (-1 if direction > 0 else len(self.queue.items))
        found = self.queue.next_unreviewed(start, direction)
        if found is None or found >= MAX_ROWS:
            return False
        self.activate(found)
        return True
