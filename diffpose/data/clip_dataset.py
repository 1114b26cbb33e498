"""The torch Dataset turning :class:`PoseSample` into network inputs and targets.

Each item: ``clip`` (T, 3, H, W) ImageNet-normalised RGB crops sharing the key frame's affine,
``heatmaps`` (K, h, w) Gaussian targets (peak 1), ``keypoints_hm`` (K, 2) targets in heatmap
pixels, ``weights`` (K,) per-joint loss weights (0 for unlabelled joints and joints that fall
outside the crop), ``prior_hm`` (K, 2) and ``prior_scores`` (K,): the detector's pose under the
same affine (zero scores for samples without one), ``others_hm`` (M, K, 2) and
``others_scores`` (M, K): the other persons' poses in the key frame under that affine (zero
scores where none). Static clips (one still image) may get small random motion between copies.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from diffpose.data.priors import MAX_OTHER_PERSONS
from diffpose.data.samples import PoseSample
from diffpose.data.transforms import (
    AugmentConfig,
    apply_affine,
    box_to_crop,
    corrupt_prior,
    crop_affine,
    flip_keypoint_slots,
    half_body_box,
    normalize_clip,
    sample_augmentation,
    warp_frames,
)
from diffpose.heatmaps import keypoints_to_heatmaps
from diffpose.keypoints import NUM_KEYPOINTS


class ClipDataset(Dataset):
    """Top-down clip crops with the paper's augmentation.

    Args:
        samples: the samples.
        crop_hw: crop size (H, W), 256×192 in the paper.
        heatmap_stride: crop pixels per heatmap pixel (4 → 64×48).
        augment: augmentation ranges, or None for evaluation crops.
        sigma: Gaussian sigma in heatmap pixels.
        static_motion_px: largest random shift (crop pixels) between copies of a still image.
        seed: base seed; item i of epoch e draws from ``seed + e * len + i``.
    """

    def __init__(
        self,
        samples: Sequence[PoseSample],
        *,
        crop_hw: tuple[int, int] = (256, 192),
        heatmap_stride: int = 4,
        augment: AugmentConfig | None = None,
        sigma: float = 2.0,
        static_motion_px: float = 4.0,
        seed: int = 0,
    ) -> None:
        self.samples = list(samples)
        self.crop_hw = crop_hw
        self.stride = heatmap_stride
        self.augment = augment
        self.sigma = sigma
        self.static_motion_px = static_motion_px
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Change the augmentation draws (call once per epoch)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.samples)

    def _affine(self, s: PoseSample, rng: np.random.Generator | None):
        rot, scale, flip = 0.0, 1.0, False
        box = s.box_xyxy
        if rng is not None and self.augment is not None:
            rot, scale, flip, half = sample_augmentation(self.augment, rng)
            if half and (s.weights > 0).sum() > self.augment.half_body_min_joints:
                box = half_body_box(s.keypoints_xy, s.weights, rng)
                box = s.box_xyxy if box is None else box
        crop = box_to_crop(box, self.crop_hw)
        return crop_affine(crop, self.crop_hw, rot, scale, flip), flip

    def _read(self, paths: tuple[str, ...]) -> list[np.ndarray]:
        cache: dict[str, np.ndarray] = {}
        for p in paths:
            if p not in cache:
                img = cv2.imread(p, cv2.IMREAD_COLOR)
                if img is None:
                    raise FileNotFoundError(f"{p}: cannot read image")
                cache[p] = img
        return [cache[p] for p in paths]

    def _use_alt_prior(self, s: PoseSample, rng: np.random.Generator | None) -> bool:
        """Whether this draw gives ``s`` its alternative prior (``AugmentConfig.prior_alt_prob``);
        draws nothing when that is off, so the other augmentations stay as they were."""
        if rng is None or self.augment is None or not self.augment.prior_alt_prob:
            return False
        return s.alt_prior_xy is not None and bool(rng.random() < self.augment.prior_alt_prob)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        s = self.samples[index]
        rng = None
        if self.augment is not None:
            rng = np.random.default_rng(self.seed + self.epoch * len(self.samples) + index)
        affine, flip = self._affine(s, rng)
        frames = self._read(s.frame_paths)
        key = len(frames) // 2
        if s.static and rng is not None and self.static_motion_px > 0:
            crops = []
            for t, f in enumerate(frames):
                a = affine.copy()
                if t != key:
                    a[:, 2] += (
                        rng.uniform(-1, 1, 2) * self.static_motion_px * abs(t - key) / max(key, 1)
                    )
                crops.append(warp_frames([f], a, self.crop_hw)[0])
            crops = np.stack(crops)
        else:
            crops = warp_frames(frames, affine, self.crop_hw)
        kp = apply_affine(s.keypoints_xy, affine)
        weights = s.weights.astype(np.float32).copy()
        if flip:
            kp, weights = flip_keypoint_slots(kp, weights)
        h, w = self.crop_hw
        inside = (kp[:, 0] >= 0) & (kp[:, 0] < w) & (kp[:, 1] >= 0) & (kp[:, 1] < h)
        weights = weights * inside
        others_xy, others_scores = self._others(s, affine, flip)
        prior_xy, prior_scores = np.zeros_like(kp), np.zeros(len(kp), np.float32)
        if s.prior_xy is not None:
            src_xy, src_scores = s.prior_xy, s.prior_scores
            if self._use_alt_prior(s, rng):
                src_xy, src_scores = s.alt_prior_xy, s.alt_prior_scores
            prior_xy = apply_affine(src_xy, affine)
            prior_scores = np.asarray(src_scores, np.float32).copy()
            if flip:
                prior_xy, prior_scores = flip_keypoint_slots(prior_xy, prior_scores)
            if rng is not None and self.augment is not None:
                prior_xy, prior_scores = corrupt_prior(
                    prior_xy, prior_scores, self.augment, rng, others_xy, others_scores
                )
        kp_hm = torch.from_numpy((kp / self.stride).astype(np.float32))
        hm_size = (h // self.stride, w // self.stride)
        heatmaps = keypoints_to_heatmaps(kp_hm[None], hm_size, self.sigma)[0]
        return {
            "clip": torch.from_numpy(normalize_clip(crops)),
            "heatmaps": heatmaps,
            "keypoints_hm": kp_hm,
            "weights": torch.from_numpy(weights),
            "prior_hm": torch.from_numpy((prior_xy / self.stride).astype(np.float32)),
            "prior_scores": torch.from_numpy(prior_scores.astype(np.float32)),
            "others_hm": torch.from_numpy((others_xy / self.stride).astype(np.float32)),
            "others_scores": torch.from_numpy(others_scores),
            "index": torch.tensor(index),
        }

    @staticmethod
    def _others(s: PoseSample, affine: np.ndarray, flip: bool) -> tuple[np.ndarray, np.ndarray]:
        """The other persons' poses (M, K, 2) crop px and (M, K) scores under the sample's
        crop (zeros where the sample carries none); never corrupted, as the pipeline gives
        them."""
        xy = np.zeros((MAX_OTHER_PERSONS, NUM_KEYPOINTS, 2), np.float64)
        scores = np.zeros((MAX_OTHER_PERSONS, NUM_KEYPOINTS), np.float32)
        if s.others_xy is None:
            return xy, scores
        m = min(len(s.others_xy), MAX_OTHER_PERSONS)
        xy[:m] = apply_affine(s.others_xy[:m], affine)
        scores[:m] = s.others_scores[:m]
        return flip_keypoint_slots(xy, scores) if flip else (xy, scores)
