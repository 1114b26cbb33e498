"""The ``--data`` specs of a training run: ``lsp:ROOT[:split]``, ``posetrack:ROOT:split`` (also
for pseudo-labelled video written by ``posetool pseudo-label``), ``coco:JSON:IMAGE_ROOT[:layout]``."""

from __future__ import annotations

from pathlib import Path

from diffpose.data.coco import load_coco_keypoints
from diffpose.data.lsp import load_lsp
from diffpose.data.posetrack import load_posetrack_dataset
from diffpose.data.samples import PoseSample

__all__ = ["load_data_spec"]


def load_data_spec(spec: str, delta: int) -> list[PoseSample]:
    """Samples of one ``--data`` spec (see module docstring)."""
    kind, _, rest = spec.partition(":")
    parts = rest.split(":") if rest else []
    if kind == "lsp" and parts:
        return load_lsp(parts[0], parts[1] if len(parts) > 1 else "train", delta)
    if kind == "posetrack" and len(parts) == 2:
        return load_posetrack_dataset(parts[0], parts[1], delta, source=Path(parts[0]).name)
    if kind == "coco" and len(parts) >= 2:
        return load_coco_keypoints(
            parts[0], parts[1], parts[2] if len(parts) > 2 else "coco17", delta
        )
    raise ValueError(
        f"bad --data spec {spec!r}: use lsp:ROOT[:split], posetrack:ROOT:split, coco:JSON:ROOT[:layout]"
    )
