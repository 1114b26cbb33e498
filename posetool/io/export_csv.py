"""Tidy CSV of a video result: one row per person-joint, for pandas, R or a spreadsheet.

Columns: ``frame`` (0-based index), ``time_s``, ``track_id``, ``joint`` (PoseTrack slot
name), ``x``, ``y`` (image px; empty where the joint is not visible), ``score``,
``spread_px`` (ensemble spread; empty where unknown), ``visible``, ``human_edited`` (0/1),
then one 0/1 column per optional person flag the records carry (``interpolated``,
``reviewed``: set by the viewer's interpolation and review queue). The ear placeholders,
which PoseTrack never labels, are left out. Qt-free: the viewer calls :func:`csv_text`.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from diffpose.keypoints import EVALUATED_SLOTS, KEYPOINT_NAMES
from posetool.records import FrameRecord, VideoResult

__all__ = ["CSV_COLUMNS", "OPTIONAL_PERSON_FLAGS", "csv_text"]

CSV_COLUMNS: tuple[str, ...] = (
    "frame",
    "time_s",
    "track_id",
    "joint",
    "x",
    "y",
    "score",
    "spread_px",
    "visible",
    "human_edited",
)

#: Per-person (N,) bool columns of a FrameRecord written when the records have them.
OPTIONAL_PERSON_FLAGS: tuple[str, ...] = ("interpolated", "reviewed")


def _num(value: float, digits: int) -> str:
    return f"{value:.{digits}f}" if np.isfinite(value) else ""


def _flags_present(result: VideoResult) -> list[str]:
    """The optional flags every record of ``result`` carries."""
    return [
        name
        for name in OPTIONAL_PERSON_FLAGS
        if result.frames and all(getattr(fr, name, None) is not None for fr in result.frames)
    ]


def _rows(fr: FrameRecord, flags: list[str]):
    for p in range(fr.num_persons):
        extra = [str(int(bool(getattr(fr, name)[p]))) for name in flags]
        for k in EVALUATED_SLOTS:
            visible = bool(fr.keypoint_visible[p, k])
            x, y = (float(v) for v in fr.keypoints_xy[p, k]) if visible else (np.nan, np.nan)
            yield [
                str(fr.frame_index),
                f"{fr.timestamp_s:.6f}",
                str(int(fr.track_ids[p])),
                KEYPOINT_NAMES[k],
                _num(x, 3),
                _num(y, 3),
                _num(float(fr.keypoint_scores[p, k]), 5),
                _num(float(fr.keypoint_spread_px[p, k]), 3),
                str(int(visible)),
                str(int(bool(fr.human_edited[p]))),
                *extra,
            ]


def csv_text(result: VideoResult) -> str:
    """The tidy CSV of ``result`` (header + one row per person-joint, frames in order)."""
    flags = _flags_present(result)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, *flags])
    for fr in result.frames:
        writer.writerows(_rows(fr, flags))
    return out.getvalue()
