"""The 2δ+1 window on its own: no model, no threads, frames that are only track-id columns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from posetool.run.pose_window import PoseWindow, ReadyWindow, row_of


@dataclass
class Frame:
    index: int
    track_ids: np.ndarray


def frame(index: int, *ids: int) -> Frame:
    return Frame(index, np.asarray(ids, np.int64))


def key_indices(windows: list[ReadyWindow[Frame]]) -> list[int]:
    return [w.key_frame.index for w in windows]


def test_frame_t_is_ready_once_t_plus_delta_is_in_and_flush_emits_the_rest() -> None:
    window: PoseWindow[Frame] = PoseWindow(delta=2)
    emitted = [key_indices(window.push(frame(i, 1))) for i in range(6)]
    assert emitted == [[], [], [0], [1], [2], [3]]
    assert key_indices(window.flush()) == [4, 5]
    assert window.buffered_frames == 0
    assert window.max_buffered == 5  # 2δ+1: δ past, the key frame, δ ahead
    assert window.flush() == []


def test_a_short_video_is_emitted_whole_by_flush() -> None:
    window: PoseWindow[Frame] = PoseWindow(delta=2)
    assert window.push(frame(0, 1)) == [] and window.push(frame(1, 1)) == []
    ready = window.flush()
    assert key_indices(ready) == [0, 1]
    assert [len(w.frames) for w in ready] == [2, 2]


def test_windows_are_snapshots_of_the_frames_around_the_key() -> None:
    window: PoseWindow[Frame] = PoseWindow(delta=1)
    ready = []
    for i in range(5):
        ready += window.push(frame(i, 1))
    ready += window.flush()
    frames = [[f.index for f in w.frames] for w in ready]
    assert frames == [[0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4]]
    assert [w.key for w in ready] == [0, 1, 1, 1, 1]


def test_key_frame_stands_in_where_the_track_is_absent() -> None:
    """Track 7 is in frames 1 and 2 only: offsets in frames without it, and past the
    video's start, take the key frame's row."""
    window: PoseWindow[Frame] = PoseWindow(delta=2)
    frames = [frame(0, 1), frame(1, 1, 7), frame(2, 7), frame(3, 1), frame(4, 1)]
    ready = []
    for f in frames:
        ready += window.push(f)
    ready += window.flush()
    at_1 = ready[1]  # key frame 1: frames 0..3 exist
    rows = at_1.rows(7)
    assert [(f.index, r) for f, r in rows] == [(1, 1), (1, 1), (1, 1), (2, 0), (1, 1)]
    only = ready[2].rows(7)  # key frame 2, track 7 at row 0; frame 1 has it at row 1
    assert [(f.index, r) for f, r in only] == [(2, 0), (1, 1), (2, 0), (2, 0), (2, 0)]
    with pytest.raises(ValueError, match="track 9"):
        at_1.rows(9)


def test_a_track_seen_once_gets_2delta_plus_1_copies_of_its_key_frame() -> None:
    window: PoseWindow[Frame] = PoseWindow(delta=2)
    ready = []
    for i in range(5):
        ready += window.push(frame(i, 7) if i == 2 else frame(i))
    ready += window.flush()
    key = ready[2]
    assert {id(f) for f, _ in key.rows(7)} == {id(key.key_frame)}


def test_row_of_and_delta_checked() -> None:
    assert row_of(frame(0, 4, 9), 9) == 1 and row_of(frame(0, 4), 9) is None
    with pytest.raises(ValueError, match="delta"):
        PoseWindow(delta=-1)
