"""The review queue: person-frames ranked by how unsure the model was, worst first.

A person-frame's uncertainty is its worst visible joint, each joint measured against the
analyst's thresholds (:class:`~posetool.gui.uncertainty.UncertaintyThresholds`): ensemble
spread over ``spread_px``, or how far the score falls below 1 relative to ``1 - min_score``.
1.0 is the edge of "uncertain"; the queue holds the person-frames above it. A filter keeps one
track and/or one joint (then only that joint is measured). Persons the analyst marked
``reviewed`` stay listed (so the mark can be seen and taken back) but no longer count as left.

Items of a frame are cached by the identity of its record (records are immutable; an edit
replaces the records it changes), so rebuilding after an edit measures only the changed frames.

Qt-free. Shape letters: N persons, K keypoints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posetool.gui.uncertainty import UncertaintyThresholds
from posetool.records import FrameRecord, VideoResult

__all__ = ["QueueFilter", "ReviewItem", "ReviewQueue", "joint_uncertainty"]


@dataclass(frozen=True)
class QueueFilter:
    """Which person-frames the queue holds: one track and/or one joint (None: all)."""

    track_id: int | None = None
    joint: int | None = None


@dataclass(frozen=True)
class ReviewItem:
    """One person in one frame, with its uncertainty and the joint that set it."""

    frame: int
    track_id: int
    uncertainty: float
    joint: int
    spread_px: float
    score: float
    reviewed: bool


def joint_uncertainty(record: FrameRecord, thresholds: UncertaintyThresholds) -> np.ndarray:
    """(N, K) float, each visible joint's uncertainty (> 1: uncertain); hidden joints 0."""
    spread = np.nan_to_num(record.keypoint_spread_px, nan=0.0) / thresholds.spread_px
    low = (1.0 - record.keypoint_scores) / max(1.0 - thresholds.min_score, 1e-6)
    return np.where(record.keypoint_visible, np.maximum(spread, low), 0.0)


class ReviewQueue:
    """The ranked person-frames of a result; call :meth:`update` after each change."""

    def __init__(self, thresholds: UncertaintyThresholds | None = None,
                 queue_filter: QueueFilter | None = None) -> None:  # fmt: skip
        self.thresholds = thresholds or UncertaintyThresholds()
        self.filter = queue_filter or QueueFilter()
        self.items: list[ReviewItem] = []
        self._cache: dict[int, tuple[FrameRecord, list[ReviewItem]]] = {}

    def set_thresholds(self, thresholds: UncertaintyThresholds) -> None:
        self.thresholds = thresholds
        self._cache.clear()

    def set_filter(self, queue_filter: QueueFilter) -> None:
        self.filter = queue_filter
        self._cache.clear()

    def update(self, result: VideoResult) -> list[ReviewItem]:
        """Re-rank from ``result``; returns the items, most uncertain first."""
        items: list[ReviewItem] = []
        for rec in result.frames:
            cached = self._cache.get(rec.frame_index)
            if cached is None or cached[0] is not rec:
                cached = (rec, self._frame_items(rec))
                self._cache[rec.frame_index] = cached
            items.extend(cached[1])
        items.sort(key=lambda it: (-it.uncertainty, it.frame, it.track_id))
        self.items = items
        return items

    def _frame_items(self, rec: FrameRecord) -> list[ReviewItem]:
        if rec.num_persons == 0:
            return []
        u = joint_uncertainty(rec, self.thresholds)
        if self.filter.joint is not None:
            keep = np.zeros_like(u, bool)
            keep[:, self.filter.joint] = True
            u = np.where(keep, u, 0.0)
        out = []
        for p in range(rec.num_persons):
            tid = int(rec.track_ids[p])
            if self.filter.track_id is not None and tid != self.filter.track_id:
                continue
            k = int(np.argmax(u[p]))
            if u[p, k] <= 1.0:
                continue
            out.append(ReviewItem(rec.frame_index, tid, float(u[p, k]), k,
                                  float(rec.keypoint_spread_px[p, k]),
                                  float(rec.keypoint_scores[p, k]), bool(rec.reviewed[p])))  # fmt: skip
        return out

    @property
    def left(self) -> int:
        """How many items are not reviewed yet."""
        return sum(not it.reviewed for it in self.items)

    def index_of(self, frame: int, track_id: int | None) -> int | None:
        """Position of the item (``frame``, ``track_id``), or None."""
        for i, it in enumerate(self.items):
            if it.frame == frame and it.track_id == track_id:
                return i
        return None

    def next_unreviewed(self, start: int, direction: int = 1) -> int | None:
        """Position of the nearest item after (``direction`` > 0) or before ``start`` that is
        not reviewed, or None. ``start`` may be -1 (before the first) or ``len(items)``."""
        step = 1 if direction > 0 else -1
        i = start + step
        while 0 <= i < len(self.items):
            if not self.items[i].reviewed:
                return i
            i += step
        return None
