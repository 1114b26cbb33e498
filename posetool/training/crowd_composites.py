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
sample exactly once, as in ``lsp:SPLIT``; the other photos are re-encoded (JPEG quality 95)
but otherwise unchanged. The set is written in the PoseTrack layout, one still per file (as
``posetool pseudo-label --stills``), for ``posetool detector-priors`` and ``diffpose.train``
(``--data posetrack:OUT:train``); read that way, its clips are 2δ+1 copies of the photo
without the small random motion ``lsp:SPLIT``'s static clips get in training. A composite's
canvas grows (black, as the training crops' border) where the pasted person reaches past the
photo, so crowded photos also carry more black border than plain ones. The settings are
written beside the set (``crowd_composites.json``).

Shape letters: K = 17 PoseTrack slots.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from diffpose.data.lsp import load_lsp
from diffpose.data.samples import PoseSample, keypoint_box
from diffpose.keypoints import KEYPOINT_NAMES, NUM_KEYPOINTS
from diffpose.posetrack_format import PoseTrackFrame, PoseTrackVideo, vid_id_for
from diffpose.posetrack_writer import to_posetrack18
from posetool.training.pseudo_label import persons_frame

__all__ = [
    "SETTINGS_FILE",
    "SPLITS",
    "CompositeConfig",
    "composite_pair",
    "person_mask",
    "write_crowd_composites",
]

LOG = logging.getLogger(__name__)
#: The settings a set was written with, beside its ``annotations/`` and ``images/``.
SETTINGS_FILE = "crowd_composites.json"


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
        vertical_offset_heights: the vertical distance between the centres is drawn from
            ± this, in the photo's person's heights.
        front_prob: probability that the pasted person stands in front (else behind).
        limb_width_heights: limb thickness of the cut-out mask, in person heights.
        edge_sigma_heights: the mask's soft edge (Gaussian sigma), in person heights.
        seed: the draws (pairs, scales, offsets, order).
    """

    share: float = 0.5
    height_ratio: tuple[float, float] = (0.8, 1.15)
    offset_heights: tuple[float, float] = (0.2, 0.6)
    vertical_offset_heights: float = 0.1
    front_prob: float = 0.5
    limb_width_heights: float = 0.12
    edge_sigma_heights: float = 0.02
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.share <= 1.0 or not 0.0 <= self.front_prob <= 1.0:
            raise ValueError("share and front_prob must be in [0, 1]")
        low, high = self.height_ratio
        if not 0.0 < low <= high:
            raise ValueError(f"height_ratio must be a range 0 < low <= high, got {(low, high)}")
        low, high = self.offset_heights
        if not 0.0 <= low <= high:
            raise ValueError(f"offset_heights must be a range 0 <= low <= high, got {(low, high)}")
        for name in ("vertical_offset_heights", "limb_width_heights", "edge_sigma_heights"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")

    def margin_heights(self) -> float:
        """How far the soft mask reaches past a person's joints, in person heights."""
        return self.limb_width_heights / 2 + 3 * self.edge_sigma_heights


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
    width = max(int(round(cfg.limb_width_heights * height)), 2)
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
    sigma = max(cfg.edge_sigma_heights * height, 0.5)
    soft = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), sigma)
    # the blur halves the mask at its drawn edge: ×1.5 keeps the drawn shape opaque and
    # leaves the soft fall-off outside it
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
    kp, weights = person.keypoints_xy, person.weights
    okp, other_weights = other.keypoints_xy, other.weights
    height, other_height = _height_px(kp, weights), _height_px(okp, other_weights)
    scale = height / other_height * rng.uniform(*cfg.height_ratio)
    box, other_box = keypoint_box(kp, weights), keypoint_box(okp, other_weights)
    centre = (box[:2] + box[2:]) / 2
    other_centre = (other_box[:2] + other_box[2:]) / 2
    side = 1.0 if rng.random() < 0.5 else -1.0
    target = centre + np.array(
        [
            side * rng.uniform(*cfg.offset_heights) * height,
            rng.uniform(-1.0, 1.0) * cfg.vertical_offset_heights * height,
        ]
    )
    # other image → this photo's frame: scale about the other person's centre, then move it
    affine = np.array(
        [[scale, 0.0, target[0] - scale * other_centre[0]],
         [0.0, scale, target[1] - scale * other_centre[1]]]
    )  # fmt: skip
    pasted_kp = okp * scale + affine[:, 2]
    # the canvas holds the pasted person's whole soft mask (its joints' box, padded by the mask's
    # reach past the joints, at least 0.15 of the box as a training box is)
    pasted_box = keypoint_box(pasted_kp, other_weights, pad=0.0)
    margin = cfg.margin_heights() * _height_px(pasted_kp, other_weights)
    pad_px = np.maximum(0.15 * (pasted_box[2:] - pasted_box[:2]), margin)
    pasted_box = np.concatenate([pasted_box[:2] - pad_px, pasted_box[2:] + pad_px])
    h_px, w_px = image_bgr.shape[:2]
    x0 = int(np.floor(min(0.0, pasted_box[0])))
    y0 = int(np.floor(min(0.0, pasted_box[1])))
    x1 = int(np.ceil(max(float(w_px), pasted_box[2])))
    y1 = int(np.ceil(max(float(h_px), pasted_box[3])))
    canvas_hw = (y1 - y0, x1 - x0)
    shift = np.array([-x0, -y0], np.float64)
    base = np.zeros((*canvas_hw, 3), np.uint8)
    base[-y0 : -y0 + h_px, -x0 : -x0 + w_px] = image_bgr
    affine[:, 2] += shift
    size = (canvas_hw[1], canvas_hw[0])
    # the other photo's colours, its edge pixels repeated past its border (never black) ...
    pasted = cv2.warpAffine(
        other_bgr, affine, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    ).astype(np.float32)
    # ... and pasted only where it has pixels: a mask reaching past its border pastes nothing there
    inside = cv2.warpAffine(np.ones(other_bgr.shape[:2], np.float32), affine, size)
    pasted_alpha = person_mask(pasted_kp + shift, other_weights, canvas_hw, cfg) * inside
    pasted_alpha = pasted_alpha[..., None]
    base_f = base.astype(np.float32)
    out = base_f * (1 - pasted_alpha) + pasted * pasted_alpha
    moved_kp = kp + shift
    if rng.random() >= cfg.front_prob:  # behind: the photo's person back on top
        own_alpha = person_mask(moved_kp, weights, canvas_hw, cfg)[..., None]
        out = out * (1 - own_alpha) + base_f * own_alpha
    return np.clip(np.round(out), 0, 255).astype(np.uint8), moved_kp


def _still_frame(file_name: str, keypoints_xy: np.ndarray, weights: np.ndarray) -> PoseTrackFrame:
    """The photo's one labelled person (visible where labelled, no scores, its training box)."""
    kp = np.zeros((1, NUM_KEYPOINTS, 3))
    labelled = weights > 0
    kp[0, labelled, :2] = keypoints_xy[labelled]
    kp[0, labelled, 2] = 1
    x0, y0, x1, y1 = keypoint_box(keypoints_xy, weights, pad=0.15)
    boxes = np.array([[x0, y0, x1 - x0, y1 - y0]])
    return persons_frame(0, file_name, True, (kp, np.full((1, NUM_KEYPOINTS), np.nan), boxes))


#: LSP splits a set may be made of: never its test half, which reports figures.
SPLITS: tuple[str, ...] = ("fit", "train", "val")


def _read_image(path: str | Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path}: unreadable image (missing, corrupt or not an image)")
    return image


def write_crowd_composites(
    lsp_root: str | Path,
    out_dir: str | Path,
    split: str = "fit",
    cfg: CompositeConfig | None = None,
    overwrite: bool = False,
) -> tuple[int, int]:
    """Write ``split``'s photos of LSP (``diffpose.data.lsp.load_lsp``) to ``out_dir`` in the
    PoseTrack layout (``annotations/train/<name>.json``, ``images/<name>/000000.jpg``), a share
    of them with a second person of the same split pasted in, and the settings
    (:data:`SETTINGS_FILE`).

    The set is built in a hidden folder beside ``out_dir`` and moved there when complete, so
    an interrupted run leaves no partial set. An existing ``out_dir`` that is not empty is
    replaced only with ``overwrite`` and only if it holds a set of this module (its settings
    file); anything else is refused.

    Returns:
        (photos written, of which composites).

    Raises:
        ValueError: a split outside :data:`SPLITS`, too few photos, or an unreadable image.
        FileExistsError: ``out_dir`` holds files and ``overwrite`` is off, or is not such a set.
    """
    cfg = cfg or CompositeConfig()
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} (never LSP's test half), got {split!r}")
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{out}: not empty; pass overwrite (--overwrite) to replace it")
        if not (out / SETTINGS_FILE).is_file():
            raise FileExistsError(
                f"{out}: holds no {SETTINGS_FILE}, so it is not a set this command wrote; "
                "not replaced"
            )
    samples = load_lsp(lsp_root, split, delta=0)
    if len(samples) < 2:
        raise ValueError(f"{lsp_root} ({split}): need at least two labelled photos")
    partial = out.parent / f".{out.name}.partial"
    if partial.exists():
        shutil.rmtree(partial)
    (partial / "annotations" / "train").mkdir(parents=True)
    rng = np.random.default_rng(cfg.seed)
    composites = 0
    for i, sample in enumerate(samples):
        path = Path(sample.key_frame_path)
        image = _read_image(path)
        kp = sample.keypoints_xy
        if rng.random() < cfg.share:
            j = (i + int(rng.integers(1, len(samples)))) % len(samples)  # any other photo
            other = samples[j]
            image, kp = composite_pair(
                image, sample, _read_image(other.key_frame_path), other, cfg, rng
            )
            composites += 1
        name = f"lsp_{split}_{path.stem}"
        rel = f"images/{name}/000000.jpg"
        (partial / rel).parent.mkdir(parents=True)
        if not cv2.imwrite(str(partial / rel), image, [cv2.IMWRITE_JPEG_QUALITY, 95]):
            raise OSError(f"{partial / rel}: cannot write image")
        frame = _still_frame(rel, kp, sample.weights)
        video = PoseTrackVideo(
            source=str(path), fmt="2018", vid_id=vid_id_for(name), frames=(frame,)
        )
        (partial / "annotations" / "train" / f"{name}.json").write_text(
            json.dumps(to_posetrack18(video))
        )
    settings = {
        "lsp_root": str(Path(lsp_root).resolve()),
        "split": split,
        **asdict(cfg),
        "photos": len(samples),
        "composites": composites,
    }
    (partial / SETTINGS_FILE).write_text(json.dumps(settings, indent=1))
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    LOG.info(
        "%s: %d photos, %d with a second person -> %s", lsp_root, len(samples), composites, out
    )
    return len(samples), composites
