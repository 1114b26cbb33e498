"""Track proofreading: where tracks start, end, or jump (candidate identity switches).

A jump is a box that moves, between two consecutive frames of a track, by more than
``jump_ratio`` times the box's size (the square root of its mean area over the two frames):
the usual sign that the tracker handed the id to someone else. Starts and ends are the first
and last frame of each run of the track (a track that leaves and comes back ends and starts).
:class:`TrackEvents` keeps them up to date after an edit from the frames it changed.

Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posetool.records import FrameRecord, VideoResult

__all__ = ["DEFAULT_JUMP_RATIO", "TrackEvent", "TrackEvents", "track_events"]

#: Box displacement between consecutive frames, in box sizes, that counts as a jump.
DEFAULT_JUMP_RATIO = 0.5


@dataclass(frozen=True)
class TrackEvent:
    """Something to check on a track at a frame.

    Attributes:
        frame: the frame (for an end: the track's last frame; for a jump: the frame after it).
        track_id: the track.
        kind: "start", "end" or "jump".
        jump: for a jump, the displacement in box sizes (0 otherwise).
    """

    frame: int
    track_id: int
    kind: str
    jump: float = 0.0

    def describe(self) -> str:
        text = f"frame {self.frame}: track {self.track_id} {self.kind}s"
        return text + (f" {self.jump:.1f} box sizes" if self.kind == "jump" else "")


def _centre_and_size(box: np.ndarray) -> tuple[np.ndarray, float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    return np.array([(x1 + x2) / 2, (y1 + y2) / 2]), max((x2 - x1) * (y2 - y1), 1.0)


def _pair_events(
    before: FrameRecord | None, after: FrameRecord | None, jump_ratio: float
) -> list[TrackEvent]:
    """Events between two consecutive frames (None: before the first or after the last):
    starts and jumps in ``after``, ends in ``before``."""
    prev = (
        {}
        if before is None
        else {int(t): before.boxes_xyxy[p] for p, t in enumerate(before.track_ids)}
    )
    here = (
        {}
        if after is None
        else {int(t): after.boxes_xyxy[p] for p, t in enumerate(after.track_ids)}
    )
    events = [TrackEvent(before.frame_index, tid, "end") for tid in prev.keys() - here.keys()]
    for tid, box in here.items():
        if tid not in prev:
            events.append(TrackEvent(after.frame_index, tid, "start"))
            continue
        (ca, area_a), (cb, area_b) = _centre_and_size(prev[tid]), _centre_and_size(box)
        moved = float(np.linalg.norm(cb - ca)) / np.sqrt((area_a + area_b) / 2)
        if moved > jump_ratio:
            events.append(TrackEvent(after.frame_index, tid, "jump", moved))
    return events


_KIND_ORDER = {"start": 0, "jump": 1, "end": 2}


class TrackEvents:
    """The events of a result, kept up to date by :meth:`update`: only the frame pairs whose
    records changed (an edit replaces the records it touches) are looked at again."""

    def __init__(self, jump_ratio: float = DEFAULT_JUMP_RATIO) -> None:
        if not jump_ratio > 0:
            raise ValueError(f"jump_ratio must be > 0, got {jump_ratio}")
        self.jump_ratio = jump_ratio
        self.events: list[TrackEvent] = []
        self._frames: tuple[FrameRecord, ...] = ()
        self._pairs: list[list[TrackEvent]] = []  # pair i: frames i - 1 and i (i = n: the end)

    def update(self, result: VideoResult) -> list[TrackEvent]:
        """Follow ``result``; returns every event in frame order (then kind, then track id)."""
        frames = result.frames
        n = len(frames)
        if n != len(self._frames):
            stale = range(n + 1)
            self._pairs = [[] for _ in range(n + 1)]
        else:
            changed = [
                i for i, (a, b) in enumerate(zip(frames, self._frames, strict=True)) if a is not b
            ]
            stale = sorted({j for i in changed for j in (i, i + 1)})
        for i in stale:
            before = frames[i - 1] if i > 0 else None
            after = frames[i] if i < n else None
            self._pairs[i] = _pair_events(before, after, self.jump_ratio)
        if stale or n != len(self._frames):
            events = [e for pair in self._pairs if pair for e in pair]
            self.events = sorted(events, key=lambda e: (e.frame, _KIND_ORDER[e.kind], e.track_id))
        self._frames = frames
        return self.events


def track_events(result: VideoResult, jump_ratio: float = DEFAULT_JUMP_RATIO) -> list[TrackEvent]:
    """Starts, ends and jumps of every track, in frame order (then kind, then track id)."""
    return TrackEvents(jump_ratio).update(result)
