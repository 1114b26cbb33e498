"""The sliding 2δ+1-frame window of the pose stage: which frames each record needs, and when.

Pure bookkeeping, no threads, no model: frames go in, in order; the window of frame t is
ready once frame t+δ is in (:meth:`PoseWindow.push`), and the last δ frames at the end of
the video (:meth:`PoseWindow.flush`). A ready window is a snapshot (a tuple of the frames
t−δ..t+δ that exist), so the buffer may move on while a record task still uses it. The
buffer keeps at most 2δ+1 frames: the δ frames of past context, the key frame and δ ahead.

Per track, :meth:`ReadyWindow.rows` gives the frame and row of each of the 2δ+1 offsets; where
the track has no box in a neighbour frame (the track ends, a missed detection, the video's
ends) the key frame is repeated, as the paper does at sequence ends (docs/POSETRACK.md).

Shape letters: N persons of a frame.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import numpy as np

__all__ = ["PoseWindow", "ReadyWindow", "row_of"]


class TrackedColumns(Protocol):
    """What the window needs of a frame: its tracks' ids, (N,) int."""

    track_ids: np.ndarray


FrameT = TypeVar("FrameT", bound=TrackedColumns)


def row_of(frame: TrackedColumns, track_id: int) -> int | None:
    """Row of ``track_id`` in ``frame``, or None where the track has no box there."""
    hits = np.flatnonzero(frame.track_ids == track_id)
    return int(hits[0]) if len(hits) else None


@dataclass(frozen=True)
class ReadyWindow(Generic[FrameT]):
    """The frames around one key frame, complete: ``frames[key]`` is the key frame, the
    others its neighbours that exist (fewer than δ on a side at the video's ends)."""

    frames: tuple[FrameT, ...]
    key: int
    delta: int

    @property
    def key_frame(self) -> FrameT:
        return self.frames[self.key]

    def rows(self, track_id: int) -> list[tuple[FrameT, int]]:
        """(frame, row) of ``track_id`` at each offset −δ..+δ around the key frame, the key
        frame's where the track is absent or the window runs past the video's ends. The
        track must be in the key frame."""
        key_row = row_of(self.key_frame, track_id)
        if key_row is None:
            raise ValueError(f"track {track_id} is not in the key frame")
        key_pair = (self.key_frame, key_row)
        out = []
        for offset in range(-self.delta, self.delta + 1):
            p = self.key + offset
            row = row_of(self.frames[p], track_id) if 0 <= p < len(self.frames) else None
            out.append((self.frames[p], row) if row is not None else key_pair)
        return out


class PoseWindow(Generic[FrameT]):
    """Frames in, in order; windows out once complete.

    Args:
        delta: δ, frames of context on each side of the key frame (2δ+1 in a window).
    """

    def __init__(self, delta: int) -> None:
        if delta < 0:
            raise ValueError(f"delta must be >= 0, got {delta}")
        self.delta = delta
        self._buffer: deque[FrameT] = deque()
        self._next = 0  # buffer position of the next key frame to hand out
        #: Largest number of frames the buffer ever held (≤ 2δ+1).
        self.max_buffered = 0

    @property
    def buffered_frames(self) -> int:
        """Frames held now."""
        return len(self._buffer)

    def push(self, frame: FrameT) -> list[ReadyWindow[FrameT]]:
        """Add the next frame; return the windows it completes (that of frame t − δ)."""
        self._buffer.append(frame)
        self.max_buffered = max(self.max_buffered, len(self._buffer))
        ready = []
        # frame t is ready once t+δ is in: buffer position of t = len - 1 - δ
        while self._next <= len(self._buffer) - 1 - self.delta:
            ready.append(self._snapshot(self._next))
            self._next += 1
            self._trim()
        return ready

    def flush(self) -> list[ReadyWindow[FrameT]]:
        """The windows of the frames still waiting for their future neighbours (end of the
        video); the window is empty after."""
        ready = [self._snapshot(p) for p in range(self._next, len(self._buffer))]
        self._buffer.clear()
        self._next = 0
        return ready

    def _snapshot(self, pos: int) -> ReadyWindow[FrameT]:
        lo, hi = max(0, pos - self.delta), min(len(self._buffer), pos + self.delta + 1)
        frames = tuple(self._buffer[p] for p in range(lo, hi))
        return ReadyWindow(frames, pos - lo, self.delta)

    def _trim(self) -> None:
        # keep δ frames of past context before the next key frame
        while self._next > self.delta:
            self._buffer.popleft()
            self._next -= 1
