"""Where each track exists: per track, the runs of frames it is in and the runs an analyst
edited, kept up to date from the frames an edit replaced instead of rebuilt.

Records are immutable and an edit replaces the records of the frames it touches, so
:meth:`TrackSpans.update` finds the changed frames by identity and moves only their persons
in and out of the runs. Memory and update cost follow the number of runs, not tracks x frames.

Qt-free.
"""

from __future__ import annotations

from bisect import bisect_right

from posetool.records import FrameRecord, VideoResult

__all__ = ["Runs", "TrackSpans"]


class Runs:
    """Sorted, disjoint, non-adjacent ``[start, stop)`` runs of frame indices."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.stops: list[int] = []

    def __bool__(self) -> bool:
        return bool(self.starts)

    def pairs(self) -> list[tuple[int, int]]:
        return list(zip(self.starts, self.stops, strict=True))

    def add(self, i: int) -> None:
        starts, stops = self.starts, self.stops
        k = bisect_right(starts, i) - 1  # the run starting at or before i
        if k >= 0 and stops[k] > i:
            return
        joins_left = k >= 0 and stops[k] == i
        joins_right = k + 1 < len(starts) and starts[k + 1] == i + 1
        if joins_left and joins_right:
            stops[k] = stops[k + 1]
            del starts[k + 1], stops[k + 1]
        elif joins_left:
            stops[k] = i + 1
        elif joins_right:
            starts[k + 1] = i
        else:
            starts.insert(k + 1, i)
            stops.insert(k + 1, i + 1)

    def remove(self, i: int) -> None:
        starts, stops = self.starts, self.stops
        k = bisect_right(starts, i) - 1
        if k < 0 or stops[k] <= i:
            return
        start, stop = starts[k], stops[k]
        if start == i and stop == i + 1:
            del starts[k], stops[k]
        elif start == i:
            starts[k] = i + 1
        elif stop == i + 1:
            stops[k] = i
        else:
            stops[k] = i
            starts.insert(k + 1, i + 1)
            stops.insert(k + 1, stop)


class TrackSpans:
    """Per track id, the frames it is in (``present``) and where it was edited (``edited``)."""

    def __init__(self) -> None:
        self.present: dict[int, Runs] = {}
        self.edited: dict[int, Runs] = {}
        self._frames: tuple[FrameRecord, ...] = ()

    @property
    def frame_count(self) -> int:
        return len(self._frames)

    @property
    def ids(self) -> list[int]:
        """Track ids in the video, sorted."""
        return sorted(self.present)

    def update(self, result: VideoResult) -> int:
        """Follow ``result``: only the frames whose record changed are looked at (all of them
        the first time, or when the frame count changed). Returns how many were."""
        frames = result.frames
        if len(frames) != len(self._frames):
            self.present, self.edited, old = {}, {}, (None,) * len(frames)
        else:
            old = self._frames
        changed = [i for i, (a, b) in enumerate(zip(frames, old, strict=True)) if a is not b]
        for i in changed:
            if old[i] is not None:
                self._move(old[i], i, add=False)
            self._move(frames[i], i, add=True)
        for tid in [t for t, runs in self.present.items() if not runs]:
            del self.present[tid], self.edited[tid]
        self._frames = frames
        return len(changed)

    def _move(self, record: FrameRecord, i: int, add: bool) -> None:
        for tid, edited in zip(
            record.track_ids.tolist(), record.human_edited.tolist(), strict=True
        ):
            present = self.present.setdefault(tid, Runs())
            marks = self.edited.setdefault(tid, Runs())
            if add:
                present.add(i)
                if edited:
                    marks.add(i)
            else:
                present.remove(i)
                marks.remove(i)
