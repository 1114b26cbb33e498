"""The review queue: person-frames ranked by how unsure the model was, worst first.

A person-frame's uncertainty is its worst visible joint, each joint measured against the
analyst's thresholds (:class:`~posetool.gui.uncertainty.UncertaintyThresholds`): ensemble
spread over ``spread_px``, or how far the score falls below 1 relative to ``1 - min_score``.
1.0 is the edge of "uncertain"; the queue holds the person-frames above it. A filter keeps one
track and/or one joint (then only that joint is measured). Persons the analyst marked
``reviewed`` stay listed (so the mark can be seen and taken back) but no longer count as left.

The queue remembers the records it ranked (records are immutable; an edit replaces the records
it changes): after an edit it measures only the changed frames and moves their items in the
sorted list, so a 30-minute video stays responsive.

Qt-free. Shape letters: N persons, K keypoints.
"""

from __future__ import annotations

from bisect import bisect_left
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


def _key(item: ReviewItem) -> tuple[float, int, int]:
    """Sort key: most uncertain first, then by frame and track."""
    return (-item.uncertainty, item.frame, item.track_id)


def joint_uncertainty(record: FrameRecord, thresholds: UncertaintyThresholds) -> np.ndarray:
    """(N, K) float, each visible joint's uncertainty (> 1: uncertain); hidden joints 0."""
    return _uncertainty(
        record.keypoint_spread_px, record.keypoint_scores, record.keypoint_visible, thresholds
    )


def _uncertainty(
    spread: np.ndarray, scores: np.ndarray, visible: np.ndarray, thresholds: UncertaintyThresholds
) -> np.ndarray:
    wide = np.nan_to_num(spread, nan=0.0) / thresholds.spread_px
    low = (1.0 - scores) / max(1.0 - thresholds.min_score, 1e-6)
    return np.where(visible, np.maximum(wide, low), 0.0)


class ReviewQueue:
    """The ranked person-frames of a result; call :meth:`update` after each change."""

    #: Above this many changed frames :meth:`update` ranks everything again.
    REBUILD_FRAMES = 2000

    def __init__(
        self,
        thresholds: UncertaintyThresholds | None = None,
        queue_filter: QueueFilter | None = None,
    ) -> None:
        self.thresholds = thresholds or UncertaintyThresholds()
        self.filter = queue_filter or QueueFilter()
        self.items: list[ReviewItem] = []
        self._keys: list[tuple[float, int, int]] = []  # sort key of each item, in order
        self._frames: tuple[FrameRecord, ...] = ()  # the records ranked
        self._by_frame: dict[int, list[ReviewItem]] = {}
        self._left = 0

    def set_thresholds(self, thresholds: UncertaintyThresholds) -> None:
        self.thresholds = thresholds
        self._frames = ()

    def set_filter(self, queue_filter: QueueFilter) -> None:
        self.filter = queue_filter
        self._frames = ()

    def update(self, result: VideoResult) -> list[ReviewItem]:
        """Re-rank from ``result``; returns the items, most uncertain first. Only the frames
        whose record changed since the last call are measured again."""
        frames = result.frames
        if len(frames) != len(self._frames):
            changed = None
        else:
            changed = [
                i for i, (a, b) in enumerate(zip(frames, self._frames, strict=True)) if a is not b
            ]
        if changed is None or len(changed) > self.REBUILD_FRAMES:
            self._by_frame = self._measure(frames)
            self.items = sorted((it for items in self._by_frame.values() for it in items), key=_key)
            self._keys = [_key(it) for it in self.items]
            self._left = sum(not it.reviewed for it in self.items)
        else:
            fresh = self._measure([frames[i] for i in changed])
            for i in changed:
                for it in self._by_frame.pop(i, []):
                    at = bisect_left(self._keys, _key(it))
                    del self.items[at], self._keys[at]
                    self._left -= not it.reviewed
                for it in fresh.get(i, []):
                    at = bisect_left(self._keys, _key(it))
                    self.items.insert(at, it)
                    self._keys.insert(at, _key(it))
                    self._left += not it.reviewed
                if i in fresh:
                    self._by_frame[i] = fresh[i]
        self._frames = frames
        return self.items

    def _measure(self, records) -> dict[int, list[ReviewItem]]:
        """The items of ``records`` by frame, measured on all their persons at once."""
        records = [rec for rec in records if rec.num_persons]
        if not records:
            return {}
        cat = lambda name: np.concatenate([getattr(rec, name) for rec in records])  # noqa: E731
        frame = np.repeat(
            [rec.frame_index for rec in records], [rec.num_persons for rec in records]
        )
        tids, reviewed = cat("track_ids"), cat("reviewed")
        spread, scores, visible = (
            cat("keypoint_spread_px"),
            cat("keypoint_scores"),
            cat("keypoint_visible"),
        )
        u = _uncertainty(spread, scores, visible, self.thresholds)
        if self.filter.joint is not None:
            u = np.where(np.arange(u.shape[1]) == self.filter.joint, u, 0.0)
        worst = np.argmax(u, axis=1)
        rows = np.arange(len(u))
        hit = u[rows, worst] > 1.0
        if self.filter.track_id is not None:
            hit &= tids == self.filter.track_id
        out: dict[int, list[ReviewItem]] = {}
        for r in np.flatnonzero(hit).tolist():
            k = int(worst[r])
            item = ReviewItem(
                int(frame[r]),
                int(tids[r]),
                float(u[r, k]),
                k,
                float(spread[r, k]),
                float(scores[r, k]),
                bool(reviewed[r]),
            )
            out.setdefault(item.frame, []).append(item)
        return out

    @property
    def left(self) -> int:
        """How many items are not reviewed yet."""
        return self._left

    def index_of(self, frame: int, track_id: int | None) -> int | None:
        """Position of the item (``frame``, ``track_id``), or None."""
        item = next((it for it in self._by_frame.get(frame, []) if it.track_id == track_id), None)
        return None if item is None else bisect_left(self._keys, _key(item))

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
