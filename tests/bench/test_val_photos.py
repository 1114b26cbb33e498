"""bench/val_photos.py: the photo validation set's labels are well formed, inside their photos,
held out of the validation refiner's training, and score as PCK should (a perfect prediction
100, a shifted one lower)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import cv2
import numpy as np

from bench.multi_person_photos import PhotoGT, match_by_joints, match_detections, pck_groups
from bench.val_photos import (
    LABELS,
    load_pose_samples_singles,
    load_val_photos,
    photo_path,
    subset_samples,
)
from posetool.training.pseudo_label import still_name
from tests.bench.test_own_video_check import _make_list, check_label_persons
from tests.required import missing_input


def _label_files() -> list[Path]:
    files = sorted(LABELS.glob("*.json"))
    assert len(files) == 22  # 20 COCO photos, bus, zidane
    return files


def test_labels_are_inside_their_photo_and_outside_ignore_regions(shared_data: Path) -> None:
    for label_file in _label_files():
        image = photo_path(label_file.stem, shared_data)
        if not image.is_file():
            missing_input(f"{image} is absent")
        height, width = cv2.imread(str(image)).shape[:2]
        label = json.loads(label_file.read_text())
        check_label_persons(label, width, height, (label_file.name,), min_joints=5)
        for person in label["persons"]:  # the head points lie in the person's own head box
            x1, y1, x2, y2 = person["head_box"]
            pad = 0.25 * max(x2 - x1, y2 - y1)
            for joint in ("nose", "head_top", "head_bottom"):
                point = person["keypoints"][joint]
                if point is not None:
                    where = (label_file.name, person["track_id"], joint)
                    assert x1 - pad <= point[0] <= x2 + pad, where
                    assert y1 - pad <= point[1] <= y2 + pad, where


def test_every_labelled_photo_is_held_out_of_the_validation_refiners_training(
    shared_data: Path,
) -> None:
    """make train pseudo-labels each still under posetool.training.pseudo_label.still_name; make
    train-heldout drops exactly the names `make heldout-names` lists: every labelled photo
    and every validation video, nothing else."""
    root = Path(__file__).resolve().parents[2]
    listed = subprocess.run(
        ["make", "-s", "--no-print-directory", "heldout-names"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    photos = {still_name(photo_path(f.stem, shared_data)) for f in _label_files()}
    videos = _make_list((root / "Makefile").read_text(), "HELDOUT_VIDEOS")
    assert len(listed) == len(set(listed)) == len(photos) + len(videos)
    assert set(listed) == photos | videos
    assert "coco_val2014_people_COCO_val2014_000000000192" in photos  # the naming was read


def test_the_loaded_photos_score_100_against_themselves_and_lower_shifted(
    shared_data: Path,
) -> None:
    if not (shared_data / "images" / "coco_val2014_people").is_dir():
        missing_input(f"{shared_data}/images/coco_val2014_people is absent")
    photos = load_val_photos(data_root=shared_data) + load_pose_samples_singles(shared_data)
    assert sum(len(p.boxes_xyxy) for p in photos) == 45 + 7
    gt = np.concatenate([p.keypoints_xy for p in photos])
    w = np.concatenate([p.weights for p in photos])
    boxes = np.concatenate([p.boxes_xyxy for p in photos])
    assert (w.sum(1) >= 5).all()
    matched = np.ones(len(gt), bool)
    perfect, _ = pck_groups(gt, gt, w, boxes, matched)
    assert perfect["Limbs"] == 100.0
    side = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    shifted, _ = pck_groups(gt + 0.15 * side[:, None, None], gt, w, boxes, matched)
    assert shifted["Limbs"] == 0.0
    missed, _ = pck_groups(gt, gt, w, boxes, np.arange(len(gt)) % 2 == 0)
    assert 0.0 < missed["Limbs"] < 100.0


def test_persons_match_the_detection_holding_most_of_their_joints() -> None:
    """A person labelled on the upper body alone matches the whole-body detection around it,
    though box IoU (the reported photos' matching) finds none; of two boxes holding all its
    joints, the tighter; a detection holding under half of a person's joints is no match."""
    xy = np.zeros((2, 17, 2))
    w = np.zeros((2, 17))
    xy[0, :5] = [[100, 100], [110, 120], [90, 120], [100, 140], [105, 150]]  # upper body
    w[0, :5] = 1
    xy[1, :4] = [[400, 100], [410, 300], [390, 300], [400, 500]]
    w[1, :4] = 1
    boxes = np.array([[80, 90, 130, 400], [380, 90, 420, 250], [50, 50, 140, 420]], float)
    assert match_by_joints(xy, w, boxes).tolist() == [0, -1]  # person 1: 1 of 4 joints
    extent = np.array([[90, 100, 110, 150], [390, 100, 410, 500]], float)
    assert match_detections(extent, boxes)[0] == -1
    assert match_by_joints(xy, w, boxes[[2, 0]]).tolist() == [1, -1]


def test_a_subset_keeps_its_photos_persons_and_their_samples() -> None:
    """photo_samples' arrays run over the labelled persons photo after photo and its samples
    over the matched ones: a subset of photos keeps exactly theirs, in order."""
    photos = [
        PhotoGT(f"p{i}.jpg", "x", np.zeros((n, 17, 2)), np.ones((n, 17)), np.zeros((n, 4)))
        for i, n in enumerate((2, 1, 3))
    ]
    person = np.arange(6.0)
    matched = np.array([True, False, True, True, False, True])
    gt = (person, person * 10, person * 100, matched)
    samples = [f"s{i}" for i in np.flatnonzero(matched)]  # persons 0, 2, 3, 5
    kept, sub = subset_samples(photos, samples, gt, np.array([False, True, True]))
    assert kept == ["s2", "s3", "s5"]
    np.testing.assert_array_equal(sub[0], [2, 3, 4, 5])
    np.testing.assert_array_equal(sub[3], [True, True, False, True])
