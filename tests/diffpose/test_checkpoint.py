"""Checkpoint round trip and clear errors on corrupt or mismatched files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from diffpose.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from diffpose.config import DiffPoseConfig, STRLConfig
from diffpose.model import DiffPose


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    torch.manual_seed(0)
    model = DiffPose.from_config(DiffPoseConfig.tiny(delta=1))
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    save_checkpoint(model, path, extra={"epoch": 3})
    return model, path


def test_round_trip_gives_identical_predictions(saved):
    model, path = saved
    loaded = load_checkpoint(path)
    assert loaded.config == model.config
    clips = torch.randn(2, 3, 3, 256, 192)
    a = model.predict(clips, 2, 3, torch.Generator().manual_seed(0))
    b = loaded.predict(clips, 2, 3, torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(a.keypoints_xy, b.keypoints_xy)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert read_checkpoint(path)[2]["extra.epoch"] == "3"


def test_corrupt_file_names_the_file(saved, tmp_path):
    _, path = saved
    bad = tmp_path / "bad.safetensors"
    data = path.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="bad.safetensors"):
        load_checkpoint(bad)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="junk.safetensors"):
        load_checkpoint(junk)
    with pytest.raises(FileNotFoundError, match="missing.safetensors"):
        load_checkpoint(tmp_path / "missing.safetensors")


def test_config_weight_mismatch_is_reported(saved, tmp_path):
    from safetensors import safe_open
    from safetensors.torch import save_file

    _, path = saved
    with safe_open(str(path), framework="pt") as f:
        meta = dict(f.metadata())
        state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    cfg = DiffPoseConfig.from_dict(json.loads(meta["config"]))
    other = cfg.__class__(
        **{**cfg.__dict__, "strl": STRLConfig(**{**cfg.strl.__dict__, "dim": 64})}
    )
    meta["config"] = json.dumps(other.to_dict())
    wrong = tmp_path / "mismatch.safetensors"
    save_file(state, str(wrong), metadata=meta)
    with pytest.raises(ValueError, match=r"mismatch\.safetensors: weights do not match"):
        load_checkpoint(wrong)
    del state["decoder.head.weight"]
    meta["config"] = json.dumps(cfg.to_dict())
    save_file(state, str(wrong), metadata=meta)
    with pytest.raises(ValueError, match="1 missing"):
        load_checkpoint(wrong)


def test_foreign_safetensors_is_rejected(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(ValueError, match="not a DiffPose checkpoint"):
        load_checkpoint(path)
