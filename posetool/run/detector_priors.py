"""The detector's own pose of each training or evaluation sample (for refining models).

A DiffPose that refines the detector's pose (``DecoderConfig.prior``) is trained and scored
on what the pipeline gives it: YOLO11n-pose run on the whole frame at the pipeline's size,
its detection that overlaps the sample's person box most (IoU ≥ ``min_iou``), that detection's
13 COCO joints in the PoseTrack slots they share. A sample no detection overlaps gets a
zero-score prior (the model then estimates the pose on its own, as the pipeline never asks
it to). :func:`detections_prior` is the one mapping from :class:`Detections` to the prior
for both the pipeline and these files. The files also carry each sample's others: the poses
of the frame's other detections, nearest first (:func:`nearest_others`), for refiners told
where everyone else's joints are (``decoder.prior_others``).

Shape letters: S samples, N detections, M = ``MAX_OTHER_PERSONS``, K = 17 PoseTrack slots.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from diffpose.data.priors import MAX_OTHER_PERSONS, save_priors
from diffpose.data.samples import PoseSample
from diffpose.keypoints import COCO17_SHARED_EVALUATED, NUM_KEYPOINTS
from posetool.run.detector import Detections, DetectorConfig, PersonDetector
from trackers.matching import iou_matrix

__all__ = [
    "detections_prior",
    "nearest_others",
    "priors_detector",
    "sample_priors",
    "sample_priors_and_others",
    "write_sample_priors",
]

LOG = logging.getLogger(__name__)


def detections_prior(
    keypoints_xy: np.ndarray, keypoint_scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(N, 17, 2) COCO keypoints and (N, 17) confidences → PoseTrack slots (N, K, 2), (N, K).

    Only the 13 joints both layouts share and PoseTrack evaluates are carried; head_bottom,
    head_top and the ear placeholders get score 0.
    """
    kp = np.asarray(keypoints_xy, np.float32).reshape(-1, 17, 2)
    sc = np.asarray(keypoint_scores, np.float32).reshape(-1, 17)
    xy = np.zeros((len(kp), NUM_KEYPOINTS, 2), np.float32)
    scores = np.zeros((len(kp), NUM_KEYPOINTS), np.float32)
    shared = list(COCO17_SHARED_EVALUATED)  # the same slot index in both layouts
    xy[:, shared] = kp[:, shared]
    scores[:, shared] = np.nan_to_num(sc[:, shared]).clip(0.0, 1.0)
    return xy, scores


def priors_detector(imgsz: int | None = None, max_imgsz: int = 0) -> PersonDetector:
    """The detector that makes training and evaluation priors: the pipeline's settings
    (``imgsz`` defaults to its size), keypoints on, float32 so the files are reproducible.
    ``max_imgsz`` (:class:`DetectorConfig`): 0, a fixed input size, as the shipped
    refiner's training priors were made; the pipeline's to make priors as a run does."""
    from posetool.run.pipeline_config import PipelineConfig

    base = PipelineConfig().detector
    return PersonDetector(DetectorConfig(imgsz=imgsz or base.imgsz, max_imgsz=max_imgsz,
                                         conf=base.conf, iou=base.iou,
                                         precision="fp32"))  # fmt: skip


def nearest_others(
    box_xyxy: np.ndarray,
    boxes_xyxy: np.ndarray,
    xy: np.ndarray,
    scores: np.ndarray,
    exclude: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The poses of the persons other than row ``exclude`` (the person's own), the
    :data:`MAX_OTHER_PERSONS` whose box centres lie nearest ``box_xyxy``'s: (M, K, 2) image px
    and (M, K) scores, padded with zero scores.

    Args:
        box_xyxy: (4,) the person's box.
        boxes_xyxy, xy, scores: (N, 4), (N, K, 2) and (N, K) of everyone in the frame.
    """
    out_xy = np.zeros((MAX_OTHER_PERSONS, NUM_KEYPOINTS, 2), np.float32)
    out_scores = np.zeros((MAX_OTHER_PERSONS, NUM_KEYPOINTS), np.float32)
    rows = [r for r in range(len(boxes_xyxy)) if r != exclude]
    if not rows:
        return out_xy, out_scores
    box = np.asarray(box_xyxy, np.float64)
    others = np.asarray(boxes_xyxy, np.float64)[rows]
    centres = (others[:, :2] + others[:, 2:]) / 2
    distance_px = np.linalg.norm(centres - (box[:2] + box[2:]) / 2, axis=1)
    nearest = [rows[r] for r in np.argsort(distance_px, kind="stable")[:MAX_OTHER_PERSONS]]
    out_xy[: len(nearest)] = xy[nearest]
    out_scores[: len(nearest)] = scores[nearest]
    return out_xy, out_scores


def sample_priors(
    samples: Sequence[PoseSample], detector: PersonDetector, min_iou: float = 0.3
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Priors of ``samples``: (S, K, 2) image px, (S, K) scores and (S, 4) matched boxes
    (NaN where no detection overlaps the sample's box). Each key frame is detected once."""
    return sample_priors_and_others(samples, detector, min_iou)[:3]


def sample_priors_and_others(
    samples: Sequence[PoseSample], detector: PersonDetector, min_iou: float = 0.3
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`sample_priors`, then each sample's others (:func:`nearest_others` of the
    frame's detections but the matched one): (S, M, K, 2) image px and (S, M, K) scores."""
    by_frame: dict[str, list[int]] = {}
    for i, s in enumerate(samples):
        by_frame.setdefault(s.key_frame_path, []).append(i)
    xy = np.zeros((len(samples), NUM_KEYPOINTS, 2), np.float32)
    scores = np.zeros((len(samples), NUM_KEYPOINTS), np.float32)
    boxes = np.full((len(samples), 4), np.nan, np.float32)
    others_xy = np.zeros((len(samples), MAX_OTHER_PERSONS, NUM_KEYPOINTS, 2), np.float32)
    others_scores = np.zeros((len(samples), MAX_OTHER_PERSONS, NUM_KEYPOINTS), np.float32)
    for n, (path, rows) in enumerate(by_frame.items()):
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f"{path}: cannot read image")
        det: Detections = detector.detect(image)
        if len(det):
            det_xy, det_scores = detections_prior(det.keypoints_xy, det.keypoint_scores)
            for i in rows:
                iou = iou_matrix(samples[i].box_xyxy, det.boxes_xyxy)[0]
                j = int(np.argmax(iou))
                own = None
                if iou[j] >= min_iou:
                    xy[i], scores[i], boxes[i] = det_xy[j], det_scores[j], det.boxes_xyxy[j]
                    own = j
                others_xy[i], others_scores[i] = nearest_others(
                    samples[i].box_xyxy, det.boxes_xyxy, det_xy, det_scores, own
                )
        if (n + 1) % 500 == 0:
            LOG.info("detector priors: %d/%d frames", n + 1, len(by_frame))
    return xy, scores, boxes, others_xy, others_scores


def write_sample_priors(
    samples: Sequence[PoseSample],
    detector: PersonDetector,
    out_path: str | Path,
    min_iou: float = 0.3,
) -> int:
    """Compute and save the priors of ``samples`` and their others; returns how many matched
    a detection."""
    xy, scores, boxes, others_xy, others_scores = sample_priors_and_others(
        samples, detector, min_iou
    )
    save_priors(out_path, samples, xy, scores, others=(others_xy, others_scores))
    return int(np.isfinite(boxes[:, 0]).sum())
