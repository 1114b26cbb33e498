"""bench/own_video_check.py: our hand-made labels are well formed, map to the right PoseTrack
slots, and score as poseval would (a perfect prediction 100, a shifted one lower)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.label_grid import JOINTS
from bench.own_video_check import (
    SLOT_OF,
    VAL_VIDEOS,
    VIDEOS,
    ground_truth,
    label_folder,
    label_frame,
    labelled_frames,
    parse_variant_fields,
    peer_head_joints,
    peer_max_imgsz,
    variant_sections,
)
from diffpose.evaluation import evaluate_videos
from diffpose.evaluation.polygon import points_in_any_polygon
from diffpose.keypoints import KEYPOINT_NAMES
from tests.required import missing_input

#: the reported check's videos and the validation set's: label folder name -> video
ALL_VIDEOS = VIDEOS | VAL_VIDEOS


def test_slots_are_posetrack_slots() -> None:
    assert set(SLOT_OF) == set(JOINTS)
    for name, slot in SLOT_OF.items():
        assert KEYPOINT_NAMES[slot] == name


def test_every_labelled_video_has_labels() -> None:
    assert not set(VIDEOS) & set(VAL_VIDEOS)  # no video both chosen on and reported
    for name in ALL_VIDEOS:
        frames = labelled_frames(name)
        persons = sum(len(label["persons"]) for label in frames.values())
        # at least four frames, or two crowded ones (the HD street scenes)
        assert len(frames) >= 4 or (len(frames) >= 2 and persons >= 8), label_folder(name)


def _make_list(makefile: str, name: str) -> set[str]:
    block = makefile.split(f"\n{name} :=", 1)[1]
    lines = [block.split("\n")[0]]
    while lines[-1].rstrip().endswith("\\"):
        lines.append(block.split("\n")[len(lines)])
    return set(" ".join(lines).replace("\\", " ").split())


def test_the_labelled_videos_are_held_out_of_training() -> None:
    """The check's videos are never trained on (crosswalk is benchmarks-only by its terms,
    PoseTrack's sample is never training data); the validation videos are held out of the
    model that video settings are chosen with (make train-heldout)."""
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    trained = _make_list(makefile, "VIDEOS")
    held_out = _make_list(makefile, "HELDOUT_VIDEOS")
    assert {"dancer_mgt.avi", "mot17_street_mmtracking.mp4"} <= trained  # the list was read
    for video in VIDEOS.values():
        assert video.name not in trained, video
    assert held_out == set(VAL_VIDEOS)


def _frame_size(video: Path, index: int) -> tuple[int, int]:
    if video.is_dir():
        image = cv2.imread(str(sorted(video.glob("*.jpg"))[index]))
    else:
        cap = cv2.VideoCapture(str(video))
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, image = cap.read()
        cap.release()
        assert ok, video
    return image.shape[1], image.shape[0]


@pytest.mark.parametrize("name", sorted(ALL_VIDEOS))
def test_labels_are_inside_their_frame_and_outside_ignore_regions(
    name: str, shared_data: Path
) -> None:
    video = ALL_VIDEOS[name]
    if not video.exists():
        missing_input(f"{video} is absent")
    for index, label in labelled_frames(name).items():
        width, height = _frame_size(video, index)
        check_label_persons(label, width, height, (name, index), min_joints=3)
        for person in label["persons"]:
            x1, y1, x2, y2 = person["head_box"]
            assert x2 > x1 and y2 > y1, (name, index, person["track_id"])


def check_label_persons(
    label: dict, width: int, height: int, where: tuple, min_joints: int
) -> None:
    """A label file's persons (bench/label_grid.py's format) have distinct ids, every joint
    name, at least ``min_joints`` placed joints, all inside the ``width`` × ``height`` image
    (1 px slack) and outside every ignore region."""
    ids = [p["track_id"] for p in label["persons"]]
    assert len(set(ids)) == len(ids), where
    regions = tuple(np.asarray(r, float) for r in label.get("ignore_regions", []))
    for person in label["persons"]:
        at = (*where, person["track_id"])
        assert set(person["keypoints"]) == set(JOINTS), at
        xy = np.array([v for v in person["keypoints"].values() if v is not None], float)
        assert len(xy) >= min_joints, at
        assert (xy >= -1).all() and (xy[:, 0] <= width + 1).all(), at
        assert (xy[:, 1] <= height + 1).all(), at
        if regions:
            assert not points_in_any_polygon(xy, regions).any(), at


def test_label_frame_puts_each_joint_in_its_slot() -> None:
    label = {
        "image": "x.png",
        "persons": [
            {
                "track_id": 7,
                "head_box": [10, 20, 30, 44],
                "keypoints": {
                    n: ([5.0 + k, 50.0] if k != 4 else None) for k, n in enumerate(JOINTS)
                },
            }
        ],
        "ignore_regions": [[[0, 0], [4, 0], [4, 4]]],
    }
    frame = label_frame(3, label)
    assert frame.track_ids.tolist() == [7]
    np.testing.assert_allclose(frame.head_boxes_xywh[0], [10, 20, 20, 24])
    for k, name in enumerate(JOINTS):
        expected = [0.0, 0.0, 0.0] if k == 4 else [5.0 + k, 50.0, 1.0]
        np.testing.assert_allclose(frame.keypoints[0, SLOT_OF[name]], expected)
    assert len(frame.ignore_regions) == 1


def test_ground_truth_scores_itself_100_and_a_shifted_copy_lower() -> None:
    name = "000001_mpiinew_test"
    n = max(labelled_frames(name)) + 1
    gt = ground_truth(name, n)
    perfect = replace(
        gt,
        frames=tuple(replace(f, keypoint_scores=np.ones(f.keypoints.shape[:2])) for f in gt.frames),
    )
    result = evaluate_videos([(name, gt, perfect)])
    assert result.total_ap == pytest.approx(100.0)
    shifted = replace(
        perfect,
        frames=tuple(
            replace(f, keypoints=f.keypoints + np.array([60.0, 0.0, 0.0])) for f in perfect.frames
        ),
    )
    assert evaluate_videos([(name, gt, shifted)]).total_ap < 50.0


def test_peer_head_joints_fill_neck_and_head_top_from_coco_joints() -> None:
    xy = np.zeros((1, 17, 2))
    xy[0, 0] = (50, 20)  # nose
    xy[0, 5], xy[0, 6] = (60, 40), (40, 40)  # shoulders
    scores = np.full((1, 17), 0.9)
    scores[0, 5] = 0.3
    out_xy, out_scores = peer_head_joints(xy, scores)
    np.testing.assert_allclose(out_xy[0, 1], (50, 40))  # neck: the shoulder midpoint
    np.testing.assert_allclose(out_xy[0, 2], (50, 0))  # head top: nose mirrored from the neck
    np.testing.assert_allclose(out_scores[0, :3], (0.9, 0.3, 0.3))
    assert xy[0, 1].tolist() == [0, 0] and scores[0, 1] == 0.9  # inputs untouched


def test_variant_fields_reach_the_pose_or_the_detector_config() -> None:
    from posetool.run.config_file import config_from_dict

    fields = parse_variant_fields(
        "checkpoint=x.safetensors,large_prior_crop_px=0,detector.max_imgsz=960"
    )
    sections = variant_sections(fields)
    pose, detector = sections["pose"], sections["detector"]
    assert pose == {"checkpoint": "x.safetensors", "large_prior_crop_px": 0}
    assert detector == {"max_imgsz": 960}
    cfg = config_from_dict({"pose": {"large_prior_crop_px": 0}, "detector": detector})
    assert cfg.detector.max_imgsz == 960 and cfg.pose.large_prior_crop_px == 0
    assert peer_max_imgsz("peer") == 0 and peer_max_imgsz("peer-1280") == 1280
    with pytest.raises(SystemExit, match="peer-x"):
        peer_max_imgsz("peer-x")
