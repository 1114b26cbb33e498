"""The review panel: the person-frames the model was least sure of, worst first, with the count
left to review and filters by track and joint (the ranking is :mod:`posetool.gui.review_queue`).
The list is a view on a table model over the queue: only the rows on screen are drawn, so a
video with 100k uncertain person-frames lists them all and an edit redraws one screenful.

Click a row (or step with the window's next/previous review shortcuts) to go to that frame with
the person and its worst joint selected.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from diffpose.keypoints import KEYPOINT_NAMES
from posetool.gui.review_queue import QueueFilter, ReviewItem, ReviewQueue
from posetool.gui.uncertainty import UncertaintyThresholds
from posetool.records import VideoResult

__all__ = ["ReviewModel", "ReviewPanel"]

#: The list's columns; a row is :func:`_row_cells` of an item.
COLUMNS = ("frame", "track", "worst joint", "spread px", "score")


def _row_cells(item: ReviewItem) -> list[str]:
    spread = "" if item.spread_px != item.spread_px else f"{item.spread_px:.1f}"
    return [
        f"{'✓ ' if item.reviewed else ''}{item.frame}",
        str(item.track_id),
        KEYPOINT_NAMES[item.joint],
        spread,
        f"{item.score:.2f}",
    ]


class ReviewModel(QAbstractTableModel):
    """The queue's items as table rows (reviewed ones greyed)."""

    def __init__(self, queue: ReviewQueue) -> None:
        super().__init__()
        self.queue = queue

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802, B008 - Qt override
        return 0 if parent.isValid() else len(self.queue.items)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802, B008 - Qt override
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0):
        item = self.queue.items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _row_cells(item)[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and item.reviewed:
            return QColor(Qt.GlobalColor.gray)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() != 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def refresh(self) -> None:
        """The queue changed: every row may have."""
        self.beginResetModel()
        self.endResetModel()


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
        self.model = ReviewModel(self.queue)
        self.list = QTableView()
        self.list.setModel(self.model)
        self.list.verticalHeader().hide()
        self.list.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 4)
        self.list.setShowGrid(False)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        widths = (56, 44, 104, 70, 50)  # ResizeToContents would measure every row
        for column, width in enumerate(widths):
            self.list.setColumnWidth(column, width)
        self.list.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.list.setMinimumWidth(sum(widths) + 24)  # + the scroll bar
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
        self.list.clicked.connect(lambda index: self.activate(index.row()))

    # -- data --------------------------------------------------------------------------------

    def set_result(self, result: VideoResult, track_ids: list[int]) -> None:
        """Rank ``result`` again (only the frames an edit changed are measured); its
        ``track_ids`` (sorted) fill the track filter."""
        self._result = result
        ids = list(track_ids)
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
        self.queue.set_filter(
            QueueFilter(self.track_filter.currentData(), self.joint_filter.currentData())
        )
        if self._result is not None:
            self._refill()

    @property
    def current_row(self) -> int:
        """The chosen row, -1 for none."""
        index = self.list.currentIndex()
        return index.row() if index.isValid() else -1

    def row_text(self, row: int) -> str:
        """The text of ``row`` as shown, cells joined by spaces."""
        return " ".join(_row_cells(self.queue.items[row])).strip()

    def _select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.list.setCurrentIndex(index)
        self.list.scrollTo(index)

    def _refill(self) -> None:
        row = self.current_row
        current = self.queue.items[row] if 0 <= row < len(self.queue.items) else None
        items = self.queue.update(self._result)
        self.model.refresh()
        if current is not None:
            at = self.queue.index_of(current.frame, current.track_id)
            if at is not None:
                self._select_row(at)
        self.count.setText(
            f"{self.queue.left} of {len(items)} uncertain person-frames left to review"
        )

    # -- navigation --------------------------------------------------------------------------

    def follow(self, frame: int, track_id: int | None) -> None:
        """Highlight the item of the person shown (kept where it is not in the queue)."""
        at = self.queue.index_of(frame, track_id) if track_id is not None else None
        if at is not None and at != self.current_row:
            self._select_row(at)

    def activate(self, row: int) -> None:
        """Choose the item at ``row``."""
        if 0 <= row < len(self.queue.items):
            self._select_row(row)
            item = self.queue.items[row]
            self.itemActivated.emit(item.frame, item.track_id, item.joint)

    def step(self, direction: int) -> bool:
        """Go to the next (``direction`` > 0) or previous item not yet reviewed; False if none."""
        row = self.current_row
        start = row if row >= 0 else (-1 if direction > 0 else len(self.queue.items))
        found = self.queue.next_unreviewed(start, direction)
        if found is None:
            return False
        self.activate(found)
        return True
