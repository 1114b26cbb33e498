"""A prior corruption drawn per training step: a left/right pair put on one spot.

On the validation video set about one person in eight has both ankles on one foot in the
refined pose, and the refiner inherits it from its prior (YOLO's Pose head on the person's
crop): with the refined pair on one spot, the prior's pair was on one spot as well. The
corruptions of :class:`~diffpose.data.transforms.AugmentConfig` (jitter, drop, a whole-person
swap) never show the refiner that failure, so it learns to copy it. This one moves one joint
of a pair onto its partner, keeping its score, as the detector does.

It is drawn on the keypoint tensors at every step (with the training generator), after the
feature cache, so a cache built without it stays valid.
"""

from __future__ import annotations

import torch

from diffpose.keypoints import FLIP_PAIRS, KEYPOINT_NAMES

__all__ = ["LIMB_PAIRS", "collapse_pairs"]

#: (left slot, right slot) of the elbows, wrists, knees and ankles: the limbs' mirror pairs
LIMB_PAIRS = tuple(
    (left, right)
    for left, right in FLIP_PAIRS
    if KEYPOINT_NAMES[left].removeprefix("left_") in ("elbow", "wrist", "knee", "ankle")
)


def collapse_pairs(
    keypoints_xy: torch.Tensor, prob: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """(B, K, 2) prior keypoints with each sample's every pair of :data:`LIMB_PAIRS` put on
    one spot with ``prob``: one of the two (chosen evenly) moved onto the other. A new
    tensor; the input is left as it is, and nothing is drawn when ``prob`` is 0."""
    if not 0.0 <= prob <= 1.0:
        raise ValueError(f"prob must be in [0, 1], got {prob}")
    if prob == 0.0:
        return keypoints_xy
    b = keypoints_xy.shape[0]
    out = keypoints_xy.clone()
    dev = keypoints_xy.device
    for left, right in LIMB_PAIRS:
        # drawn on the CPU: the training generator is a CPU one, also when training on CUDA
        hit = (torch.rand(b, generator=generator) < prob).to(dev)
        onto_right = (torch.rand(b, generator=generator) < 0.5).to(dev)
        move_left, move_right = hit & onto_right, hit & ~onto_right
        out[move_left, left] = keypoints_xy[move_left, right]
        out[move_right, right] = keypoints_xy[move_right, left]
    return out
