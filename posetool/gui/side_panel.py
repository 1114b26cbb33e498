"""Side panel: what is selected, the edit actions, and the uncertainty thresholds."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from diffpose.keypoints import KEYPOINT_NAMES
from posetool.gui.session import AnnotationSession, UncertaintyThresholds

__all__ = ["SidePanel"]


class SidePanel(QWidget):
    """Shows the selection and offers actions; edits go through the given QActions."""

    reassignRequested = Signal(int)  # noqa: N815 - new id for the selected track (this frame)
    mergeRequested = Signal(int)  # noqa: N815 - track to merge into the selected one
    thresholdsChanged = Signal(object)  # noqa: N815 - UncertaintyThresholds

    def __init__(self, actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = QLabel("Nothing selected")
        self.info.setWordWrap(True)
        self.info.setMinimumWidth(220)
        self.info.setMinimumHeight(7 * self.info.fontMetrics().height())
        self.info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        sel_box = QGroupBox("Selection")
        QVBoxLayout(sel_box).addWidget(self.info)

        act_box = QGroupBox("Edit")
        act_layout = QVBoxLayout(act_box)
        for action in actions:
            button = QPushButton(
                f"{action.text().replace('&', '')}  [{action.shortcut().toString()}]"
            )
            button.clicked.connect(action.trigger)
            action.changed.connect(lambda b=button, a=action: b.setEnabled(a.isEnabled()))
            act_layout.addWidget(button)
        self.target_id = QSpinBox()
        self.target_id.setRange(0, 1_000_000)
        reassign = QPushButton("Reassign id (this frame)")
        reassign.clicked.connect(lambda: self.reassignRequested.emit(self.target_id.value()))
        merge = QPushButton("Merge track → selected")
        merge.clicked.connect(lambda: self.mergeRequested.emit(self.target_id.value()))
        row = QHBoxLayout()
        row.addWidget(QLabel("Track id"))
        row.addWidget(self.target_id)
        act_layout.addLayout(row)
        act_layout.addWidget(reassign)
        act_layout.addWidget(merge)

        thr_box = QGroupBox("Uncertain joints")
        form = QFormLayout(thr_box)
        self.spread = QDoubleSpinBox()
        self.spread.setRange(0.5, 500.0)
        self.spread.setSuffix(" px")
        self.min_score = QDoubleSpinBox()
        self.min_score.setRange(0.0, 1.0)
        self.min_score.setSingleStep(0.05)
        form.addRow("spread above", self.spread)
        form.addRow("score below", self.min_score)
        for spin in (self.spread, self.min_score):
            spin.valueChanged.connect(self._emit_thresholds)

        layout = QVBoxLayout(self)
        for box in (sel_box, act_box, thr_box):
            layout.addWidget(box)
        layout.addStretch(1)

    def set_thresholds(self, thresholds: UncertaintyThresholds) -> None:
        for spin, value in (
            (self.spread, thresholds.spread_px),
            (self.min_score, thresholds.min_score),
        ):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)

    def _emit_thresholds(self) -> None:
        self.thresholdsChanged.emit(
            UncertaintyThresholds(spread_px=self.spread.value(), min_score=self.min_score.value())
        )

    def show_selection(self, session: AnnotationSession | None) -> None:
        """Describe the selected person and joint of ``session``."""
        if session is None or session.selection.track_id is None:
            n = session.record.num_persons if session is not None else 0
            self.info.setText(f"Nothing selected\n{n} person(s) in this frame")
            return
        rec = session.record
        tid, joint = session.selection.track_id, session.selection.joint
        p = rec.index_of_track(tid)
        if p is None:
            self.info.setText(f"Track {tid} (not in this frame)")
            return
        origin = (
            "edited by analyst"
            if rec.human_edited[p]
            else "interpolated between keyframes"
            if rec.interpolated[p]
            else "model output"
        )
        lines = [
            f"Track {tid}  box score {rec.box_scores[p]:.2f}",
            origin + (", reviewed" if rec.reviewed[p] else ""),
        ]
        if joint is not None:
            spread = rec.keypoint_spread_px[p, joint]
            spread_text = "n/a" if spread != spread else f"{spread:.1f} px"
            x, y = rec.keypoints_xy[p, joint]
            lines += [
                f"Joint {joint} {KEYPOINT_NAMES[joint]}",
                f"  at ({x:.0f}, {y:.0f})  {'visible' if rec.keypoint_visible[p, joint] else 'hidden'}",
                f"  score {rec.keypoint_scores[p, joint]:.2f}  spread {spread_text}",
            ]
        self.info.setText("\n".join(lines))
