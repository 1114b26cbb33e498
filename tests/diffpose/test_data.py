"""Training data: loaders on the real datasets and the clip crops' geometry."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from diffpose.data.clip_dataset import ClipDataset
from diffpose.data.coco import load_coco_keypoints
from diffpose.data.lsp import load_lsp
from diffpose.data.posetrack import load_posetrack_dataset
from diffpose.data.samples import window
from diffpose.data.transforms import (
    AugmentConfig,
    apply_affine,
    box_to_crop,
    crop_affine,
    invert_affine,
)
from diffpose.keypoints import KEYPOINT_NAMES

NO_AUG = dict(rotation_prob=0.0, scale_factor=0.0, half_body_prob=0.0)


def test_window_repeats_key_frame_at_ends():
    paths = ["a", "b", "c", "d"]
    assert window(paths, 0, 2) == ("a", "a", "a", "b", "c")
    assert window(paths, 3, 1) == ("c", "d", "d")


def test_lsp_split_and_joints(shared_data):
    train, test = load_lsp(shared_data / "lsp", "train"), load_lsp(shared_data / "lsp", "test")
    assert len(train) == 1000 and len(test) == 1000
    s = train[0]
    assert s.static and len(set(s.frame_paths)) == 1 and len(s.frame_paths) == 5
    labelled = {KEYPOINT_NAMES[k] for k in np.flatnonzero(s.weights)}
    assert "head_top" in labelled and "head_bottom" in labelled and "nose" not in labelled
    assert len(labelled) == 14
    # head above the ankles in this upright runner
    assert s.keypoints_xy[2, 1] < s.keypoints_xy[16, 1]


def test_posetrack_loader_on_sample(posetrack_sample):
    samples = load_posetrack_dataset(posetrack_sample, "val", delta=2)
    assert len(samples) == 14
    assert all(len(set(s.frame_paths)) == 1 for s in samples)  # one labelled frame: key repeated
    assert all(s.weights[3] == 0 and s.weights[4] == 0 for s in samples)  # ears never labelled


def test_coco_style_loader(shared_data):
    folder = shared_data / "pose_samples" / "humanart"
    samples = load_coco_keypoints(folder / "test_humanart.json", folder, layout="coco17", delta=1)
    assert samples and all(len(s.frame_paths) == 3 and s.static for s in samples)
    assert all(
        s.weights[1] == 0 and s.weights[2] == 0 for s in samples
    )  # COCO has no neck/head top
    mpii = shared_data / "pose_samples" / "mpii" / "test_mpii.json"  # mmpose's own MPII layout
    with pytest.raises(ValueError, match="test_mpii.json: not a COCO-style"):
        load_coco_keypoints(mpii, mpii.parent, layout="mpii16")


def test_affine_round_trip():
    crop = box_to_crop([100, 50, 200, 350])
    a = crop_affine(crop, rotation_deg=30, scale=1.2, flip=True)
    pts = np.array([[120.0, 80.0], [190.0, 300.0]])
    np.testing.assert_allclose(apply_affine(apply_affine(pts, a), invert_affine(a)), pts, atol=1e-9)
    centre = apply_affine(np.array([[150.0, 200.0]]), crop_affine(crop))
    np.testing.assert_allclose(centre, [[96.0, 128.0]])


def test_clip_item_targets_match_crops(shared_data):
    samples = load_lsp(shared_data / "lsp", "train")[:4]
    ds = ClipDataset(samples, augment=AugmentConfig(flip_prob=0.0, **NO_AUG), seed=3)
    item = ds[0]
    assert item["clip"].shape == (5, 3, 256, 192) and item["heatmaps"].shape == (17, 64, 48)
    w = item["weights"] > 0
    peaks = item["heatmaps"].flatten(1).argmax(1)
    peak_xy = torch.stack([peaks % 48, peaks // 48], 1).float()
    assert torch.allclose(peak_xy[w], item["keypoints_hm"][w].round(), atol=1.0)
    assert float(item["clip"].mean().abs()) < 3.0  # ImageNet-normalised


def test_flip_swaps_left_and_right(shared_data):
    samples = load_lsp(shared_data / "lsp", "train")[:1]
    plain = ClipDataset(samples, augment=AugmentConfig(flip_prob=0.0, **NO_AUG))[0]
    flipped = ClipDataset(samples, augment=AugmentConfig(flip_prob=1.0, **NO_AUG))[0]
    ls, rs = KEYPOINT_NAMES.index("left_shoulder"), KEYPOINT_NAMES.index("right_shoulder")
    width_hm = 192 / 4
    f_kp, p_kp = flipped["keypoints_hm"].numpy(), plain["keypoints_hm"].numpy()
    assert f_kp[ls, 0] == pytest.approx(width_hm - p_kp[rs, 0], abs=1e-4)
    assert f_kp[ls, 1] == pytest.approx(p_kp[rs, 1], abs=1e-4)
    # the image itself is mirrored (up to one pixel of resampling)
    diff = (flipped["clip"][2, :, :, 2:-2] - plain["clip"][2].flip(-1)[:, :, 2:-2]).abs().mean()
    assert float(diff) < 0.15


def test_augmentation_is_seeded(shared_data):
    samples = load_lsp(shared_data / "lsp", "train")[:2]
    a = ClipDataset(samples, augment=AugmentConfig(), seed=7)[1]
    b = ClipDataset(samples, augment=AugmentConfig(), seed=7)[1]
    torch.testing.assert_close(a["clip"], b["clip"])
    with pytest.raises(ValueError):
        AugmentConfig(flip_prob=2.0)


def test_normalize_clip_tensor_matches_numpy() -> None:
    import torch

    from diffpose.data.transforms import normalize_clip, normalize_clip_tensor

    crops = np.random.default_rng(0).integers(0, 256, (3, 16, 12, 3), dtype=np.uint8)
    out = normalize_clip_tensor(torch.from_numpy(crops))
    assert out.shape == (3, 3, 16, 12) and out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), normalize_clip(crops), rtol=1e-6, atol=1e-6)
