"""Records <-> PoseTrack JSON, atomic writes, and evaluation of what we write."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from diffpose.evaluation import evaluate_paths
from diffpose.keypoints import EVALUATED_SLOTS
from diffpose.posetrack_format import PoseTrackFormatError, load_posetrack, vid_id_for
from posetool.io.inputs import IMAGE_FOLDER_FPS
from posetool.io.posetrack_io import (
    atomic_write_text,
    read_posetrack,
    write_posetrack,
)
from posetool.records import FrameRecord, VideoMeta, VideoResult


def test_sample_round_trip_keeps_evaluation_at_100(posetrack_sample, tmp_path):
    gt_dir = posetrack_sample / "annotations" / "val"
    out = tmp_path / "pred"
    out.mkdir()
    for path in sorted(gt_dir.glob("*.json")):
        result = read_posetrack(path)
        assert result.meta.sequence_name == path.stem
        write_posetrack(result, out / path.name)
        again = load_posetrack(out / path.name)
        assert again.frames[0].image_id == load_posetrack(path).frames[0].image_id
    assert evaluate_paths(gt_dir, out, skip_last_frame=False).total_ap == pytest.approx(100.0)


def _result(n_frames=3, name="my video"):
    frames = []
    for i in range(n_frames):
        n = 0 if i == 1 else 2
        frames.append(
            FrameRecord(
                frame_index=i,
                timestamp_s=i / 30,
                boxes_xyxy=np.tile([10, 20, 110, 220], (n, 1)) + np.arange(n)[:, None] * 200,
                box_scores=np.full(n, 0.8),
                track_ids=np.arange(n) + 1,
                keypoints_xy=np.full((n, 17, 2), 50.0),
                keypoint_scores=np.full((n, 17), 0.7),
                keypoint_spread_px=np.full((n, 17), 1.5),
                human_edited=np.array([True, False][:n]),
            )
        )
    meta = VideoMeta(
        path=f"/videos/{name}.mp4", fps=30, frame_count=n_frames, width=640, height=480
    )
    return VideoResult(meta, tuple(frames))


@pytest.mark.parametrize("fmt", ["2018", "2021", "2017"])
def test_every_frame_written_and_extras_survive(tmp_path, fmt):
    path = write_posetrack(_result(), tmp_path / "out.json", fmt=fmt)
    data = json.loads(path.read_text())
    frames = data["annolist"] if fmt == "2017" else data["images"]
    assert len(frames) == 3  # the empty middle frame is present
    back = read_posetrack(path, fps=30)
    assert back.meta.frame_count == 3 and back.frames[1].num_persons == 0
    # The 2017 format has no ear ids; every evaluated slot survives in all formats.
    np.testing.assert_allclose(back.frames[0].keypoints_xy[:, list(EVALUATED_SLOTS)], 50.0)
    if fmt != "2017":
        assert [im["id"] for im in data["images"]] == [
            0,
            1,
            2,
        ]  # no PoseTrack sequence: frame index
        np.testing.assert_allclose(back.frames[2].keypoint_spread_px, 1.5)
        assert back.frames[0].human_edited.tolist() == [True, False]
        np.testing.assert_allclose(back.frames[0].box_scores, 0.8)


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "x.json"
    target.write_text("old")

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["x.json"]


def test_malformed_file_is_named(tmp_path):
    bad = tmp_path / "seq.json"
    bad.write_text(json.dumps({"images": [{"id": 1}], "annotations": []}))
    with pytest.raises(PoseTrackFormatError, match=r"seq.json: images\[0\].file_name: missing"):
        read_posetrack(bad)


def test_atomic_write_respects_umask(tmp_path):
    target = tmp_path / "y.json"
    old = os.umask(0o022)
    try:
        atomic_write_text(target, "{}")
    finally:
        os.umask(old)
    assert target.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("fmt", ["2018", "2021", "2017"])
@pytest.mark.parametrize("name", ["my video", "009473_mpii_test"])
def test_streamed_file_equals_the_whole_video_file(tmp_path, fmt, name):
    from posetool.io.posetrack_stream import PoseTrackStreamWriter

    result = _result(n_frames=4, name=name)
    whole = write_posetrack(result, tmp_path / "whole.json", fmt=fmt)
    old = os.umask(0o022)
    try:
        with PoseTrackStreamWriter(
            tmp_path / "streamed.json",
            result.meta.sequence_name,
            fmt,
            provenance={"writer": "test"},
        ) as out:
            for record in result.frames:
                out.add(record)
            streamed = out.commit()
    finally:
        os.umask(old)
    data = json.loads(streamed.read_text())
    assert data.pop("posetool") == {"writer": "test"}
    assert data == json.loads(whole.read_text())
    assert streamed.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["streamed.json", "whole.json"]


def test_stream_left_unfinished_leaves_nothing(tmp_path):
    from posetool.io.posetrack_stream import PoseTrackStreamWriter

    result = _result()
    with pytest.raises(ValueError, match="frame 2 given, frame 1 expected"):
        with PoseTrackStreamWriter(tmp_path / "x.json", "x") as out:
            out.add(result.frames[0])
            out.add(result.frames[2])
    assert list(tmp_path.iterdir()) == []


def test_a_file_read_without_its_video_is_timed_like_an_image_folder(tmp_path):
    """PoseTrack files carry no frame rate: read alone, frames are as far apart as the
    pipeline and the viewer space an image folder's."""
    back = read_posetrack(write_posetrack(_result(), tmp_path / "out.json"))
    assert back.meta.fps == IMAGE_FOLDER_FPS
    np.testing.assert_allclose(back.meta.timestamps_s, np.arange(3) / IMAGE_FOLDER_FPS)
    assert back.frames[2].timestamp_s == pytest.approx(2 / IMAGE_FOLDER_FPS)


def test_vid_id_is_the_posetrack_number_also_of_a_prefixed_name() -> None:
    """The batch prefixes a clashing stem with its folder (val/009473_mpii_test.mp4 →
    val_009473_mpii_test): the vid_id stays the sequence number."""
    assert vid_id_for("009473_mpii_test") == "009473"
    assert vid_id_for("val_009473_mpii_test") == "009473"
    assert vid_id_for("day1_cam1") == "day1_cam1"


@pytest.mark.parametrize(
    ("name", "vid_id"),
    [("day1_cam1", "day1_cam1"), ("val_009473_mpii_test", "009473"), ("my video", "my video")],
)
@pytest.mark.parametrize("fmt", ["2018", "2017"])
def test_a_file_without_vid_id_reads_by_the_writers_rule(tmp_path, name, vid_id, fmt) -> None:
    """A file that gives no vid_id (a 2017 file never does) gets its frames' folder's by the
    rule posetool writes with: day1_cam1 and day1_cam2 stay two ids, not both "day1"."""
    path = write_posetrack(_result(name=name), tmp_path / "out.json", fmt=fmt)
    data = json.loads(path.read_text())
    if fmt == "2018":
        assert data["images"][0]["vid_id"] == vid_id  # what posetool wrote
        for image in data["images"]:
            del image["vid_id"]
        path.write_text(json.dumps(data))
    assert load_posetrack(path).vid_id == vid_id
