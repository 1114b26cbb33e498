"""ByteTrackConfig defaults and validation."""

from __future__ import annotations

import dataclasses

import pytest

from trackers import ByteTrackConfig


def test_defaults_follow_ultralytics_bytetrack_yaml():
    cfg = ByteTrackConfig()
    assert (cfg.track_high_thresh, cfg.track_low_thresh, cfg.new_track_thresh) == (0.25, 0.1, 0.25)
    assert cfg.match_thresh == 0.8 and cfg.fuse_score is True
    assert (cfg.second_match_thresh, cfg.unconfirmed_match_thresh) == (0.5, 0.7)
    assert cfg.duplicate_iou_distance == 0.15
    assert cfg.buffer_frames(30) == 30  # ultralytics' track_buffer: 30 at its nominal 30 fps


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ByteTrackConfig().match_thresh = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"track_high_thresh": 1.5},
        {"track_low_thresh": -0.1},
        {"match_thresh": float("nan")},
        {"second_match_thresh": "0.5"},
        {"track_low_thresh": 0.5, "track_high_thresh": 0.4},
        {"track_buffer_s": -1.0},
        {"track_buffer_s": float("inf")},
        {"fuse_score": 1},
    ],
)
def test_out_of_range_values_raise(kwargs):
    with pytest.raises(ValueError):
        ByteTrackConfig(**kwargs)


def test_buffer_in_seconds_follows_fps():
    cfg = ByteTrackConfig(track_buffer_s=2.0)
    assert cfg.buffer_frames(25) == 50
    assert cfg.buffer_frames(50) == 100
    assert ByteTrackConfig(track_buffer_s=0.01).buffer_frames(24) == 1
    assert ByteTrackConfig(track_buffer_s=0.0).buffer_frames(24) == 0
    for fps in (0, -25, float("nan")):
        with pytest.raises(ValueError):
            cfg.buffer_frames(fps)
