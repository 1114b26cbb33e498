"""The per-joint weighted heatmap loss (Eq. 6), optionally kept to each sample's hardest joints.

Online hard keypoint mining (Chen et al., "Cascaded Pyramid Network", CVPR 2018): with the
detector's pose as the prior most joints are nearly right from the start, so their small
errors fill most of the mean; keeping only each sample's ``hard_joints`` largest weighted
errors spends the gradient on the joints the refiner still has to move (limbs off the body).
"""

from __future__ import annotations

import torch

__all__ = ["joint_weighted_mse"]


def joint_weighted_mse(
    per_joint: torch.Tensor, weights: torch.Tensor, hard_joints: int = 0
) -> torch.Tensor:
    """Σ w·e / Σ w over (B, K) per-joint errors ``per_joint`` and weights ``weights``
    (0 where a joint is unlabelled).

    With ``hard_joints`` = k > 0 only each sample's k largest w·e enter both sums, so a
    sample's easy joints add neither error nor weight; k ≥ K keeps every joint."""
    if per_joint.shape != weights.shape or per_joint.dim() != 2:
        raise ValueError(
            f"per_joint and weights must both be (B, K), got {tuple(per_joint.shape)} "
            f"and {tuple(weights.shape)}"
        )
    if hard_joints < 0:
        raise ValueError(f"hard_joints must be >= 0, got {hard_joints}")
    weighted = per_joint * weights
    if 0 < hard_joints < per_joint.shape[1]:
        weighted, idx = weighted.topk(hard_joints, dim=1)
        weights = weights.gather(1, idx)
    return weighted.sum() / weights.sum().clamp_min(1.0)
