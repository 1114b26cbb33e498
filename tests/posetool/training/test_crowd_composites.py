"""Crowded LSP training photos (posetool.training.crowd_composites) on LSP's real photos and labels."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from diffpose.data.lsp import load_lsp
from diffpose.data.posetrack import load_posetrack_dataset
from diffpose.keypoints import KEYPOINT_NAMES
from posetool.cli import main
from posetool.training.crowd_composites import (
    SETTINGS_FILE,
    CompositeConfig,
    composite_pair,
    person_mask,
    write_crowd_composites,
)
from tests.required import missing_input

TORSO = [
    KEYPOINT_NAMES.index(n) for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
]


@pytest.fixture(scope="module")
def lsp_root(shared_data):
    root = shared_data / "lsp"
    if not (root / "joints.mat").is_file():
        missing_input(f"{root}/joints.mat is absent")
    return root


@pytest.fixture(scope="module")
def two_photos(lsp_root):
    a, b = load_lsp(lsp_root, "val", delta=0)[:2]
    return (
        (cv2.imread(a.key_frame_path), a),
        (cv2.imread(b.key_frame_path), b),
    )


def _torso_centre(kp: np.ndarray) -> np.ndarray:
    return kp[TORSO].mean(0)


def test_the_mask_covers_the_skeleton_and_not_the_corners(two_photos):
    (img, s), _ = two_photos
    mask = person_mask(s.keypoints_xy, s.weights, img.shape[:2], CompositeConfig())
    x, y = np.round(_torso_centre(s.keypoints_xy)).astype(int)
    assert mask[y, x] == pytest.approx(1.0)
    for yy, xx in ((0, 0), (0, -1), (-1, 0), (-1, -1)):
        assert mask[yy, xx] < 0.5
    assert 0.05 < mask.mean() < 0.8


def test_behind_keeps_the_person_and_in_front_covers_it(two_photos):
    (img, s), (other_img, other) = two_photos
    changed = {}
    for front in (True, False):
        cfg = CompositeConfig(front_prob=1.0 if front else 0.0, offset_heights=(0.0, 0.0))
        out, kp = composite_pair(img, s, other_img, other, cfg, np.random.default_rng(5))
        moved = kp[s.weights > 0] - s.keypoints_xy[s.weights > 0]
        assert np.allclose(moved, moved[0])  # the person moved with the canvas only
        assert out.shape[0] >= img.shape[0] and out.shape[1] >= img.shape[1]
        shift = np.round(moved[0]).astype(int)
        own_mask = person_mask(s.keypoints_xy, s.weights, img.shape[:2], cfg) > 0.99
        region = out[shift[1] : shift[1] + img.shape[0], shift[0] : shift[0] + img.shape[1]]
        diff = np.abs(region.astype(int) - img.astype(int)).max(-1)
        changed[front] = float((diff[own_mask] > 10).mean())
    assert changed[False] < 0.02  # behind: the person's own pixels stay
    assert changed[True] > 0.2  # in front: the pasted person covers much of them


def test_a_split_written_with_half_composited_loads_with_its_real_labels(lsp_root, tmp_path):
    written, composites = write_crowd_composites(
        lsp_root, tmp_path / "crowd", "val", CompositeConfig(share=0.5, seed=1)
    )
    assert written == 100 and 30 <= composites <= 70
    loaded = {s.key_frame_path: s for s in load_posetrack_dataset(tmp_path / "crowd", "train")}
    originals = load_lsp(lsp_root, "val", delta=2)
    assert len(loaded) == len(originals) == 100
    unchanged = 0
    for s in originals:
        name = f"lsp_val_{s.key_frame_path.rsplit('/', 1)[-1][:-4]}"
        got = loaded[str(tmp_path / "crowd" / "images" / name / "000000.jpg")]
        assert len(got.frame_paths) == 5 and len(set(got.frame_paths)) == 1
        lab = s.weights > 0
        assert np.array_equal(got.weights > 0, lab)  # nose and ears stay unlabelled too
        shift = got.keypoints_xy[lab] - s.keypoints_xy[lab]
        assert np.allclose(shift, shift[0], atol=1e-3)  # moved, never distorted
        image = cv2.imread(got.key_frame_path)
        source = cv2.imread(s.key_frame_path)
        if (
            image.shape == source.shape
            and np.abs(image.astype(int) - source.astype(int)).mean() < 3
        ):
            unchanged += 1
        else:  # a composite: another person's pixels beside this one's (outside its own mask)
            grown = np.zeros(image.shape[:2], bool)
            sx, sy = np.round(shift[0]).astype(int)
            grown[sy : sy + source.shape[0], sx : sx + source.shape[1]] = True
            own = person_mask(got.keypoints_xy, got.weights, image.shape[:2], CompositeConfig())
            changed = np.zeros(image.shape[:2], bool)
            region = image[sy : sy + source.shape[0], sx : sx + source.shape[1]]
            changed[grown] = (np.abs(region.astype(int) - source.astype(int)).max(-1) > 40).ravel()
            changed[~grown] = image[~grown].max(-1) > 40
            assert (changed & (own < 0.5)).sum() > 50
    assert unchanged == 100 - composites
    settings = json.loads((tmp_path / "crowd" / SETTINGS_FILE).read_text())
    assert settings["split"] == "val" and settings["seed"] == 1
    assert settings["photos"] == 100 and settings["composites"] == composites


def test_the_same_seed_writes_the_same_set_and_another_seed_another(lsp_root, tmp_path):
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        cfg = CompositeConfig(share=1.0, seed=seed)
        write_crowd_composites(lsp_root, tmp_path / name, "val", cfg)
    images = sorted((tmp_path / "a" / "images").rglob("*.jpg"))
    assert len(images) == 100
    differ = 0
    for path in images:
        rel = path.relative_to(tmp_path / "a")
        a, b, c = (cv2.imread(str(tmp_path / n / rel)) for n in "abc")
        assert np.array_equal(a, b)
        differ += a.shape != c.shape or not np.array_equal(a, c)
        ann = Path("annotations/train") / f"{rel.parent.name}.json"
        assert (tmp_path / "a" / ann).read_text() == (tmp_path / "b" / ann).read_text()
    assert differ > 90


def test_nothing_pasted_comes_from_beyond_the_other_photo(lsp_root, two_photos):
    (img, s), _ = two_photos
    # a person whose cut-out reaches past its photo's border (a joint within 3 px of it)
    other = next(
        o
        for o in load_lsp(lsp_root, "val", delta=0)[2:]
        if (o.keypoints_xy[o.weights > 0].min() < 3)
    )
    white = np.full_like(cv2.imread(other.key_frame_path), 255)  # pasting it only brightens
    for seed in range(20):
        cfg = CompositeConfig(front_prob=1.0)
        out, kp = composite_pair(img, s, white, other, cfg, np.random.default_rng(seed))
        shift = np.round(kp[s.weights > 0][0] - s.keypoints_xy[s.weights > 0][0]).astype(int)
        base = np.zeros_like(out)
        base[shift[1] : shift[1] + img.shape[0], shift[0] : shift[0] + img.shape[1]] = img
        assert (out.astype(int) >= base.astype(int) - 1).all()


def test_a_set_is_replaced_only_when_asked_and_only_if_it_is_one(lsp_root, tmp_path):
    out = tmp_path / "set"
    write_crowd_composites(lsp_root, out, "val", CompositeConfig(share=0.0))
    with pytest.raises(FileExistsError, match="not empty"):
        write_crowd_composites(lsp_root, out, "val", CompositeConfig(share=1.0))
    assert json.loads((out / SETTINGS_FILE).read_text())["share"] == 0.0
    write_crowd_composites(lsp_root, out, "val", CompositeConfig(share=1.0), overwrite=True)
    assert json.loads((out / SETTINGS_FILE).read_text())["composites"] == 100
    assert not (tmp_path / ".set.partial").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("an analyst's file")
    with pytest.raises(FileExistsError, match="not a set"):
        write_crowd_composites(lsp_root, mine, "val", overwrite=True)
    assert (mine / "notes.txt").read_text() == "an analyst's file"
    with pytest.raises(ValueError, match="test half"):
        write_crowd_composites(lsp_root, tmp_path / "t", "test")


def test_the_cli_writes_the_set_and_names_a_missing_lsp(lsp_root, tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        main,
        ["crowd-composites", str(lsp_root), "-o", str(tmp_path / "c"), "--split", "val"],
    )
    assert res.exit_code == 0, res.output
    assert "100 photos" in res.output
    assert len(list((tmp_path / "c" / "annotations" / "train").glob("*.json"))) == 100
    empty = tmp_path / "empty"
    empty.mkdir()
    res = runner.invoke(main, ["crowd-composites", str(empty), "-o", str(tmp_path / "d")])
    assert res.exit_code != 0
    assert "joints.mat" in res.output and str(empty) in res.output


def test_bad_ranges_are_refused():
    with pytest.raises(ValueError, match="share"):
        CompositeConfig(share=1.5)
    with pytest.raises(ValueError, match="height_ratio"):
        CompositeConfig(height_ratio=(1.2, 0.8))
    with pytest.raises(ValueError, match="height_ratio"):
        CompositeConfig(height_ratio=(0.0, 1.0))
