"""The frame view: the decoded image with the pose overlay; zoom (wheel), pan (drag on empty
space or middle button), click to select, drag a joint to move it, draw a box to add one.
Hovering a joint names it in a tooltip; a legend of the overlay's colours sits in the
bottom-left corner (``show_legend``).

The view only forwards input as signals; the main window turns them into session edits.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QMouseEvent,
    QPainter,
    QPen,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QToolTip,
    QWidget,
)

from diffpose.keypoints import KEYPOINT_NAMES
from posetool.gui.colors import LEFT_RGB, RIGHT_RGB
from posetool.gui.overlay import UNCERTAIN_RGB, PoseOverlay
from posetool.records import FrameRecord

__all__ = ["LEGEND_ROWS", "FrameView"]

#: The legend: (colour, kind, text); kind "line" or "ring".
LEGEND_ROWS: tuple[tuple[tuple[int, int, int], str, str], ...] = (
    (LEFT_RGB, "line", "left limbs"),
    (RIGHT_RGB, "line", "right limbs"),
    ((235, 235, 235), "line", "box, id, midline: person colour"),
    (UNCERTAIN_RGB, "ring", "uncertain joint"),
    ((235, 235, 235), "text", "✎ edited  ✓ reviewed  ≈ interpolated"),
)

PICK_RADIUS_PX = 12.0


class FrameView(QGraphicsView):
    """QGraphicsView showing one frame and its poses."""

    keypointMoved = Signal(int, int, float, float)  # noqa: N815 - track, joint, x, y (image px)
    jointClicked = Signal(int, int)  # noqa: N815 - track, joint
    personClicked = Signal(int)  # noqa: N815 - track id, -1 for empty space
    boxDrawn = Signal(float, float, float, float)  # noqa: N815 - x1, y1, x2, y2

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QColor(30, 30, 30))
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform
        )
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self._pixmap = QGraphicsPixmapItem()
        self._pixmap.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._pixmap)
        self.overlay = PoseOverlay()
        self.overlay.setZValue(1)
        self.scene().addItem(self.overlay)
        self._size = (1, 1)
        self._record: FrameRecord | None = None
        self._selected: tuple[int | None, int | None] = (None, None)
        self._drag: tuple[int, int] | None = None
        self._pan_from: QPointF | None = None
        self._box_from: QPointF | None = None
        self._user_zoomed = False
        self.add_box_mode = False
        self.show_legend = True
        self.setMouseTracking(True)  # hover names the joint under the pointer

    # -- content -----------------------------------------------------------------------------

    def set_frame_size(self, width: int, height: int) -> None:
        self._size = (width, height)
        self.scene().setSceneRect(QRectF(0, 0, width, height))
        self.overlay.set_bounds(width, height)
        self._user_zoomed = False
        self.fit()

    def set_image(self, image: QImage | None) -> None:
        """Show ``image`` (None: a grey placeholder, e.g. a frame the video lacks)."""
        if image is None:
            pix = QPixmap(*self._size)
            pix.fill(QColor(60, 60, 60))
        else:
            pix = QPixmap.fromImage(image)
        self._pixmap.setPixmap(pix)

    def set_poses(
        self,
        record: FrameRecord | None,
        uncertain: np.ndarray | None,
        selected: tuple[int | None, int | None],
    ) -> None:
        self._record = record
        self._selected = selected
        self.overlay.set_frame(record, uncertain, selected)

    def fit(self) -> None:
        """Show the whole frame."""
        self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if not self._user_zoomed:
            self.fit()

    # -- zoom and pan ------------------------------------------------------------------------

    def zoom(self, factor: float) -> None:
        scale = self.transform().m11() * factor
        if 0.02 < scale < 40:
            self.scale(factor, factor)
            self._user_zoomed = True

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        self.zoom(1.2 ** (event.angleDelta().y() / 120.0))

    # -- hover and legend --------------------------------------------------------------------

    def joint_tooltip(self, scene_pos: QPointF) -> str:
        """What the tooltip says at ``scene_pos``: the track and name of the joint there,
        with its score and spread ("" when no joint is there)."""
        hit = self.pick_joint(scene_pos)
        if hit is None:
            return ""
        tid, k = hit
        p = self._record.index_of_track(tid)
        spread = float(self._record.keypoint_spread_px[p, k])
        spread_text = "" if spread != spread else f", spread {spread:.1f} px"
        state = "" if self._record.keypoint_visible[p, k] else " (hidden)"
        return (
            f"track {tid}: {KEYPOINT_NAMES[k]}{state}\n"
            f"score {self._record.keypoint_scores[p, k]:.2f}{spread_text}"
        )

    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """A tooltip names the joint under the pointer (the scene's own would hide it)."""
        if event.type() == QEvent.Type.ToolTip:
            tip = self.joint_tooltip(self.mapToScene(event.pos()))
            if tip:
                QToolTip.showText(event.globalPos(), tip, self.viewport())
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 - Qt override
        if not self.show_legend:
            return
        painter.save()
        painter.resetTransform()  # viewport pixels
        font = QFont()
        font.setPixelSize(12)
        painter.setFont(font)
        line = 17
        metrics = painter.fontMetrics()
        width = (
            max(
                metrics.horizontalAdvance(text) + (6 if kind == "text" else 28)
                for _, kind, text in LEGEND_ROWS
            )
            + 16
        )
        top = self.viewport().height() - line * len(LEGEND_ROWS) - 14
        painter.fillRect(QRectF(8, top, width, line * len(LEGEND_ROWS) + 8), QColor(0, 0, 0, 170))
        for i, (rgb, kind, text) in enumerate(LEGEND_ROWS):
            y = top + 4 + i * line + line / 2
            pen = QPen(QColor(*rgb), 3.0 if kind == "line" else 2.0)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            if kind == "line":
                painter.drawLine(QPointF(14, y), QPointF(30, y))
            elif kind == "ring":
                painter.drawEllipse(QPointF(22, y), 5, 5)
            painter.setPen(QColor(235, 235, 235))
            x = 14 if kind == "text" else 36
            painter.drawText(
                QRectF(x, y - line / 2, width, line),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                text,
            )
        painter.restore()

    # -- picking -----------------------------------------------------------------------------

    def pick_joint(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """(track id, joint) under ``scene_pos``; the selected person's joints win."""
        rec = self._record
        if rec is None or rec.num_persons == 0:
            return None
        radius = PICK_RADIUS_PX / max(self.transform().m11(), 1e-6)
        best, best_d = None, radius
        here = np.array([scene_pos.x(), scene_pos.y()])
        for p in range(rec.num_persons):
            tid = int(rec.track_ids[p])
            selected = tid == self._selected[0]
            pickable = np.ones(17, bool) if selected else rec.keypoint_visible[p]
            d = np.linalg.norm(rec.keypoints_xy[p] - here, axis=1)
            d = np.where(pickable, d, np.inf) * (0.5 if selected else 1.0)
            k = int(np.argmin(d))
            if d[k] <= best_d:
                best, best_d = (tid, k), d[k]
        return best

    def pick_person(self, scene_pos: QPointF) -> int | None:
        """Track id of the smallest box containing ``scene_pos``."""
        rec = self._record
        if rec is None:
            return None
        x, y = scene_pos.x(), scene_pos.y()
        b = rec.boxes_xyxy
        inside = (b[:, 0] <= x) & (x <= b[:, 2]) & (b[:, 1] <= y) & (y <= b[:, 3])
        if not inside.any():
            return None
        area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        return int(rec.track_ids[np.flatnonzero(inside)[np.argmin(area[inside])]])

    # -- mouse -------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        pos = self.mapToScene(event.position().toPoint())
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = event.position()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        if self.add_box_mode:
            self._box_from = pos
            return
        hit = self.pick_joint(pos)
        if hit is not None:
            self._drag = hit
            self.jointClicked.emit(*hit)
            return
        person = self.pick_person(pos)
        self.personClicked.emit(-1 if person is None else person)
        if person is None:
            self._pan_from = event.position()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        pos = self.mapToScene(event.position().toPoint())
        if self._drag is not None:
            self.overlay.set_drag((*self._drag, pos.x(), pos.y()))
        elif self._box_from is not None:
            self.overlay.set_rubber_band(QRectF(self._box_from, pos).normalized())
        elif self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            h, v = self.horizontalScrollBar(), self.verticalScrollBar()
            h.setValue(h.value() - int(delta.x()))
            v.setValue(v.value() - int(delta.y()))
        else:
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        pos = self.mapToScene(event.position().toPoint())
        if self._drag is not None:
            track, joint = self._drag
            self._drag = None
            self.overlay.set_drag(None)
            start = self._record.keypoints_xy[self._record.index_of_track(track), joint]
            moved = np.hypot(pos.x() - start[0], pos.y() - start[1]) * self.transform().m11()
            if moved >= 2.0:  # a click is a selection, not a move
                x = float(np.clip(pos.x(), 0, self._size[0] - 1))
                y = float(np.clip(pos.y(), 0, self._size[1] - 1))
                self.keypointMoved.emit(track, joint, x, y)
        elif self._box_from is not None:
            rect = QRectF(self._box_from, pos).normalized()
            self._box_from = None
            self.overlay.set_rubber_band(None)
            if rect.width() > 4 and rect.height() > 4:
                self.boxDrawn.emit(rect.left(), rect.top(), rect.right(), rect.bottom())
        self._pan_from = None
        super().mouseReleaseEvent(event)
