"""DiffPoseConfig: presets, validation and dict round trip with unknown-key hints."""

from __future__ import annotations

import pytest

from diffpose.config import BackboneConfig, DecoderConfig, DiffPoseConfig, STRLConfig


@pytest.mark.parametrize("preset", ["paper", "cpu", "tiny"])
def test_presets_round_trip(preset):
    cfg = getattr(DiffPoseConfig, preset)()
    assert DiffPoseConfig.from_dict(cfg.to_dict()) == cfg


def test_paper_preset_is_the_papers_setting():
    cfg = DiffPoseConfig.paper()
    assert cfg.delta == 2 and cfg.num_frames == 5 and cfg.image_size == (256, 192)
    b = cfg.backbone
    assert (b.kind, b.vit_embed_dim, b.vit_depth, b.vit_num_heads) == ("vit", 1280, 32, 16)
    assert cfg.diffusion.timesteps == 1000 and cfg.heatmap_size == (64, 48)
    assert DiffPoseConfig.cpu().backbone.kind == "yolo"


def test_unknown_key_gives_did_you_mean():
    data = DiffPoseConfig.tiny().to_dict()
    data["strl"]["dpeth"] = 3
    with pytest.raises(ValueError, match="did you mean 'strl.depth'"):
        DiffPoseConfig.from_dict(data)
    with pytest.raises(ValueError, match="did you mean 'delta'"):
        DiffPoseConfig.from_dict({"detla": 2})


@pytest.mark.parametrize(
    "make",
    [
        lambda: DiffPoseConfig(delta=-1),
        lambda: DiffPoseConfig(image_size=(250, 192)),
        lambda: BackboneConfig(kind="resnet"),
        lambda: BackboneConfig.vit("gigantic"),
        lambda: STRLConfig(dim=30, num_heads=4),
        lambda: DecoderConfig(interaction="attention"),
        lambda: DecoderConfig(scales=2),
        lambda: DiffPoseConfig(strl=STRLConfig(patch_size=5)),
    ],
)
def test_invalid_values_raise_value_error(make):
    with pytest.raises(ValueError):
        make()


def test_configs_are_frozen():
    cfg = DiffPoseConfig.tiny()
    with pytest.raises(AttributeError):
        cfg.delta = 3
