"""Crop priors of dataset samples, made as the pipeline makes them (:mod:`posetool.run.crop_priors`):
each sample's key frame cropped around its box, YOLO's Pose head run on the crop, the rule
and the larger or resized re-runs applied; for training files (``posetool detector-priors
--crop``), fine-tuning and the benches.

Shape letters: S samples, K = 17 PoseTrack slots, M other persons.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from diffpose.data.priors import save_priors, with_priors
from diffpose.data.samples import PoseSample
from posetool.run.crop_priors import (
    choose_prior,
    crop_pose_priors,
    crop_sees_more,
    rule_prior_reruns,
)
from posetool.run.detector import PersonDetector
from posetool.run.detector_priors import sample_priors_and_others
from posetool.run.pose_crops import crop_affines, rgb_crops

__all__ = ["detection_then_crop_priors", "sample_crop_priors", "write_sample_crop_priors"]

LOG = logging.getLogger(__name__)


def sample_crop_priors(
    samples: Sequence[PoseSample],
    backbone,
    detector_imgsz: int,
    crop_hw: tuple[int, int] = (256, 192),
    batch_size: int = 32,
    large_crop_px: int = 0,
    max_crop_px: int = 0,
    prior_crop_px: int = 0,
    prior_crop_max_upscale: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crop priors of ``samples``: each key frame cropped around the sample's box as the
    pipeline crops a person, the YOLO ``backbone``'s Pose head run on it (float32); a
    sample's own ``prior_xy`` / ``prior_scores`` (the whole-frame detection's, made at
    ``detector_imgsz``) stand in where the head finds no one or the detector saw the person
    at more pixels (:func:`crop_sees_more`). With ``large_crop_px`` (the pipeline's
    ``PoseConfig.large_prior_crop_px``), the head re-runs on a crop that large for those
    persons, as the pipeline does (:func:`large_crop_priors`; ``max_crop_px`` as there).
    With ``prior_crop_px`` (``PoseConfig.prior_crop_px``), a person whose prior is its crop
    pose gets it from a crop that tall instead (:func:`resized_crop_priors`; with
    ``prior_crop_max_upscale``, only where that crop enlarges it at most so much).

    Returns:
        (S, K, 2) image px, (S, K) scores and (S,) whether the crop's own pose was used.
    """
    import torch

    xy = np.zeros((len(samples), 17, 2), np.float32)
    scores = np.zeros((len(samples), 17), np.float32)
    found = np.zeros(len(samples), bool)
    for start in range(0, len(samples), batch_size):
        chunk = samples[start : start + batch_size]
        boxes = np.stack([np.asarray(s.box_xyxy, np.float32) for s in chunk])
        affines = crop_affines(boxes, crop_hw)
        crops, use_crop, images = [], [], {}  # a frame with several persons is read once
        for s, a in zip(chunk, affines, strict=True):
            image = images.get(s.key_frame_path)
            if image is None:
                image = cv2.imread(s.key_frame_path, cv2.IMREAD_COLOR)
                if image is None:
                    raise FileNotFoundError(f"{s.key_frame_path}: cannot read image")
                images[s.key_frame_path] = image
            crops.append(rgb_crops(image, a[None], crop_hw))
            use_crop.append(crop_sees_more(a[None], image.shape[:2], detector_imgsz)[0])
        with torch.no_grad():
            crops_rgb = torch.from_numpy(np.concatenate(crops))
            _, pose = backbone.forward_rgb_pose(crops_rgb, torch.float32)
        fallbacks = [_prior_or_zero(s) for s in chunk]
        fallback_xy = np.stack([xy for xy, _ in fallbacks])
        fallback_sc = np.stack([sc for _, sc in fallbacks])
        rows = slice(start, start + len(chunk))
        crop_xy, crop_sc, head_found = crop_pose_priors(pose, affines, boxes)
        use_crop = np.asarray(use_crop)
        xy[rows], scores[rows] = choose_prior(
            crop_xy, crop_sc, head_found, fallback_xy, fallback_sc, use_crop, "rule"
        )
        found[rows] = head_found & use_crop
        xy[rows], scores[rows], larger = rule_prior_reruns(
            [images[s.key_frame_path] for s in chunk],
            boxes,
            xy[rows],
            scores[rows],
            found[rows],
            use_crop,
            detector_imgsz,
            lambda crops: backbone.forward_rgb_pose(crops, torch.float32)[1],
            large_crop_px=large_crop_px,
            max_crop_px=max_crop_px,
            prior_crop_px=prior_crop_px,
            prior_crop_max_upscale=prior_crop_max_upscale,
        )
        found[rows] |= larger
        if (start // batch_size + 1) % 20 == 0:
            LOG.info("crop priors: %d/%d samples", start + len(chunk), len(samples))
    return xy, scores, found


def _prior_or_zero(sample: PoseSample) -> tuple[np.ndarray, np.ndarray]:
    if sample.prior_xy is None:
        return np.zeros((17, 2), np.float32), np.zeros(17, np.float32)
    return np.asarray(sample.prior_xy, np.float32), np.asarray(sample.prior_scores, np.float32)


def detection_then_crop_priors(
    samples: Sequence[PoseSample],
    detector: PersonDetector,
    large_crop_px: int = 0,
    prior_crop_px: int = 0,
    prior_crop_max_upscale: float = 0.0,
    max_crop_px: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The crop priors of ``samples`` as the pipeline makes them: the whole-frame detection's
    pose (:func:`posetool.run.detector_priors.sample_priors`) as the stand-in, then the Pose head
    on each sample's crop (:func:`sample_crop_priors`, float32; with ``large_crop_px`` also
    on a larger crop where that one holds fewer pixels than the detector's input, and up
    to ``max_crop_px`` sized per person; with ``prior_crop_px``, the crop pose from a crop
    that tall where it enlarges the person at most ``prior_crop_max_upscale`` times).

    Returns:
        (S, K, 2) image px, (S, K) scores, (S, 4) matched detection boxes (NaN where none),
        (S,) whether the crop's own pose was used, and the others' poses of the frame's
        other detections (:func:`posetool.run.detector_priors.sample_priors_and_others`):
        (S, M, K, 2) image px and (S, M, K) scores.
    """
    from diffpose.backbones import build_yolo_backbone

    det_xy, det_scores, det_boxes, others_xy, others_scores = sample_priors_and_others(
        samples, detector
    )
    backbone = build_yolo_backbone(pose_head=True).eval()
    xy, scores, found = sample_crop_priors(
        with_priors(samples, det_xy, det_scores),
        backbone,
        detector.config.imgsz,
        large_crop_px=large_crop_px,
        max_crop_px=max_crop_px,
        prior_crop_px=prior_crop_px,
        prior_crop_max_upscale=prior_crop_max_upscale,
    )
    return xy, scores, det_boxes, found, others_xy, others_scores


def write_sample_crop_priors(
    samples: Sequence[PoseSample],
    detector: PersonDetector,
    out_path: str | Path,
    large_crop_px: int = 0,
    prior_crop_px: int = 0,
    prior_crop_max_upscale: float = 0.0,
    max_crop_px: int = 0,
) -> tuple[int, int]:
    """Compute and save the crop priors of ``samples`` (``large_crop_px``, ``prior_crop_px``,
    ``prior_crop_max_upscale``, ``max_crop_px``: as :func:`detection_then_crop_priors`);
    returns how many matched a detection and how many had a crop pose."""
    xy, scores, det_boxes, found, others_xy, others_scores = detection_then_crop_priors(
        samples, detector, large_crop_px, prior_crop_px, prior_crop_max_upscale, max_crop_px
    )
    save_priors(out_path, samples, xy, scores, source="crop", others=(others_xy, others_scores))
    return int(np.isfinite(det_boxes[:, 0]).sum()), int(found.sum())
