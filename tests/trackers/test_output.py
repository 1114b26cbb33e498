"""TrackerOutput is a validated, read-only column record."""

from __future__ import annotations

import numpy as np
import pytest

from trackers import TrackerOutput


def test_columns_are_coerced_and_read_only():
    out = TrackerOutput([3, 1], np.zeros((2, 4)), [0.5, 0.9], [1, 0])
    assert out.track_ids.dtype == np.int64 and out.det_indices.dtype == np.int64
    assert out.boxes_xyxy.dtype == np.float32 and out.scores.dtype == np.float32
    assert len(out) == 2
    with pytest.raises(ValueError):
        out.track_ids[0] = 7


def test_empty():
    out = TrackerOutput.empty()
    assert len(out) == 0 and out.boxes_xyxy.shape == (0, 4)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"boxes_xyxy": np.zeros((2, 3))},
        {"scores": [0.5]},
        {"det_indices": [0, 1, 2]},
        {"track_ids": [1, 1]},
    ],
)
def test_inconsistent_columns_raise(kwargs):
    columns = {
        "track_ids": [1, 2],
        "boxes_xyxy": np.zeros((2, 4)),
        "scores": [0.5, 0.6],
        "det_indices": [0, 1],
    }
    columns.update(kwargs)
    with pytest.raises(ValueError):
        TrackerOutput(**columns)
