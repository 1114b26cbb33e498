"""A translucent overlay listing the keyboard shortcuts (F1 or ?; any key or click hides it)."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

__all__ = ["HelpOverlay"]


class HelpOverlay(QWidget):
    """Covers its parent; paints the (key, description) rows it is given."""

    def __init__(self, rows: list[tuple[str, str]], parent: QWidget) -> None:
        super().__init__(parent)
        self.rows = rows
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.hide()

    def toggle(self) -> None:
        if self.isVisible():
            self.hide()
            return
        self.setGeometry(self.parentWidget().rect())
        self.show()
        self.raise_()
        self.setFocus()

    def columns(self) -> int:
        """Side-by-side columns of rows: two when one would not fit the height."""
        return 1 if 22 * (len(self.rows) + 2) <= self.height() else 2

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0, 190))
        font = QFont()
        font.setPixelSize(15)
        painter.setFont(font)
        line, column = 22, 520
        columns = self.columns()
        per_column = -(-len(self.rows) // columns)
        width, height = column * columns, line * (per_column + 2)
        box = QRect(
            (self.width() - width) // 2, max((self.height() - height) // 2, 0), width, height
        )
        painter.fillRect(box, QColor(35, 35, 40, 235))
        painter.setPen(QColor(255, 255, 255))
        title = QRect(box.left(), box.top() + 4, width, line)
        painter.drawText(title, Qt.AlignmentFlag.AlignCenter, "Keyboard shortcuts")
        for i, (keys, text) in enumerate(self.rows):
            x = box.left() + column * (i // per_column)
            y = box.top() + line * (i % per_column + 1) + 10
            painter.setPen(QColor(255, 210, 90))
            painter.drawText(QRect(x + 20, y, 170, line), Qt.AlignmentFlag.AlignLeft, keys)
            painter.setPen(QColor(235, 235, 235))
            painter.drawText(
                QRect(x + 200, y, column - 210, line), Qt.AlignmentFlag.AlignLeft, text
            )
        painter.end()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        self.hide()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self.hide()
