"""Top-down crops of tracked persons for DiffPose, and mapping its keypoints back to the image.

Test-time rules (docs/POSETRACK.md): each box is enlarged by 25 % and padded to the crop's
aspect ratio; crops are RGB, ImageNet-normalised for the model; keypoints come back through
the inverse crop affine.

Shape letters: N persons (one affine each), K keypoints, H,W crop.
"""

from __future__ import annotations

import numpy as np

from diffpose.data.transforms import (
    apply_affine,
    box_to_crop,
    crop_affine,
    invert_affine,
    normalize_clip,
    warp_frames,
)

__all__ = ["BOX_ENLARGE", "crop_affines", "crop_to_image", "normalized_crops", "rgb_crops"]

BOX_ENLARGE = 1.25  # docs/POSETRACK.md: boxes enlarged by 25 %


def crop_affines(boxes_xyxy: np.ndarray, crop_hw: tuple[int, int]) -> np.ndarray:
    """(N, 2, 3) float64 image → crop affines, one per (N, 4) box."""
    out = np.zeros((len(boxes_xyxy), 2, 3), np.float64)
    for i, box in enumerate(boxes_xyxy):
        out[i] = crop_affine(box_to_crop(box, crop_hw, BOX_ENLARGE), crop_hw)
    return out


def rgb_crops(frame_bgr: np.ndarray, affines: np.ndarray, crop_hw: tuple[int, int]) -> np.ndarray:
    """(N, H, W, 3) uint8 RGB crops of one BGR frame, one per affine."""
    return np.concatenate([warp_frames([frame_bgr], a, crop_hw) for a in affines])


def normalized_crops(
    frame_bgr: np.ndarray, affines: np.ndarray, crop_hw: tuple[int, int]
) -> np.ndarray:
    """(N, 3, H, W) ImageNet-normalised crops of one BGR frame, one per affine."""
    return normalize_clip(rgb_crops(frame_bgr, affines, crop_hw))


def crop_to_image(keypoints_xy: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, np.float64]:
    """(K, 2) crop px of one person → image px through the inverse of its (2, 3) image → crop
    ``affine``, and the image px per crop px (to scale distances such as the spread; a
    float64 scalar, so that products are computed in float64 as before)."""
    inv = invert_affine(affine)
    return apply_affine(keypoints_xy, inv), np.sqrt(abs(np.linalg.det(inv[:, :2])))
