"""Frozen, validated column records."""

from __future__ import annotations

import numpy as np
import pytest

from posetool.records import FrameRecord, VideoMeta, VideoResult


def _frame(n=2, idx=0, **kw):
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 100, (n, 2))
    return FrameRecord(
        frame_index=idx,
        boxes_xyxy=np.concatenate([xy, xy + 50], axis=1),
        box_scores=np.full(n, 0.9),
        track_ids=np.arange(1, n + 1),
        keypoints_xy=rng.uniform(0, 100, (n, 17, 2)),
        keypoint_scores=np.full((n, 17), 0.5),
        **kw,
    )


def test_defaults_and_read_only():
    fr = _frame()
    assert fr.num_persons == 2
    assert (
        np.isnan(fr.keypoint_spread_px).all()
        and fr.keypoint_visible.all()
        and not fr.human_edited.any()
    )
    with pytest.raises(ValueError):
        fr.boxes_xyxy[0, 0] = 1.0
    with pytest.raises(AttributeError):
        fr.frame_index = 3  # type: ignore[misc]


def test_empty_frame():
    fr = FrameRecord(frame_index=5)
    assert fr.num_persons == 0 and fr.keypoints_xy.shape == (0, 17, 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"track_ids": [1, 1]}, "unique"),
        ({"track_ids": [1]}, "track_ids"),
        ({"keypoints_xy": np.zeros((2, 15, 2))}, "keypoints_xy: expected shape"),
        ({"boxes_xyxy": [[10, 10, 5, 20], [0, 0, 1, 1]]}, "x2 >= x1"),
        ({"box_scores": ["a", "b"]}, "box_scores"),
    ],
)
def test_validation(kwargs, message):
    base = dict(
        frame_index=0,
        boxes_xyxy=np.zeros((2, 4)),
        box_scores=np.ones(2),
        track_ids=[1, 2],
        keypoints_xy=np.zeros((2, 17, 2)),
        keypoint_scores=np.zeros((2, 17)),
    )
    base.update(kwargs)
    with pytest.raises(ValueError, match=message):
        FrameRecord(**base)


def test_select_and_track_lookup():
    fr = _frame(3)
    sub = fr.select([2, 0])
    assert sub.track_ids.tolist() == [3, 1]
    np.testing.assert_array_equal(sub.keypoints_xy[0], fr.keypoints_xy[2])
    assert fr.index_of_track(2) == 1 and fr.index_of_track(9) is None


def test_video_result_checks_frames():
    meta = VideoMeta(path="v.mp4", fps=25, frame_count=2, width=640, height=360)
    assert meta.sequence_name == "v"
    res = VideoResult(meta, (_frame(idx=0), _frame(idx=1)))
    assert res.track_ids().tolist() == [1, 2]
    with pytest.raises(ValueError, match="2 frame records for 3"):
        VideoResult(VideoMeta(path="v.mp4", fps=25, frame_count=3, width=1, height=1), res.frames)
    with pytest.raises(ValueError, match="frame_index"):
        VideoResult(meta, (_frame(idx=1), _frame(idx=0)))
    with pytest.raises(ValueError, match="fps"):
        VideoMeta(path="v.mp4", fps=0, frame_count=1, width=1, height=1)
    edited = res.with_frame(_frame(idx=1, human_edited=[True, False]))
    assert (
        edited.frames[1].human_edited.tolist() == [True, False]
        and not res.frames[1].human_edited.any()
    )
