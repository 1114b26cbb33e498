"""The pose overlay drawn over a frame: boxes, track ids, skeletons, joint confidence, and
uncertain joints ringed in red. Left limbs and joints are drawn in a warm tint and right ones
in a cool tint (:mod:`posetool.gui.colors`), the same for every person; the box, id tag and
midline keep the person's colour. The id tag carries the analyst's marks: ✎ edited,
✓ reviewed, ≈ interpolated.

One QGraphicsItem paints the whole frame's persons (11 persons x 17 joints is a few hundred
primitives; one item keeps a redraw to a single paint call). Sizes are in screen pixels
whatever the zoom: the painter's scale is divided out. Shape letters: N persons, K keypoints.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from diffpose.keypoints import SKELETON
from posetool.gui.colors import joint_side, limb_side, side_rgb, track_rgb
from posetool.records import FrameRecord

__all__ = ["PoseOverlay", "joint_radius_px", "person_marks"]

UNCERTAIN_RGB = (255, 40, 40)
HIDDEN_RGB = (200, 200, 200)


def joint_radius_px(score: float) -> float:
    """Screen radius of a joint: 2.5 px at score 0 up to 6 px at score 1."""
    return 2.5 + 3.5 * float(np.clip(score, 0.0, 1.0))


def person_marks(record: FrameRecord, p: int) -> str:
    """The analyst's marks of person ``p`` for its id tag: " ✎" edited, " ✓" reviewed,
    " ≈" interpolated."""
    marks = ((record.human_edited, "✎"), (record.reviewed, "✓"), (record.interpolated, "≈"))
    return "".join(f" {sign}" for column, sign in marks if column[p])


def _color(rgb: tuple[int, int, int], alpha: int = 255) -> QColor:
    return QColor(rgb[0], rgb[1], rgb[2], alpha)


class PoseOverlay(QGraphicsItem):
    """Paints one frame's persons; the view feeds it records and the drag preview."""

    def __init__(self) -> None:
        super().__init__()
        self._record: FrameRecord | None = None
        self._uncertain = np.zeros((0, 17), bool)
        self._selected: tuple[int | None, int | None] = (None, None)
        self._drag: tuple[int, int, float, float] | None = None  # track, joint, x, y
        self._rubber: QRectF | None = None
        self._bounds = QRectF(0, 0, 1, 1)
        self._font = QFont()
        self._font.setPixelSize(13)
        self._font.setBold(True)

    def set_bounds(self, width: int, height: int) -> None:
        self.prepareGeometryChange()
        self._bounds = QRectF(0, 0, width, height)

    def set_frame(
        self,
        record: FrameRecord | None,
        uncertain: np.ndarray | None,
        selected: tuple[int | None, int | None],
    ) -> None:
        self._record = record
        n = record.num_persons if record is not None else 0
        self._uncertain = uncertain if uncertain is not None else np.zeros((n, 17), bool)
        self._selected = selected
        self.update()

    def set_drag(self, drag: tuple[int, int, float, float] | None) -> None:
        self._drag = drag
        self.update()

    def set_rubber_band(self, rect: QRectF | None) -> None:
        self._rubber = rect
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._bounds.adjusted(-200, -200, 200, 200)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        rec = self._record
        scale = max(painter.worldTransform().m11(), 1e-6)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if rec is not None:
            order = list(range(rec.num_persons))
            sel = self._selected[0]
            order.sort(key=lambda p: int(rec.track_ids[p]) == sel)  # selected person on top
            for p in order:
                self._paint_person(painter, rec, p, scale)
        if self._rubber is not None:
            pen = QPen(QColor(255, 255, 255), 1.5, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(self._rubber)

    def _points(self, rec: FrameRecord, p: int) -> np.ndarray:
        pts = np.array(rec.keypoints_xy[p], np.float64)
        if self._drag is not None and self._drag[0] == int(rec.track_ids[p]):
            pts[self._drag[1]] = self._drag[2:]
        return pts

    def _paint_person(self, painter: QPainter, rec: FrameRecord, p: int, scale: float) -> None:
        tid = int(rec.track_ids[p])
        rgb = track_rgb(tid)
        selected = self._selected[0] == tid
        visible = np.array(rec.keypoint_visible[p])
        if self._drag is not None and self._drag[0] == tid:
            visible[self._drag[1]] = True
        pts = self._points(rec, p)
        x1, y1, x2, y2 = (float(v) for v in rec.boxes_xyxy[p])
        pen = QPen(_color(rgb), 3.0 if selected else 1.5)
        pen.setCosmetic(True)
        if rec.human_edited[p]:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(x1, y1, x2 - x1, y2 - y1))
        self._paint_label(painter, QPointF(x1, y1), f"{tid}{person_marks(rec, p)}", rgb, scale)
        for a, b in SKELETON:
            if visible[a] and visible[b]:
                line = QPen(_color(side_rgb(limb_side(a, b), rgb), 230), 3.0 if selected else 2.0)
                line.setCosmetic(True)
                painter.setPen(line)
                painter.drawLine(QPointF(*pts[a]), QPointF(*pts[b]))
        uncertain = self._uncertain[p] if p < len(self._uncertain) else np.zeros(17, bool)
        for k in range(len(pts)):
            if visible[k]:
                self._paint_joint(
                    painter,
                    pts[k],
                    float(rec.keypoint_scores[p, k]),
                    side_rgb(joint_side(k), rgb),
                    bool(uncertain[k]),
                    selected and self._selected[1] == k,
                    scale,
                )
            elif selected:  # hidden joints of the selected person can be dragged into place
                self._paint_hidden(painter, pts[k], scale)

    def _paint_joint(
        self,
        painter: QPainter,
        xy: np.ndarray,
        score: float,
        rgb: tuple[int, int, int],
        uncertain: bool,
        chosen: bool,
        scale: float,
    ) -> None:
        r = joint_radius_px(score) / scale
        centre = QPointF(float(xy[0]), float(xy[1]))
        alpha = int(90 + 165 * float(np.clip(score, 0.0, 1.0)))
        edge = QPen(QColor(0, 0, 0, alpha), 1.0)
        edge.setCosmetic(True)
        painter.setPen(edge)
        painter.setBrush(QBrush(_color(rgb, alpha)))
        painter.drawEllipse(centre, r, r)
        if uncertain:
            ring = QPen(_color(UNCERTAIN_RGB), 2.5)
            ring.setCosmetic(True)
            painter.setPen(ring)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(centre, r + 4.0 / scale, r + 4.0 / scale)
        if chosen:
            sel = QPen(QColor(255, 255, 255), 2.0)
            sel.setCosmetic(True)
            painter.setPen(sel)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(centre, r + 7.0 / scale, r + 7.0 / scale)

    def _paint_hidden(self, painter: QPainter, xy: np.ndarray, scale: float) -> None:
        pen = QPen(_color(HIDDEN_RGB, 200), 1.5, Qt.PenStyle.DotLine)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        r = 4.0 / scale
        painter.drawEllipse(QPointF(float(xy[0]), float(xy[1])), r, r)

    def _paint_label(
        self, painter: QPainter, at: QPointF, text: str, rgb: tuple[int, int, int], scale: float
    ) -> None:
        """Track id in a filled tag above the box's top-left corner, constant screen size."""
        painter.save()
        painter.translate(at)
        painter.scale(1.0 / scale, 1.0 / scale)
        painter.setFont(self._font)
        width = painter.fontMetrics().horizontalAdvance(text) + 8
        tag = QRectF(0, -18, width, 18)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(_color(rgb, 220)))
        painter.drawRect(tag)
        dark = (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) > 140
        painter.setPen(QColor(0, 0, 0) if dark else QColor(255, 255, 255))
        painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()
