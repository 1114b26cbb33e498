"""Crowded training photos from LSP's real labels: a person with another person pasted beside it.

The refiner learns to correct the detector's pose mostly on persons who stand alone (LSP's
photos, pseudo-labelled videos of one to a few people); on crowded photos, where a second
person fills part of the crop, both the crop prior and the refiner go wrong together
(resources/MODEL_CARD.md, the multi-person photos). This module makes such crops from real
labels: a share of an LSP split's photos get a second person, cut out of another photo of
the same split along its labelled skeleton (soft-edged), scaled to about the first person's
height, beside it at a random offset that often overlaps, in front of or behind it. Only the
photo's own person is labelled (its LSP joints, moved with the canvas; joints the pasted
person covers stay labelled, as LSP labels occluded joints), so each LSP person is a labelled
sample exactly once, as in ``lsp:SPLIT``; the other photos are written unchanged. The set is
written in the PoseTrack layout, one still per file (as ``posetool pseudo-label --stills``),
for ``posetool detector-priors`` and ``diffpose.train`` (``--data posetrack:OUT:train``).

Shape letters: K = 17 PoseTrack slots.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from diffpose.data.lsp import load_lsp
from diffpose.data.samples import PoseSample, keypoint_box
from diffpose.keypoints import KEYPOINT_NAMES, NUM_KEYPOINTS
from diffpose.posetrack_format import PoseTrackFrame, PoseTrackVideo, vid_id_for
from diffpose.posetrack_writer import to_posetrack18
from posetool.posetrack_io import atomic_write_text

__all__ = ["CompositeConfig", "composite_pair", "person_mask", "write_crowd_composites"]

LOG = logging.getLogger(__name__)


def _slot(name: str) -> int:
    return KEYPOINT_NAMES.index(name)


#: Limbs drawn as thick lines for a person's cut-out mask (PoseTrack slot pairs).
MASK_LIMBS: tuple[tuple[int, int], ...] = tuple(
    (_slot(a), _slot(b))
    for a, b in (
        ("head_top", "head_bottom"),
        ("head_bottom", "left_shoulder"),
        ("head_bottom", "right_shoulder"),
        ("left_shoulder", "left_elbow"),
        ("left_elbow", "left_wrist"),
        ("right_shoulder", "right_elbow"),
        ("right_elbow", "right_wrist"),
        ("left_hip", "left_knee"),
        ("left_knee", "left_ankle"),
        ("right_hip", "right_knee"),
        ("right_knee", "right_ankle"),
    )
)
#: The torso, filled as a polygon.
MASK_TORSO: tuple[int, ...] = tuple(
    _slot(n) for n in ("left_shoulder", "right_shoulder", "right_hip", "left_hip")
)


@dataclass(frozen=True)
class CompositeConfig:
    """How the crowded photos are made.

    Attributes:
        share: the share of the split's photos that get a second person (the rest are copied).
        height_ratio: (low, high) range of the pasted person's height over the photo's
            person's (heights of their labelled joints' boxes).
        offset_heights: (low, high) range of the horizontal distance between the two
            persons' box centres, in the photo's person's heights (either side; ~0.2 covers
            much of a standing person, ~0.6 leaves a gap).
        front_prob: probability that the pasted person stands in front (else behind).
        limb_width: limb thickness of the cut-out mask, in person heights.
        edge_sigma: the mask's soft edge (Gaussian sigma), in person heights.
        seed: the draws (pairs, scales, offsets, order).
    """

    share: float = 0.5
    height_ratio: tuple[float, float] = (0.8, 1.15)
    offset_heights: tuple[float, float] = (0.2, 0.6)
    front_prob: float = 0.5
    limb_width: float = 0.12
    edge_sigma: float = 0.02
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.share <= 1.0 or not 0.0 <= self.front_prob <= 1.0:
            raise ValueError("share and front_prob must be in [0, 1]")
        for name in ("height_ratio", "offset_heights"):
            low, high = getattr(self, name)
            if not 0.0 <= low <= high:
                raise ValueError(f"{name} must be a range 0 <= low <= high, got {(low, high)}")


def _height_px(keypoints_xy: np.ndarray, weights: np.ndarray) -> float:
    pts = keypoints_xy[weights > 0]
    return float(max(np.ptp(pts[:, 1]), np.ptp(pts[:, 0]) * 0.5, 1.0))


def person_mask(
    keypoints_xy: np.ndarray, weights: np.ndarray, hw: tuple[int, int], cfg: CompositeConfig
) -> np.ndarray:
    """(H, W) float32 in [0, 1]: a soft cut-out of the person along its labelled skeleton
    (limbs as thick lines, the torso filled, a disc for the head)."""
    h, w = hw
    height = _height_px(keypoints_xy, weights)
    mask = np.zeros((h, w), np.uint8)
    width = max(int(round(cfg.limb_width * height)), 2)
    pt = np.round(keypoints_xy).astype(np.int32)
    ok = weights > 0
    for a, b in MASK_LIMBS:
        if ok[a] and ok[b]:
            cv2.line(mask, tuple(pt[a]), tuple(pt[b]), 255, width, cv2.LINE_AA)
    torso = [pt[k] for k in MASK_TORSO if ok[k]]
    if len(torso) >= 3:
        cv2.fillPoly(mask, [np.array(torso, np.int32)], 255, cv2.LINE_AA)
    top, bottom = _slot("head_top"), _slot("head_bottom")
    if ok[top] and ok[bottom]:
        centre = np.round((keypoints_xy[top] + keypoints_xy[bottom]) / 2).astype(int)
        radius = max(int(round(0.6 * np.linalg.norm(keypoints_xy[top] - keypoints_xy[bottom]))), 2)
        cv2.circle(mask, tuple(centre), radius, 255, -1, cv2.LINE_AA)
    sigma = max(cfg.edge_sigma * height, 0.5)
    soft = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), sigma)
    return np.clip(soft * 1.5, 0.0, 1.0)


def composite_pair(
    image_bgr: np.ndarray,
    person: PoseSample,
    other_bgr: np.ndarray,
    other: PoseSample,
    cfg: CompositeConfig,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """``image_bgr`` with ``other``'s person pasted beside ``person``.

    The canvas grows (black, as the training crops' border) where the pasted person reaches
    past the photo.

    Returns:
        The composite (BGR) and ``person``'s (K, 2) joints on it (image px).
    """
    kp, w = person.keypoints_xy, person.weights
    okp, ow = other.keypoints_xy, other.weights
    height, other_height = _height_px(kp, w), _height_px(okp, ow)
    scale = height / other_height * rng.uniform(*cfg.height_ratio)
    box, other_box = keypoint_box(kp, w), keypoint_box(okp, ow)
    centre = (box[:2] + box[2:]) / 2
    other_centre = (other_box[:2] + other_box[2:]) / 2
    side = 1.0 if rng.random() < 0.5 else -1.0
    target = centre + np.array(
        [side * rng.uniform(*cfg.offset_heights) * height, rng.uniform(-0.1, 0.1) * height]
    )
    # other image → this photo's frame: scale about the other person's centre, then move it
    affine = np.array(
        [[scale, 0.0, target[0] - scale * other_centre[0]],
         [0.0, scale, target[1] - scale * other_centre[1]]]
    )  # fmt: skip
    pasted_kp = okp * scale + affine[:, 2]
    pasted_box = keypoint_box(pasted_kp, ow, pad=0.15)
    h, w_px = image_bgr.shape[:2]
    x0 = int(np.floor(min(0.0, pasted_box[0])))
    y0 = int(np.floor(min(0.0, pasted_box[1])))
    x1 = int(np.ceil(max(float(w_px), pasted_box[2])))
    y1 = int(np.ceil(max(float(h), pasted_box[3])))
    canvas_hw = (y1 - y0, x1 - x0)
    shift = np.array([-x0, -y0], np.float64)
    base = np.zeros((*canvas_hw, 3), np.uint8)
    base[-y0 : -y0 + h, -x0 : -x0 + w_px] = image_bgr
    affine[:, 2] += shift
    pasted = cv2.warpAffine(
        other_bgr, affine, (canvas_hw[1], canvas_hw[0]), flags=cv2.INTER_LINEAR
    ).astype(np.float32)
    pasted_alpha = person_mask(pasted_kp + shift, ow, canvas_hw, cfg)[..., None]
    out = base.astype(np.float32) * (1 - pasted_alpha) + pasted * pasted_alpha
    moved_kp = kp + shift
    if rng.random() >= cfg.front_prob:  # behind: the photo's person back on top
        own_alpha = person_mask(moved_kp, w, canvas_hw, cfg)[..., None]
        out = out * (1 - own_alpha) + base.astype(np.float32) * own_alpha
    return np.clip(np.round(out), 0, 255).astype(np.uint8), moved_kp


def _still_frame(file_name: str, keypoints_xy: np.ndarray, weights: np.ndarray) -> PoseTrackFrame:
    kp = np.zeros((1, NUM_KEYPOINTS, 3))
    labelled = weights > 0
    kp[0, labelled, :2] = keypoints_xy[labelled]
    kp[0, labelled, 2] = 1
    box = keypoint_box(keypoints_xy, weights, pad=0.15)
    return PoseTrackFrame(
        image_id=0,
        file_name=file_name,
        is_labeled=True,
        ignore_regions=(),
        keypoints=kp,
        keypoint_scores=np.full((1, NUM_KEYPOINTS), np.nan),
        person_scores=np.full(1, np.nan),
        track_ids=np.zeros(1, np.int64),
        boxes_xywh=np.array([[box[0], box[1], box[2] - box[0], box[3] - box[1]]]),
        head_boxes_xywh=np.full((1, 4), np.nan),
        annotation_ids=np.full(1, -1, np.int64),
        person_extras=({},),
    )


def write_crowd_composites(
    lsp_root: str | Path,
    out_dir: str | Path,
    split: str = "fit",
    cfg: CompositeConfig | None = None,
) -> tuple[int, int]:
    """Write ``split``'s photos of LSP (``diffpose.data.lsp.load_lsp``) to ``out_dir`` in the
    PoseTrack layout (``annotations/train/<name>.json``, ``images/<name>/000000.jpg``), a share
    of them with a second person of the same split pasted in.

    Returns:
        (photos written, of which composites).
    """
    cfg = cfg or CompositeConfig()
    samples = load_lsp(lsp_root, split, delta=0)
    if len(samples) < 2:
        raise ValueError(f"{lsp_root} ({split}): need at least two labelled photos")
    out = Path(out_dir)
    (out / "annotations" / "train").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(cfg.seed)
    composites = 0
    for i, sample in enumerate(samples):
        path = Path(sample.key_frame_path)
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f"{path}: cannot read image")
        kp = sample.keypoints_xy
        if rng.random() < cfg.share:
            j = (i + int(rng.integers(1, len(samples)))) % len(samples)  # any other photo
            other = samples[j]
            other_bgr = cv2.imread(other.key_frame_path, cv2.IMREAD_COLOR)
            if other_bgr is None:
                raise FileNotFoundError(f"{other.key_frame_path}: cannot read image")
            image, kp = composite_pair(image, sample, other_bgr, other, cfg, rng)
            composites += 1
        name = f"lsp_{split}_{path.stem}"
        rel = f"images/{name}/000000.jpg"
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(out / rel), image, [cv2.IMWRITE_JPEG_QUALITY, 95]):
            raise OSError(f"{out / rel}: cannot write image")
        frame = _still_frame(rel, kp, sample.weights)
        video = PoseTrackVideo(
            source=str(path), fmt="2018", vid_id=vid_id_for(name), frames=(frame,)
        )
        atomic_write_text(
            out / "annotations" / "train" / f"{name}.json", json.dumps(to_posetrack18(video))
        )
    LOG.info(
        "%s: %d photos, %d with a second person -> %s", lsp_root, len(samples), composites, out
    )
    return len(samples), composites
