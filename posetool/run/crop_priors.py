"""The crop prior: the detector's pose of a person from its own 256×192 crop, in image pixels.

A refiner with ``decoder.prior_source == "crop"`` is given, for each person, the YOLO11n-pose
Pose head's keypoints on the crop it estimates from (:mod:`diffpose.crop_pose`) rather than
those of the 640 px whole-frame detection, where the crop holds at least as much of the
person's real detail as the detector's input did (:func:`crop_sees_more`: a small person in
a large frame, whom the detector saw shrunk); a large person keeps the detection's pose,
which saw it at more pixels than the 256×192 crop. Where the head finds nobody in the crop,
the detection's pose stands in too. The pipeline (:mod:`posetool.run.pose_estimator`) gets the head
outputs from the backbone pass it makes anyway; training and evaluation files
(``posetool detector-priors --crop``, :mod:`posetool.training.crop_prior_files`) run the same head on
the same crops, so a model is trained on the prior it will be given.

In a frame larger than the detector's base input, a large person whom the 256×192 crop
shows shrunk gets the head re-run on a larger crop (:func:`large_crop_priors`): a 384×288
one (``PoseConfig.large_prior_crop_px``) where that reaches the detector's scale, else one
sized to reach it (:func:`scale_reaching_crop_px`, up to ``PoseConfig.max_prior_crop_px``).
These are inference-time priors: the shipped refiner's training file is made without them.

With ``PoseConfig.prior_crop_px``, a person whose prior is its crop pose gets the head
re-run on a crop that tall (:func:`resized_crop_priors`), unless that crop would enlarge it
more than ``PoseConfig.prior_crop_max_upscale`` times; its pose there replaces the model-size
crop's where the head finds the person: YOLO's head finds limbs better on a person shown
larger than the 256×192 crop shows it (resources/MODEL_CARD.md). Also inference only.

Shape letters: N persons, K = 17 PoseTrack slots.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from diffpose.crop_pose import decode_crop_pose
from diffpose.data.transforms import apply_affine
from posetool.run.detector_priors import detections_prior
from posetool.run.pose_config import PRIOR_CHOICES, PoseConfig
from posetool.run.pose_crops import crop_affines, crop_to_image, rgb_crops

__all__ = [
    "SIZED_CROP_STEP_PX",
    "choose_prior",
    "crop_pose_priors",
    "crop_px_per_image_px",
    "crop_sees_more",
    "detector_px_per_image_px",
    "large_crop_priors",
    "prior_crop_settings",
    "resized_crop_priors",
    "rule_prior_reruns",
    "scale_reaching_crop_px",
]

#: Heights of crops sized per person are multiples of this, so that their width, 3/4 of the
#: height, is a multiple of 32 (YOLO's stride).
SIZED_CROP_STEP_PX = 128


def crop_sees_more(
    affines: np.ndarray, frame_hw: tuple[int, int], detector_imgsz: int
) -> np.ndarray:
    """(N,) True where a person's crop holds at least as many of its real pixels as a
    ``detector_imgsz`` input: min(crop px per image px, 1) ≥ min(detector px per image px, 1).
    The pipeline passes the detector's base size (``DetectorConfig.imgsz``), the rule the
    refiner's training priors were made with, also where a large frame is detected at a
    larger input (``DetectorConfig.max_imgsz``).

    Upscaling adds no detail, so both scales count at most 1: on a small image both passes
    see every pixel and the crop (framed on the person) is used; a person the detector saw
    at more pixels than its crop keeps the detection's pose.
    """
    crop_scale = crop_px_per_image_px(affines)
    return np.minimum(crop_scale, 1.0) >= detector_px_per_image_px(frame_hw, detector_imgsz) - 1e-6


def crop_px_per_image_px(affines: np.ndarray) -> np.ndarray:
    """(N,) each (2, 3) image → crop affine's scale (the crops do not rotate or shear)."""
    return np.sqrt(np.abs(np.linalg.det(np.asarray(affines, np.float64)[:, :, :2])))


def detector_px_per_image_px(frame_hw: tuple[int, int], detector_imgsz: int) -> float:
    """The scale at which a ``detector_imgsz`` input holds a frame, at most 1 (upscaling
    adds no detail)."""
    return min(detector_imgsz / max(frame_hw), 1.0)


def crop_pose_priors(
    pose: dict, affines: np.ndarray, boxes_xyxy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Pose head's pose of N persons on their crops, in image pixels.

    Args:
        pose: :meth:`~diffpose.backbones.YoloBackbone.forward_rgb_pose` outputs of the N crops
            (on any device; decoded on the CPU).
        affines: (N, 2, 3) image → crop affines the crops were made with.
        boxes_xyxy: (N, 4) image px, where each person is (the crop's reference box).

    Returns:
        (N, K, 2) image px, (N, K) scores in PoseTrack slots, and (N,) whether the head found
        the person in its crop (where not, the pose is meaningless: :func:`choose_prior`
        never takes it).
    """
    boxes = np.asarray(boxes_xyxy, np.float64).reshape(-1, 4)
    reference = np.array(  # each box's two corners in its crop (the affines do not rotate)
        [apply_affine(b.reshape(2, 2), a).reshape(4) for b, a in zip(boxes, affines, strict=True)]
    ).reshape(-1, 4)
    found_pose = decode_crop_pose({k: v.cpu() for k, v in pose.items()}, reference)
    image_xy = np.array(
        [crop_to_image(kp, a)[0] for kp, a in zip(found_pose.keypoints_xy, affines, strict=True)]
    ).reshape(-1, 17, 2)
    xy, scores = detections_prior(image_xy, found_pose.keypoint_scores)
    return xy.astype(np.float32), scores.astype(np.float32), np.asarray(found_pose.found, bool)


def choose_prior(
    crop_xy: np.ndarray,
    crop_scores: np.ndarray,
    found: np.ndarray,
    det_xy: np.ndarray,
    det_scores: np.ndarray,
    sees_more: np.ndarray,
    choice: str = "rule",
) -> tuple[np.ndarray, np.ndarray]:
    """Each person's prior from its two YOLO poses.

    Args:
        crop_xy, crop_scores: (N, K, 2) image px and (N, K): the Pose head's pose on the crop.
        found: (N,) whether the head found the person in its crop (else its pose is unusable).
        det_xy, det_scores: (N, K, 2) image px and (N, K): the whole-frame detection's pose.
        sees_more: (N,) :func:`crop_sees_more`.
        choice: one of :data:`PRIOR_CHOICES`. "rule": the crop pose where the crop sees more;
            "crop": wherever found; "detection": never; "confident": per person, the pose with
            the higher mean score over its scored joints; "per_joint": per joint, the higher
            score's position; "both": as "crop" (the pipeline adds the detection's pose as a
            second prior).

    Returns:
        (N, K, 2) image px and (N, K) scores, float32.
    """
    if choice not in PRIOR_CHOICES:
        raise ValueError(f"prior choice must be one of {PRIOR_CHOICES}, got {choice!r}")
    found = np.asarray(found, bool)
    crop_sc = np.asarray(crop_scores, np.float32)
    det_sc = np.asarray(det_scores, np.float32)
    if choice == "per_joint":
        take = found[:, None] & (crop_sc > det_sc)
        xy = np.where(take[:, :, None], crop_xy, det_xy)
        return xy.astype(np.float32), np.where(take, crop_sc, det_sc).astype(np.float32)
    if choice == "rule":
        take = found & np.asarray(sees_more, bool)
    elif choice in ("crop", "both"):
        take = found
    elif choice == "detection":
        take = np.zeros_like(found)
    else:  # confident: COCO's 13 shared joints carry scores, the other slots are 0 in both
        take = found & (crop_sc.mean(axis=1) > det_sc.mean(axis=1))
    xy = np.where(take[:, None, None], crop_xy, det_xy)
    return xy.astype(np.float32), np.where(take[:, None], crop_sc, det_sc).astype(np.float32)


def large_crop_priors(
    frame_bgr: np.ndarray,
    boxes_xyxy: np.ndarray,
    prior_xy: np.ndarray,
    prior_scores: np.ndarray,
    sees_more: np.ndarray,
    detector_imgsz: int,
    large_crop_px: int,
    pose_head,
    max_crop_px: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The priors of a frame's persons with YOLO's Pose head re-run on a larger crop of each
    person whose model-size crop held fewer of its pixels than the detector's input (those
    keep the whole-frame detection's pose under the rule): where the larger crop holds at
    least as many as the detector's input (:func:`crop_sees_more`) and the head finds the
    person in it, its pose replaces the detection's. Only in frames larger than
    ``detector_imgsz`` (the detector's base size): at that size the detector sees every
    pixel, a larger crop adds none, and it would cost a pass per large person (on a 640 px
    crowd video, half the pose stage's time). A frame between the base size and
    ``DetectorConfig.max_imgsz`` is detected whole at the larger input, yet its large persons
    still take this pass: the rule keeps the base size's reference.

    Args:
        frame_bgr: the frame.
        boxes_xyxy: (N, 4) image px, the persons' track boxes.
        prior_xy, prior_scores: (N, K, 2) image px and (N, K): the rule's priors.
        sees_more: (N,) :func:`crop_sees_more` of the model-size crops.
        detector_imgsz: the rule's reference input size (the detector's base size).
        large_crop_px: the larger crop's height (``PoseConfig.large_prior_crop_px``: a
            multiple of 32, as is 3/4 of it, its width), e.g. 384.
        pose_head: (M, H, W, 3) uint8 RGB crops → the Pose head's raw outputs
            (:meth:`diffpose.model.DiffPose.pose_head_rgb`).
        max_crop_px: 0, or the tallest crop sized per person: a person whom even the
            ``large_crop_px`` crop shows at fewer pixels than the detector's base input gets
            the smallest crop that holds as many (:func:`scale_reaching_crop_px`: its height a
            multiple of 128, so that its 3/4 width is one of 32), at most this tall; 0 keeps
            the detection's pose for them.

    Returns:
        (N, K, 2) image px, (N, K) scores and (N,) whether a larger crop's pose was taken.
    """
    large_crop_hw = (large_crop_px, large_crop_px * 3 // 4)
    xy, scores, used, all_boxes = _rerun_outputs(prior_xy, prior_scores, boxes_xyxy)
    candidates = np.flatnonzero(~np.asarray(sees_more, bool))
    if max(frame_bgr.shape[:2]) <= detector_imgsz:  # every pixel seen at the base size
        candidates = candidates[:0]
    affines = crop_affines(all_boxes[candidates], large_crop_hw)
    sharper = crop_sees_more(affines, frame_bgr.shape[:2], detector_imgsz)
    passes = [(candidates[sharper], large_crop_hw, affines[sharper])]
    if max_crop_px and not sharper.all():  # larger still, sized per person
        crop_px = scale_reaching_crop_px(
            affines[~sharper], large_crop_px, frame_bgr.shape[:2], detector_imgsz
        )
        for px in np.unique(crop_px[crop_px <= max_crop_px]):
            rows = candidates[~sharper][crop_px == px]
            crop_hw = (int(px), int(px) * 3 // 4)
            passes.append((rows, crop_hw, crop_affines(all_boxes[rows], crop_hw)))
    for rows, crop_hw, crop_affine_rows in passes:
        if len(rows):
            crops = rgb_crops(frame_bgr, crop_affine_rows, crop_hw)
            _take_head_poses(pose_head, crops, crop_affine_rows, all_boxes, rows, xy, scores, used)
    return xy, scores, used


def resized_crop_priors(
    images_bgr: Sequence[np.ndarray],
    boxes_xyxy: np.ndarray,
    prior_xy: np.ndarray,
    prior_scores: np.ndarray,
    took_crop: np.ndarray,
    crop_px: int,
    pose_head,
    max_upscale: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The priors of N persons with YOLO's Pose head re-run on a ``crop_px``-tall crop
    (``PoseConfig.prior_crop_px``) of each person whose prior is its model-size crop's pose
    (``took_crop``) and whom that crop enlarges at most ``max_upscale`` times (0: no limit;
    ``PoseConfig.prior_crop_max_upscale``: a small person of a low-resolution frame, blown
    up further, loses detail the head needs); its pose replaces the model-size crop's where
    the head finds the person in it. The others (persons whose prior is the detection's
    pose or a larger crop's, or whom the crop would enlarge more) are kept.

    Args:
        images_bgr: N frames, each person's own (the same array may repeat).
        boxes_xyxy: (N, 4) image px, the persons' boxes.
        prior_xy, prior_scores: (N, K, 2) image px and (N, K): the rule's priors.
        took_crop: (N,) whether each prior is the model-size crop's pose.
        crop_px: the crop's height (a multiple of 32, as is 3/4 of it, its width), e.g. 384.
        pose_head: (M, H, W, 3) uint8 RGB crops → the Pose head's raw outputs.
        max_upscale: the most crop px per image px the crop may show a person at; 0: any.

    Returns:
        (N, K, 2) image px, (N, K) scores and (N,) whether the resized crop's pose was taken.
    """
    crop_hw = (crop_px, crop_px * 3 // 4)
    xy, scores, used, all_boxes = _rerun_outputs(prior_xy, prior_scores, boxes_xyxy)
    wanted = np.asarray(took_crop, bool).copy()
    if max_upscale > 0:
        wanted &= crop_px_per_image_px(crop_affines(all_boxes, crop_hw)) <= max_upscale
    rows = np.flatnonzero(wanted)
    if len(rows):
        affines = crop_affines(all_boxes[rows], crop_hw)
        crops = np.concatenate(
            [rgb_crops(images_bgr[i], a[None], crop_hw) for i, a in zip(rows, affines, strict=True)]
        )
        _take_head_poses(pose_head, crops, affines, all_boxes, rows, xy, scores, used)
    return xy, scores, used


def _rerun_outputs(
    prior_xy: np.ndarray, prior_scores: np.ndarray, boxes_xyxy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A re-run pass's outputs before it runs: float32 copies of the (N, K, 2) image px and
    (N, K) priors, (N,) nothing taken yet, and the (N, 4) boxes as float32 image px."""
    xy = np.array(prior_xy, np.float32, copy=True)
    scores = np.array(prior_scores, np.float32, copy=True)
    boxes = np.asarray(boxes_xyxy, np.float32).reshape(-1, 4)
    return xy, scores, np.zeros(len(xy), bool), boxes


def _take_head_poses(
    pose_head,
    crops_rgb: np.ndarray,
    affines: np.ndarray,
    all_boxes: np.ndarray,
    rows: np.ndarray,
    xy: np.ndarray,
    scores: np.ndarray,
    used: np.ndarray,
) -> None:
    """Run the Pose head on ``rows``' (M, H, W, 3) RGB crops (made with ``affines``) and, in
    place, give each row whose crop the head finds the person in that pose (``xy``,
    ``scores``) and mark it ``used``."""
    import torch

    with torch.no_grad():
        pose = pose_head(torch.from_numpy(crops_rgb))
    crop_xy, crop_sc, found = crop_pose_priors(pose, affines, all_boxes[rows])
    take = rows[found]
    xy[take], scores[take], used[take] = crop_xy[found], crop_sc[found], True


def prior_crop_settings(pose: PoseConfig) -> dict[str, int | float]:
    """``pose``'s prior-crop settings as :func:`rule_prior_reruns`' keyword arguments (and
    those of :func:`posetool.training.crop_prior_files.sample_crop_priors` and its callers), so that
    a file is made with the crops the pipeline would use."""
    return {
        "large_crop_px": pose.large_prior_crop_px,
        "max_crop_px": pose.max_prior_crop_px,
        "prior_crop_px": pose.prior_crop_px,
        "prior_crop_max_upscale": pose.prior_crop_max_upscale,
    }


def rule_prior_reruns(
    images_bgr: Sequence[np.ndarray],
    boxes_xyxy: np.ndarray,
    prior_xy: np.ndarray,
    prior_scores: np.ndarray,
    took_crop: np.ndarray,
    sees_more: np.ndarray,
    detector_imgsz: int,
    pose_head,
    large_crop_px: int = 0,
    max_crop_px: int = 0,
    prior_crop_px: int = 0,
    prior_crop_max_upscale: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rule's priors of N persons after YOLO's Pose head re-runs on other crops, as the
    pipeline and the prior files both make them: a person whose prior is its model-size
    crop's pose gets it from a ``prior_crop_px`` crop (:func:`resized_crop_priors`), a person
    whose model-size crop held fewer of its pixels than the detector's input from a larger
    one (:func:`large_crop_priors`, per frame; ``max_crop_px`` as there). 0 turns a pass off.

    Args:
        images_bgr: N frames, each person's own (persons of one frame share the array).
        boxes_xyxy: (N, 4) image px.
        prior_xy, prior_scores: (N, K, 2) image px and (N, K): :func:`choose_prior`'s "rule".
        took_crop: (N,) whether each prior is the model-size crop's pose.
        sees_more: (N,) :func:`crop_sees_more` of the model-size crops.
        detector_imgsz: the rule's reference input size (the detector's base size).
        pose_head: (M, H, W, 3) uint8 RGB crops → the Pose head's raw outputs.

    Returns:
        (N, K, 2) image px, (N, K) scores and (N,) whether a larger crop's pose was taken.
    """
    xy = np.array(prior_xy, np.float32, copy=True)
    scores = np.array(prior_scores, np.float32, copy=True)
    boxes = np.asarray(boxes_xyxy, np.float32).reshape(-1, 4)
    if prior_crop_px:
        xy, scores, _ = resized_crop_priors(
            images_bgr,
            boxes,
            xy,
            scores,
            took_crop,
            prior_crop_px,
            pose_head,
            prior_crop_max_upscale,
        )
    used = np.zeros(len(xy), bool)
    if large_crop_px:
        frames: dict[int, list[int]] = {}
        for i, image in enumerate(images_bgr):
            frames.setdefault(id(image), []).append(i)
        for rows in frames.values():
            xy[rows], scores[rows], used[rows] = large_crop_priors(
                images_bgr[rows[0]],
                boxes[rows],
                xy[rows],
                scores[rows],
                np.asarray(sees_more, bool)[rows],
                detector_imgsz,
                large_crop_px,
                pose_head,
                max_crop_px,
            )
    return xy, scores, used


def scale_reaching_crop_px(
    affines: np.ndarray, crop_px: int, frame_hw: tuple[int, int], detector_imgsz: int
) -> np.ndarray:
    """(N,) the height of the smallest crop, a multiple of :data:`SIZED_CROP_STEP_PX` (its
    3/4 width then one of 32), that shows each person at least at a ``detector_imgsz``
    input's pixels per image pixel (:func:`crop_sees_more`'s test), given the (N, 2, 3)
    ``affines`` of its ``crop_px``-tall crop (a crop's scale grows in proportion to its
    height: the box is fitted at a fixed aspect)."""
    target = detector_px_per_image_px(frame_hw, detector_imgsz) - 1e-6  # crop_sees_more's
    needed_px = crop_px * target / crop_px_per_image_px(affines)
    steps = np.ceil(needed_px / SIZED_CROP_STEP_PX)
    return (np.maximum(steps, 1) * SIZED_CROP_STEP_PX).astype(int)
