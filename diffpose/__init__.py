"""DiffPose: spatio-temporal diffusion model for video-based human pose estimation.

Feng et al., "DiffPose: SpatioTemporal Diffusion Model for Video-Based Human Pose
Estimation", ICCV 2023; which file implements which section: docs/ARCHITECTURE.md.

The public names below are imported lazily so that ``import diffpose`` stays light (no torch).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "DiffPose": "diffpose.model",
    "PoseResult": "diffpose.pose_result",
    "DiffPoseConfig": "diffpose.config",
    "load_checkpoint": "diffpose.checkpoint",
    "save_checkpoint": "diffpose.checkpoint",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'diffpose' has no attribute {name!r}")
