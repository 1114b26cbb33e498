"""The detector's own pose of the person in a crop: YOLO11n-pose's Pose head, run on the
256×192 person crops the backbone already reads, decoded and matched to the crop's person.

The pipeline's detector runs at 640 px on the whole frame, where a person is often a few dozen
pixels tall; on its own crop the same network sees the person at 256 px, and its keypoints are
markedly better (resources/MODEL_CARD.md). A refiner whose ``decoder.prior_source`` is
``"crop"`` takes this pose as its prior; the backbone layers are shared, so the extra cost is
the P5 path and the head (:meth:`diffpose.backbones.YoloBackbone.forward_rgb_pose`).

Decoding follows ultralytics' Pose head (anchor-free, distribution focal loss boxes): boxes
are the expected bin of each side's distribution × stride around the anchor centre;
keypoints are ``(2·offset + anchor − 0.5) · stride``; scores and keypoint confidences are
sigmoids. The crop's person is the candidate with the highest person score × IoU with the
reference box (where the person was expected, e.g. its track box mapped into the crop).

Shape letters: M crops, A anchors (all levels), K = 17 COCO keypoints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["CropPose", "decode_crop_pose"]

#: A candidate must score this (ultralytics' default confidence) and overlap the reference box
#: this much to be the crop's person; otherwise the crop has no pose of its own.
MIN_PERSON_SCORE = 0.25
MIN_REFERENCE_IOU = 0.3


@dataclass(frozen=True)
class CropPose:
    """The detector's pose of each crop's person (numpy, float32), in crop pixels.

    Attributes:
        keypoints_xy: (M, 17, 2) COCO keypoints.
        keypoint_scores: (M, 17) keypoint confidences in [0, 1]; 0 where ``found`` is False.
        person_scores: (M,) the chosen candidate's person score.
        found: (M,) a candidate passed :data:`MIN_PERSON_SCORE` and :data:`MIN_REFERENCE_IOU`.
        anchor_index: (M,) the chosen candidate (an index into the head's A anchors).
    """

    keypoints_xy: np.ndarray
    keypoint_scores: np.ndarray
    person_scores: np.ndarray
    found: np.ndarray
    anchor_index: np.ndarray


def _anchors(grids: torch.Tensor, strides: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(A, 2) anchor centres in grid units (x fastest, as ultralytics' make_anchors) and (A,)
    their strides."""
    points, steps = [], []
    for (h, w), s in zip(grids.tolist(), strides.tolist(), strict=True):
        ys, xs = torch.meshgrid(
            torch.arange(h, dtype=torch.float32) + 0.5,
            torch.arange(w, dtype=torch.float32) + 0.5,
            indexing="ij",
        )
        points.append(torch.stack((xs, ys), -1).view(-1, 2))
        steps.append(torch.full((h * w,), float(s)))
    return torch.cat(points), torch.cat(steps)


def _box_iou(boxes: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """(M, A) IoU of (M, A, 4) boxes with (M, 4) reference boxes, all xyxy."""
    ref = ref[:, None]
    lt = torch.maximum(boxes[..., :2], ref[..., :2])
    rb = torch.minimum(boxes[..., 2:], ref[..., 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = (boxes[..., 2:] - boxes[..., :2]).clamp(min=0).prod(-1)
    ref_area = (ref[..., 2:] - ref[..., :2]).clamp(min=0).prod(-1)
    return inter / (area + ref_area - inter).clamp(min=1e-6)


def decode_crop_pose(
    pose: dict[str, torch.Tensor],
    reference_xyxy: np.ndarray,
    min_person_score: float = MIN_PERSON_SCORE,
    min_iou: float = MIN_REFERENCE_IOU,
) -> CropPose:
    """The pose of each crop's person from the head outputs of
    :meth:`~diffpose.backbones.YoloBackbone.forward_rgb_pose`.

    Args:
        pose: the raw head outputs (float32).
        reference_xyxy: (M, 4) crop px, where each crop's person is expected.
        min_person_score, min_iou: what a candidate needs to count as that person.
    """
    boxes_raw, kpts = pose["boxes"], pose["kpts"]
    m, _, a = kpts.shape
    bins = int(pose["bins"])
    anchors, strides = _anchors(pose["grids"], pose["strides"])
    if len(anchors) != a:
        raise ValueError(f"head outputs have {a} anchors, their grids {len(anchors)}")
    # box sides: expectation of each side's softmax over ``bins`` distances (stride units)
    dist = boxes_raw.view(m, 4, bins, a).softmax(2)
    dist = (dist * torch.arange(bins, dtype=torch.float32).view(1, 1, bins, 1)).sum(2)
    lt = anchors.T[None] - dist[:, :2]
    rb = anchors.T[None] + dist[:, 2:]
    boxes = (torch.cat([lt, rb], 1) * strides).transpose(1, 2)  # (M, A, 4) crop px
    person = pose["scores"][:, 0].sigmoid()  # (M, A)
    ref = torch.as_tensor(np.asarray(reference_xyxy, np.float32).reshape(m, 4))
    iou = _box_iou(boxes, ref)
    pick = (person * iou).argmax(1)  # (M,)
    rows = torch.arange(m)
    chosen = kpts[rows, :, pick].view(m, 17, 3)  # (M, K, 3) raw offsets of the pick
    anchor, stride = anchors[pick], strides[pick]
    xy = (chosen[..., :2] * 2.0 + (anchor[:, None] - 0.5)) * stride[:, None, None]
    conf = chosen[..., 2].sigmoid()
    score = person[rows, pick]
    found = (score >= min_person_score) & (iou[rows, pick] >= min_iou)
    conf = torch.where(found[:, None], conf, torch.zeros_like(conf))
    return CropPose(
        keypoints_xy=xy.numpy().astype(np.float32),
        keypoint_scores=conf.numpy().astype(np.float32),
        person_scores=score.numpy().astype(np.float32),
        found=found.numpy(),
        anchor_index=pick.numpy(),
    )
