"""PoseTrack 2017/2018/2021 parsing (diffpose.posetrack_format), writing
(diffpose.posetrack_writer) and conversion on the real sample files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from diffpose.keypoints import NUM_KEYPOINTS
from diffpose.posetrack_format import (
    PoseTrackFormatError,
    frame_id_for,
    load_posetrack,
    parse_posetrack,
)
from diffpose.posetrack_writer import to_posetrack17, to_posetrack18


def test_frame_id_rule():
    assert frame_id_for("009473_mpii_test", 0) == 10094730000
    assert frame_id_for("000001_mpiinew_test", 7) == 30000010007
    assert frame_id_for("024156_bonn_train", 12) == 20241560012
    assert frame_id_for("dancer_mgt", 3) is None


def test_reads_sample_and_round_trips_all_formats(posetrack_sample):
    for path in sorted((posetrack_sample / "annotations" / "val").glob("*.json")):
        video = load_posetrack(path)
        assert video.fmt == "2018" and video.num_frames == 1
        fr = video.frames[0]
        assert fr.image_id == frame_id_for(path.stem, 0)
        assert fr.keypoints.shape == (fr.num_persons, NUM_KEYPOINTS, 3)
        for fmt in ("2018", "2021"):
            again = parse_posetrack(json.loads(json.dumps(to_posetrack18(video, fmt))))
            assert again.fmt == fmt
            np.testing.assert_array_equal(again.frames[0].keypoints, fr.keypoints)
            np.testing.assert_array_equal(again.frames[0].track_ids, fr.track_ids)
            np.testing.assert_array_equal(again.frames[0].head_boxes_xywh, fr.head_boxes_xywh)
            assert len(again.frames[0].ignore_regions) == len(fr.ignore_regions)
        old = parse_posetrack(json.loads(json.dumps(to_posetrack17(video))))
        assert old.fmt == "2017" and old.frames[0].image_id == fr.image_id
        present = fr.present()
        np.testing.assert_allclose(old.frames[0].keypoints[present], fr.keypoints[present])
        np.testing.assert_allclose(old.frames[0].head_boxes_xywh, fr.head_boxes_xywh)


def test_writer_emits_every_frame_and_categories():
    video = parse_posetrack(
        {
            "images": [{"id": i, "file_name": f"images/v/{i:06d}.jpg"} for i in range(4)],
            "annotations": [],
        }
    )
    out = to_posetrack18(video)
    assert [im["id"] for im in out["images"]] == [0, 1, 2, 3]
    assert all(im["nframes"] == 4 for im in out["images"])
    assert len(out["categories"][0]["keypoints"]) == 17


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("images"), "annolist"),
        (lambda d: d["annotations"][0].pop("keypoints"), "annotations[0].keypoints"),
        (lambda d: d["annotations"][0]["keypoints"].pop(), "annotations[0].keypoints"),
        (lambda d: d["annotations"][0].pop("track_id"), "annotations[0].track_id"),
        (lambda d: d["images"][0].pop("file_name"), "images[0].file_name"),
        (lambda d: d["annotations"][0].update(bbox_head=[1, 2]), "annotations[0].bbox_head"),
    ],
)
def test_malformed_input_names_file_and_field(posetrack_sample, tmp_path, mutate, field):
    src = posetrack_sample / "annotations" / "val" / "009473_mpii_test.json"
    data = json.loads(src.read_text())
    mutate(data)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(PoseTrackFormatError) as info:
        load_posetrack(bad)
    assert str(bad) in str(info.value) and field in str(info.value)


def test_not_json(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"images": [')
    with pytest.raises(PoseTrackFormatError, match="broken.json.*not valid JSON"):
        load_posetrack(bad)


def test_posetrack17_joint_order():
    data = {
        "annolist": [
            {
                "image": [{"name": "images/bonn/000001_bonn/00000001.jpg"}],
                "imgnum": [1],
                "annorect": [
                    {
                        "x1": [10],
                        "y1": [20],
                        "x2": [30],
                        "y2": [50],
                        "track_id": [3],
                        "annopoints": [
                            {
                                "point": [
                                    {"id": [0], "x": [5], "y": [6], "score": [0.9]},
                                    {"id": [13], "x": [7], "y": [8]},
                                    {"id": [12], "x": [9], "y": [10]},
                                ]
                            }
                        ],
                    }
                ],
            }
        ]
    }
    fr = parse_posetrack(data).frames[0]
    assert fr.keypoints[0, 16].tolist() == [5, 6, 1]  # right_ankle
    assert fr.keypoints[0, 0].tolist() == [7, 8, 1]  # nose
    assert fr.keypoints[0, 1].tolist() == [9, 10, 1]  # neck = head_bottom
    assert fr.keypoint_scores[0, 16] == pytest.approx(0.9) and np.isnan(fr.keypoint_scores[0, 0])
    assert fr.head_boxes_xywh[0].tolist() == [10, 20, 20, 30]
    assert fr.track_ids.tolist() == [3]
