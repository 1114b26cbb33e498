"""Real-label multi-person photos for the model card: loader, detection matching, grouped PCK.

The photos are the labelled samples in ``shared/data/pose_samples`` with two or more
labelled persons: AI Challenger (``aic``, 3 images), LV-MHP (``mhp``, 2), ExLPose low-light
(``exlpose``, 2; the second one is nearly black: brightest pixel 15 of 255) and Human-Art
(``humanart``, only its acrobatics photo has two persons). Each dataset's joints are mapped
by name into the 17 PoseTrack slots (diffpose.keypoints.KEYPOINT_NAMES); checked by drawing
every photo's labels: all four label left/right from the person's own view, as PoseTrack.

==========  ===========================  ===========================================
slot        source joint                 note
==========  ===========================  ===========================================
limbs (12)  same names in all four       "Right Shoulder", "Right-shoulder",
                                         "right_shoulder" all mean right_shoulder
head_top    aic "Head top", mhp          exlpose "head" sits on the top of the
            "Head-top", exlpose "head"   skull (ExLPose uses CrowdPose's 14 joints)
head_bottom aic "Neck", mhp "Upper-      mhp's "Upper-neck" lies lower than MPII's
            neck", exlpose "neck"        (near the collar on these two photos); aic
                                         and exlpose necks sit on the throat
nose        humanart "nose"              no group uses it; humanart has no neck or
                                         head top, so it adds nothing to "Head"
(none)      mhp Pelvis, Thorax; humanart ears stay 0 as in PoseTrack's placeholder
            eyes, ears, finger/toe       slots; humanart's extra 4 joints are ignored
==========  ===========================  ===========================================

A joint is labelled where its visibility flag v > 0: aic's v = 1 includes occluded joints
guessed through furniture (the legs of the man behind the go table in fa436c91....jpg),
counted like visible ones. Persons with fewer than ``min_limb_joints`` (default 8) labelled
limb joints are left out before the two-person rule. The default drops the persons labelled
on shoulders and arms alone (seated behind a table or cut off by the frame: two on aic, both
on mhp 10112.jpg, a 215x180 portrait) and keeps 17 persons on 7 photos (aic 7, mhp 2,
exlpose 6, humanart 2); ``min_limb_joints=0`` keeps all 21 persons on 8 photos. Boxes are the label files'
own, which may stop short of guessed joints; the PCK scale is their longer side.

Shape letters: P persons of one photo (or of several, concatenated), D detections,
K = 17 keypoint slots.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from diffpose.keypoints import KEYPOINT_NAMES, NUM_KEYPOINTS, PLACEHOLDER_SLOTS
from trackers.matching import greedy_iou_matching

#: Dataset name -> (label file under ``pose_samples``, prefix of its image paths to drop).
DATASETS: dict[str, tuple[str, str]] = {
    "aic": ("aic/test_aic.json", ""),
    "mhp": ("mhp/test_mhp.json", ""),
    "exlpose": ("exlpose/test_exlpose.json", ""),
    "humanart": ("humanart/test_humanart.json", "HumanArt/images/"),
}
#: Source joint names (lower case, "_" for spaces and dashes) that differ from our slot names.
_ALIASES: dict[str, str] = {
    "neck": "head_bottom",  # aic, exlpose
    "upper_neck": "head_bottom",  # mhp
    "head": "head_top",  # exlpose
}
#: PCK groups of the 12 limb joints, left and right pooled.
LIMB_GROUPS: dict[str, tuple[str, str]] = {
    g: (f"left_{g.lower()}", f"right_{g.lower()}")
    for g in ("Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle")
}
#: The 12 limb slots, in ``LIMB_GROUPS`` order; the "Head" group's slots follow.
LIMB_SLOTS: tuple[int, ...] = tuple(
    KEYPOINT_NAMES.index(n) for pair in LIMB_GROUPS.values() for n in pair
)
HEAD_SLOTS: tuple[int, ...] = (
    KEYPOINT_NAMES.index("head_bottom"),
    KEYPOINT_NAMES.index("head_top"),
)


@dataclass(frozen=True, eq=False)
class PhotoGT:
    """The labelled persons of one photo.

    Attributes:
        image_path: path of the image file.
        dataset: key of ``DATASETS`` the photo comes from.
        keypoints_xy: (P, K, 2) float64 joints in image pixels, PoseTrack slots.
        weights: (P, K) float64, 1 where the joint is labelled, else 0.
        boxes_xyxy: (P, 4) float64 person boxes in image pixels.
    """

    image_path: str
    dataset: str
    keypoints_xy: np.ndarray
    weights: np.ndarray
    boxes_xyxy: np.ndarray

    def __post_init__(self) -> None:
        p = len(self.boxes_xyxy)
        if (
            np.shape(self.keypoints_xy) != (p, NUM_KEYPOINTS, 2)
            or np.shape(self.weights) != (p, NUM_KEYPOINTS)
            or np.shape(self.boxes_xyxy) != (p, 4)
        ):
            raise ValueError(
                f"{self.image_path}: shapes {np.shape(self.keypoints_xy)}, "
                f"{np.shape(self.weights)}, {np.shape(self.boxes_xyxy)} are not "
                f"(P, {NUM_KEYPOINTS}, 2), (P, {NUM_KEYPOINTS}), (P, 4)"
            )


def _slot_map(names: list[str], label_file: Path) -> dict[int, int]:
    """``{source index: PoseTrack slot}`` by joint name; every limb joint must be found."""
    out = {}
    for i, name in enumerate(names):
        key = name.strip().lower().replace(" ", "_").replace("-", "_")
        key = _ALIASES.get(key, key)
        if key in KEYPOINT_NAMES and KEYPOINT_NAMES.index(key) not in PLACEHOLDER_SLOTS:
            out[i] = KEYPOINT_NAMES.index(key)
    missing = [KEYPOINT_NAMES[s] for s in LIMB_SLOTS if s not in out.values()]
    if missing:
        raise ValueError(f"{label_file}: keypoint names {names} lack limb joints {missing}")
    return out


def _person(
    ann: dict, slots: dict[int, int], n_src: int, label_file: Path
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(K, 2) joints, (K,) weights and (4,) xyxy box of one COCO-style annotation."""
    flat = np.asarray(ann["keypoints"], dtype=np.float64)
    if flat.size % 3 or not 0 < flat.size <= 3 * n_src:
        raise ValueError(
            f"{label_file}: annotation {ann.get('id')} has {flat.size} keypoint values, "
            f"expected x, y, v for at most {n_src} joints"
        )
    src = flat.reshape(-1, 3)  # humanart: the first 17 of its 21 names (keypoints_21 unused)
    xy = np.zeros((NUM_KEYPOINTS, 2))
    w = np.zeros(NUM_KEYPOINTS)
    for i, s in slots.items():
        if i >= len(src):
            continue
        xy[s] = src[i, :2]
        w[s] = float(src[i, 2] > 0)
    x, y, bw, bh = (ann.get("bbox") or (0.0, 0.0, 0.0, 0.0))[:4]
    if bw > 0 and bh > 0:
        box = np.array([x, y, x + bw, y + bh], dtype=np.float64)
    else:  # no usable box: the labelled joints' extent
        box = joint_extent_xyxy(xy, w)
    return xy, w, box


def joint_extent_xyxy(keypoints_xy: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(4,) the box around a person's labelled joints ((K, 2) px where (K,) ``weights`` > 0);
    zeros when none is labelled."""
    pts = np.asarray(keypoints_xy, np.float64)[np.asarray(weights) > 0]
    return np.concatenate([pts.min(0), pts.max(0)]) if len(pts) else np.zeros(4)


def load_multi_person_photos(data_root: Path, min_limb_joints: int = 8) -> list[PhotoGT]:
    """The photos of ``data_root / "pose_samples"`` with at least two labelled persons.

    Args:
        data_root: the shared data folder (holding ``pose_samples/``).
        min_limb_joints: persons with fewer labelled limb joints are left out (module doc).

    Returns:
        One :class:`PhotoGT` per photo, in ``DATASETS`` order, then label-file order.
    """
    photos = []
    for dataset, (rel, prefix) in DATASETS.items():
        label_file = Path(data_root) / "pose_samples" / rel
        if not label_file.is_file():
            raise FileNotFoundError(f"{label_file}: label file is absent")
        doc = json.loads(label_file.read_text())
        names = doc["categories"][0]["keypoints"]
        slots = _slot_map(names, label_file)
        for image in doc["images"]:
            persons = [
                _person(a, slots, len(names), label_file)
                for a in doc["annotations"]
                if a["image_id"] == image["id"] and not a.get("iscrowd", 0)
            ]
            persons = [p for p in persons if p[1][list(LIMB_SLOTS)].sum() >= min_limb_joints]
            if len(persons) < 2:
                continue
            path = label_file.parent / image["file_name"].removeprefix(prefix)
            if not path.is_file():
                raise FileNotFoundError(f"{label_file}: image {path} is absent")
            xy, w, boxes = (np.stack(c) for c in zip(*persons, strict=True))
            photos.append(PhotoGT(str(path), dataset, xy, w, boxes))
    return photos


def match_detections(
    gt_boxes_xyxy: np.ndarray, det_boxes_xyxy: np.ndarray, min_iou: float = 0.3
) -> np.ndarray:
    """One-to-one greedy matching of ground-truth persons to detections by box IoU.

    The pair with the highest IoU is matched first, then the next among the unmatched ones,
    until no pair reaches ``min_iou``.

    Args:
        gt_boxes_xyxy: (P, 4) ground-truth boxes in pixels.
        det_boxes_xyxy: (D, 4) detection boxes in pixels.
        min_iou: smallest IoU a match may have.

    Returns:
        (P,) int index of each person's detection, -1 where none matched.
    """
    return greedy_iou_matching(gt_boxes_xyxy, det_boxes_xyxy, min_iou)


def match_by_joints(
    keypoints_xy: np.ndarray,
    weights: np.ndarray,
    det_boxes_xyxy: np.ndarray,
    min_share: float = 0.5,
) -> np.ndarray:
    """One-to-one greedy matching of labelled persons to detections by the share of each
    person's labelled joints inside the detection box, for labels without a person box (a
    partly labelled person's joint extent can be far smaller than its detection, so box IoU
    drops it).

    The pair with the highest share is matched first (ties: the smaller detection box, the
    tighter fit), then the next among the unmatched ones, until no pair reaches
    ``min_share``.

    Args:
        keypoints_xy: (P, K, 2) labelled joints in pixels.
        weights: (P, K) 1 where labelled.
        det_boxes_xyxy: (D, 4) detection boxes in pixels.
        min_share: smallest share of a person's labelled joints a match must hold.

    Returns:
        (P,) int index of each person's detection, -1 where none matched.
    """
    xy = np.asarray(keypoints_xy, np.float64).reshape(-1, NUM_KEYPOINTS, 2)
    w = np.asarray(weights, np.float64).reshape(-1, NUM_KEYPOINTS) > 0
    boxes = np.asarray(det_boxes_xyxy, np.float64).reshape(-1, 4)
    inside = (
        (xy[:, None, :, 0] >= boxes[None, :, None, 0])
        & (xy[:, None, :, 0] <= boxes[None, :, None, 2])
        & (xy[:, None, :, 1] >= boxes[None, :, None, 1])
        & (xy[:, None, :, 1] <= boxes[None, :, None, 3])
    )  # (P, D, K)
    share = (inside & w[:, None, :]).sum(-1) / np.maximum(w.sum(-1), 1)[:, None]
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    key = share - 1e-9 * area[None, :] / max(float(area.max(initial=1.0)), 1.0)
    matched = np.full(len(xy), -1, dtype=np.int64)
    while key.size and key.max() >= min_share - 1e-6:
        p, d = np.unravel_index(int(np.argmax(key)), key.shape)
        matched[p] = d
        key[p, :] = -1.0
        key[:, d] = -1.0
    return matched


def joint_hits(
    pred_xy: np.ndarray,
    gt_xy: np.ndarray,
    weights: np.ndarray,
    gt_boxes_xyxy: np.ndarray,
    matched: np.ndarray,
    threshold: float = 0.1,
) -> np.ndarray:
    """(P, K) bool: the labelled joints predicted within ``threshold`` × the longer side of
    the person's box (arguments as :func:`pck_groups`; an unmatched person hits nothing)."""
    boxes = np.asarray(gt_boxes_xyxy, dtype=np.float64).reshape(-1, 4)
    scale = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    ok = np.asarray(matched, dtype=bool)
    dist = np.full(np.shape(weights), np.inf)
    dist[ok] = np.linalg.norm(np.asarray(pred_xy)[ok] - np.asarray(gt_xy)[ok], axis=-1)
    return (np.asarray(weights) > 0) & (dist <= threshold * scale[:, None])


def group_slots() -> dict[str, tuple[int, ...]]:
    """PCK group -> its slots: Shoulder ... Ankle, Limbs (the 12 pooled) and Head."""
    groups = {g: tuple(KEYPOINT_NAMES.index(n) for n in pair) for g, pair in LIMB_GROUPS.items()}
    return groups | {"Limbs": LIMB_SLOTS, "Head": HEAD_SLOTS}


def pck_groups(
    pred_xy: np.ndarray,
    gt_xy: np.ndarray,
    weights: np.ndarray,
    gt_boxes_xyxy: np.ndarray,
    matched: np.ndarray,
    threshold: float = 0.1,
) -> tuple[dict[str, float], dict[str, int]]:
    """PCK per joint group: a joint is correct within ``threshold`` × the longer box side.

    Arrays of several photos may be concatenated along P. A person without a matched
    detection (``matched`` False) counts all its labelled joints as missed.

    Args:
        pred_xy: (P, K, 2) predicted joints in pixels (rows of unmatched persons unused).
        gt_xy: (P, K, 2) labelled joints in pixels.
        weights: (P, K) 1 where labelled.
        gt_boxes_xyxy: (P, 4) ground-truth boxes; their longer side sets the distance scale.
        matched: (P,) bool, whether the person has a detection (and so a prediction).
        threshold: the share of the longer box side a joint may be off.

    Returns:
        ``(pck_percent, joint_counts)`` keyed by Shoulder, Elbow, Wrist, Hip, Knee, Ankle,
        Limbs (the 12 pooled) and Head (head_bottom and head_top); a group with no
        labelled joint has PCK NaN.
    """
    hit = joint_hits(pred_xy, gt_xy, weights, gt_boxes_xyxy, matched, threshold)
    labelled = np.asarray(weights) > 0
    pck, counts = {}, {}
    for g, slots in group_slots().items():
        n = int(labelled[:, list(slots)].sum())
        counts[g] = n
        pck[g] = 100.0 * float(hit[:, list(slots)].sum()) / n if n else float("nan")
    return pck, counts
