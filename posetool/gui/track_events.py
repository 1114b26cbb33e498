"""Track proofreading: where tracks start, end, or jump (candidate identity switches).

A jump is a box that moves, between two consecutive frames of a track, by more than
``jump_ratio`` times the box's size (the square root of its mean area over the two frames):
the usual sign that the tracker handed the id to someone else. Starts and ends are the first
and last frame of each run of the track (a track that leaves and comes back ends and starts).

Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posetool.records import VideoResult

__all__ = ["DEFAULT_JUMP_RATIO", "TrackEvent", "track_events"]

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


def track_events(result: VideoResult, jump_ratio: float = DEFAULT_JUMP_RATIO) -> list[TrackEvent]:
    """Starts, ends and jumps of every track, in frame order (then track id)."""
    if not jump_ratio > 0:
        raise ValueError(f"jump_ratio must be > 0, got {jump_ratio}")
    events: list[TrackEvent] = []
    prev: dict[int, np.ndarray] = {}  # track id -> its box in the frame before
    for fr in result.frames:
        here = {int(t): fr.boxes_xyxy[p] for p, t in enumerate(fr.track_ids)}
        for tid, box in here.items():
            if tid not in prev:
                events.append(TrackEvent(fr.frame_index, tid, "start"))
                continue
            (ca, area_a), (cb, area_b) = _centre_and_size(prev[tid]), _centre_and_size(box)
            moved = float(np.linalg.norm(cb - ca)) / np.sqrt((area_a + area_b) / 2)
            if moved > jump_ratio:
                events.append(TrackEvent(fr.frame_index, tid, "jump", moved))
        for tid in prev.keys() - here.keys():
            events.append(TrackEvent(fr.frame_index - 1, tid, "end"))
        prev = here
    last = result.frames[-1].frame_index if result.frames else 0
    events += [TrackEvent(last, tid, "end") for tid in prev]
    kinds = {"start": 0, "jump": 1, "end": 2}
    return sorted(events, key=lambda e: (e.frame, kinds[e.kind], e.track_id))
