"""Top-down crops: box → affine → 256×192 clip, and the paper's augmentation (§4.1).

Boxes are enlarged by 25 % and padded to the crop's aspect ratio; every frame of a clip gets
the same affine (the key frame's box). Augmentation as the DiffPose group's loaders: rotation
±45° (probability 0.6), scale 0.65–1.35, half-body 0.3, horizontal flip 0.5 with left/right
pairs swapped. Shape letters: T frames, K keypoints, H,W crop size.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from diffpose.keypoints import FLIP_PAIRS, flip_permutation

IMAGENET_MEAN_RGB = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD_RGB = np.array([0.229, 0.224, 0.225], dtype=np.float32)

#: Upper-body slots for half-body augmentation (head, shoulders, elbows, wrists).
UPPER_BODY_SLOTS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)


@dataclass(frozen=True)
class CropBox:
    """A crop region: centre and size in image pixels (already enlarged and aspect-fixed)."""

    center_xy: tuple[float, float]
    size_wh: tuple[float, float]


def box_to_crop(box_xyxy, crop_hw: tuple[int, int] = (256, 192), enlarge: float = 1.25) -> CropBox:
    """Crop region of a person box: enlarged by ``enlarge`` and padded to the crop aspect."""
    x1, y1, x2, y2 = (float(v) for v in box_xyxy)
    w, h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    aspect = crop_hw[1] / crop_hw[0]
    if w > aspect * h:
        h = w / aspect
    else:
        w = h * aspect
    return CropBox(((x1 + x2) / 2, (y1 + y2) / 2), (w * enlarge, h * enlarge))


def crop_affine(
    crop: CropBox,
    crop_hw: tuple[int, int] = (256, 192),
    rotation_deg: float = 0.0,
    scale: float = 1.0,
    flip: bool = False,
) -> np.ndarray:
    """2×3 affine mapping image pixels to crop pixels.

    ``scale`` > 1 zooms out (the crop covers more of the image). Rotation is counter-clockwise
    in image coordinates. ``flip`` mirrors the crop horizontally.
    """
    out_h, out_w = crop_hw
    cx, cy = crop.center_xy
    sx = out_w / (crop.size_wh[0] * scale)
    sy = out_h / (crop.size_wh[1] * scale)
    theta = np.deg2rad(rotation_deg)
    c, s = np.cos(theta), np.sin(theta)
    # image -> centred -> rotate -> scale -> crop centre
    rot = np.array([[c, s], [-s, c]])
    lin = np.diag([sx, sy]) @ rot
    if flip:
        lin = np.diag([-1.0, 1.0]) @ lin
    offset = np.array([out_w / 2, out_h / 2]) - lin @ np.array([cx, cy])
    return np.concatenate([lin, offset[:, None]], axis=1)


def invert_affine(affine: np.ndarray) -> np.ndarray:
    """Inverse of a 2×3 affine."""
    return cv2.invertAffineTransform(np.asarray(affine, dtype=np.float64))


def apply_affine(points_xy: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Map (..., 2) points with a 2×3 affine."""
    pts = np.asarray(points_xy, dtype=np.float64)
    return pts @ affine[:, :2].T + affine[:, 2]


def warp_frames(
    frames_bgr, affine: np.ndarray, crop_hw: tuple[int, int] = (256, 192)
) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB crops of BGR frames, all with the same affine."""
    out_h, out_w = crop_hw
    crops = [
        cv2.warpAffine(
            f, affine, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
        )
        for f in frames_bgr
    ]
    return np.stack([c[..., ::-1] for c in crops])


def normalize_clip(crops_rgb: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB → (T, 3, H, W) float32 ImageNet-normalised."""
    x = crops_rgb.astype(np.float32) / 255.0
    x = (x - IMAGENET_MEAN_RGB) / IMAGENET_STD_RGB
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def normalize_clip_tensor(crops_rgb):
    """:func:`normalize_clip` in torch: (T, H, W, 3) uint8 tensor → (T, 3, H, W) float32 on the
    tensor's device, using torch's threads (the inference path)."""
    import torch

    mean = torch.as_tensor(IMAGENET_MEAN_RGB, device=crops_rgb.device).view(1, 3, 1, 1)
    std = torch.as_tensor(IMAGENET_STD_RGB, device=crops_rgb.device).view(1, 3, 1, 1)
    x = crops_rgb.permute(0, 3, 1, 2).float().div_(255.0)
    return x.sub_(mean).div_(std).contiguous()


@dataclass(frozen=True)
class AugmentConfig:
    """Augmentation ranges (DiffPose/DCPose defaults).

    The ``prior_*`` settings corrupt the detector's pose a refining model is given (never the
    target), so that it learns to correct a wrong prior from the image rather than copy it:
    each joint is moved with ``prior_jitter_prob`` (Gaussian, ``prior_jitter_px`` crop pixels
    per axis) or dropped (score 0) with ``prior_drop_prob``; a whole person's left and right
    are swapped with ``prior_swap_prob``; with ``prior_capture_prob`` a joint is taken from
    the nearest other person who has it (``PoseSample.others_xy``: the prior on a neighbour's
    wrist, as the detector errs in crowds). With ``prior_alt_prob`` a sample that carries another
    pose of the detector (``PoseSample.alt_prior_xy``) is given that one instead, before the
    corruptions, so that one refiner learns to correct either pose. All 0 (off) by default.
    """

    rotation_deg: float = 45.0
    rotation_prob: float = 0.6
    scale_factor: float = 0.35
    flip_prob: float = 0.5
    half_body_prob: float = 0.3
    half_body_min_joints: int = 8
    prior_jitter_prob: float = 0.0
    prior_jitter_px: float = 12.0
    prior_drop_prob: float = 0.0
    prior_swap_prob: float = 0.0
    prior_alt_prob: float = 0.0
    prior_capture_prob: float = 0.0

    def __post_init__(self) -> None:
        if self.prior_jitter_px < 0:
            raise ValueError(f"prior_jitter_px must be >= 0, got {self.prior_jitter_px}")
        for name in ("rotation_prob", "flip_prob", "half_body_prob", "prior_jitter_prob",
                     "prior_drop_prob", "prior_swap_prob", "prior_alt_prob",
                     "prior_capture_prob"):  # fmt: skip
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if not 0.0 <= self.scale_factor < 1.0:
            raise ValueError(f"scale_factor must be in [0, 1), got {self.scale_factor}")
        if self.rotation_deg < 0:
            raise ValueError(f"rotation_deg must be >= 0, got {self.rotation_deg}")


def corrupt_prior(keypoints_xy: np.ndarray, scores: np.ndarray, cfg: AugmentConfig,
                  rng: np.random.Generator, others_xy: np.ndarray | None = None,
                  others_scores: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The prior pose (K, 2) crop px and (K,) scores with :class:`AugmentConfig`'s prior
    corruptions drawn from ``rng``; unchanged (and nothing drawn) when they are all off.
    ``others_xy`` (M, K, 2) and ``others_scores`` (M, K), nearest first: the other persons'
    poses ``prior_capture_prob`` takes joints from (a slot no other person has stays; a
    joint dropped above may come back as a neighbour's, as a detector errs)."""
    capture = cfg.prior_capture_prob and others_xy is not None and len(others_xy)
    if not (cfg.prior_jitter_prob or cfg.prior_drop_prob or cfg.prior_swap_prob or capture):
        return keypoints_xy, scores
    xy, sc = keypoints_xy.copy(), scores.copy()
    k = len(sc)
    moved = rng.random(k) < cfg.prior_jitter_prob
    xy[moved] += rng.normal(0.0, cfg.prior_jitter_px, (int(moved.sum()), 2))
    sc[rng.random(k) < cfg.prior_drop_prob] = 0.0
    if rng.random() < cfg.prior_swap_prob:
        xy, sc = flip_keypoint_slots(xy, sc)
    if capture:
        has = others_scores > 0  # (M, K): who has which joint
        nearest = np.argmax(has, axis=0)  # the first (nearest) other person with the slot
        taken = (rng.random(k) < cfg.prior_capture_prob) & has.any(axis=0)
        xy[taken] = others_xy[nearest[taken], np.flatnonzero(taken)]
        sc[taken] = others_scores[nearest[taken], np.flatnonzero(taken)]
    return xy, sc


def half_body_box(keypoints_xy: np.ndarray, weights: np.ndarray, rng: np.random.Generator):
    """A box around the upper or the lower body's labelled joints, or None if too few."""
    labelled = np.flatnonzero(weights > 0)
    upper = [k for k in labelled if k in UPPER_BODY_SLOTS]
    lower = [k for k in labelled if k not in UPPER_BODY_SLOTS]
    part = upper if (rng.random() < 0.5 and len(upper) > 2) or len(lower) <= 2 else lower
    if len(part) < 2:
        return None
    pts = keypoints_xy[part]
    (x1, y1), (x2, y2) = pts.min(0), pts.max(0)
    cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) * 1.5, (y2 - y1) * 1.5
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def sample_augmentation(
    cfg: AugmentConfig, rng: np.random.Generator
) -> tuple[float, float, bool, bool]:
    """(rotation_deg, scale, flip, half_body) drawn as the reference loaders do."""
    sf = cfg.scale_factor
    scale = float(np.clip(rng.standard_normal() * sf + 1.0, 1.0 - sf, 1.0 + sf))
    rot = 0.0
    if rng.random() < cfg.rotation_prob:
        rot = float(
            np.clip(
                rng.standard_normal() * cfg.rotation_deg / 2, -cfg.rotation_deg, cfg.rotation_deg
            )
        )
    flip = bool(rng.random() < cfg.flip_prob)
    half = bool(rng.random() < cfg.half_body_prob)
    return rot, scale, flip, half


def flip_keypoint_slots(
    keypoints: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Swap left/right slots after a horizontal flip of the image."""
    perm = list(flip_permutation())
    return keypoints[..., perm, :], weights[..., perm]


__all__ = [
    "FLIP_PAIRS",
    "AugmentConfig",
    "CropBox",
    "apply_affine",
    "box_to_crop",
    "crop_affine",
    "flip_keypoint_slots",
    "half_body_box",
    "invert_affine",
    "normalize_clip",
    "sample_augmentation",
    "warp_frames",
]
