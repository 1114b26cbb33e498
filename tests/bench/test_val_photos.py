"""bench/val_photos.py: the photo validation set's labels are well formed, inside their photos,
held out of the validation refiner's training, and score as PCK should (a perfect prediction
100, a shifted one lower)."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import cv2
import numpy as np

from bench.multi_person_photos import pck_groups
from bench.val_photos import LABELS, load_pose_samples_singles, load_val_photos, photo_path
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
        assert label["image"] == image.name or label["image"] == f"{label_file.stem}.jpg"
        check_label_persons(label, width, height, (label_file.name,), min_joints=5)


def test_every_labelled_photo_is_held_out_of_the_validation_refiners_training() -> None:
    """make train pseudo-labels each still as <folder>_<stem>.json; make train-heldout drops
    the files HELDOUT_PHOTOS matches: every labelled photo must be among them."""
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    patterns = _make_list(makefile, "HELDOUT_PHOTOS")
    pseudo_names = {
        "bus": "assets_bus",
        "zidane": "assets_zidane",
    }
    for label_file in _label_files():
        stem = label_file.stem
        name = pseudo_names.get(stem) or (
            f"coco_val2014_people_COCO_val2014_000000{stem.removeprefix('coco_')}"
        )
        assert any(fnmatch.fnmatchcase(name, p) for p in patterns), (stem, patterns)


def test_the_loaded_photos_score_100_against_themselves_and_lower_shifted(
    shared_data: Path,
) -> None:
    if not (shared_data / "images" / "coco_val2014_people").is_dir():
        missing_input(f"{shared_data}/images/coco_val2014_people is absent")
    photos = load_val_photos(data_root=shared_data) + load_pose_samples_singles(shared_data)
    assert sum(len(p.boxes_xyxy) for p in photos) >= 45 + 7
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
