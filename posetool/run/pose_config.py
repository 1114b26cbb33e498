"""DiffPose inference settings and the shipped checkpoints: which file a preset loads, and
loading it.

``CheckpointNotFoundError`` is the typed error for a missing checkpoint: a batch stops on it
(every input would fail alike) instead of recording one failure per input.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from diffpose.config import HEATMAP_DECODINGS
from diffpose.precision import PRECISIONS

__all__ = [
    "CROP_MODES",
    "PRIOR_CHOICES",
    "PRESET_CHECKPOINTS",
    "CheckpointNotFoundError",
    "PoseConfig",
    "default_checkpoint_path",
    "load_pose_model",
]

logger = logging.getLogger(__name__)

CROP_MODES = ("own_box", "key_box")
#: How a crop-prior refiner's prior is picked per person (posetool.run.crop_priors.choose_prior);
#: "rule" is what the shipped refiner's training priors were made with.
PRIOR_CHOICES = ("rule", "crop", "detection", "confident", "per_joint", "both")
#: Shipped checkpoints by preset: "refine" refines the detector's keypoints (the default,
#: resources/MODEL_CARD.md); "paper" is the paper's pure-noise DiffPose on the same data.
PRESET_CHECKPOINTS = {
    "refine": "diffpose_cpu.safetensors",
    "paper": "diffpose_cpu_paper.safetensors",
}


class CheckpointNotFoundError(FileNotFoundError):
    """The DiffPose checkpoint a config names does not exist; the message names the path."""


def default_checkpoint_path(preset: str = "refine") -> Path:
    """The shipped checkpoint of ``preset`` (:data:`PRESET_CHECKPOINTS`): in ``resources/``
    beside the ``posetool`` package (a checkout or an editable install), else where a wheel
    install puts it (``<prefix>/share/posetool/resources``); the checkout path when neither
    has it."""
    import sys

    import posetool

    name = PRESET_CHECKPOINTS[preset]
    checkout = Path(posetool.__file__).resolve().parents[1] / "resources" / name
    installed = Path(sys.prefix) / "share" / "posetool" / "resources" / name
    return installed if not checkout.is_file() and installed.is_file() else checkout


@dataclass(frozen=True)
class PoseConfig:
    """DiffPose inference settings.

    Attributes:
        steps: DDIM sampling steps. Default 1: the shipped model is most accurate with one
            step (resources/MODEL_CARD.md, steps x N grid; the paper uses 4).
        ensemble: Noise draws averaged per person (paper: 10; 5 keeps a spread signal).
        crop_mode: ``own_box`` (per-frame features reused across windows) or ``key_box``
            (the paper: the whole window cropped with the key frame's box).
        device: Torch device string.
        preset: "refine" (the default: DiffPose refining the detector's own keypoints) or
            "paper" (the paper's DiffPose from pure noise); picks the shipped checkpoint.
        checkpoint: DiffPose checkpoint file; "" uses the preset's shipped one.
        batch_size: Most person-windows (clips) per model call.
        min_box_score: Tracked boxes scoring below this are dropped (PoseTrack test rule).
        seed: Seed of the N noise draws, drawn once per estimator and shared by every person
            and frame (results are reproducible).
        flip_test: Also run mirrored clips and average (doubles the cost).
        precision: "auto" (bfloat16 where the device computes it natively, else float32),
            "fp32" or "bf16" (diffpose.precision); the accuracy cost is in MODEL_CARD.md.
        prior_choice: for a crop-prior refiner, how each person's prior is picked between the
            Pose head's pose on its crop and the whole-frame detection's
            (posetool.run.crop_priors.choose_prior; chosen on the validation video set); "both"
            runs the refiner from each and averages their N draws each (a second decoder
            pass per person; the STRL is shared).
        large_prior_crop_px: for a crop-prior refiner with ``prior_choice`` "rule" (other
            choices ignore it), the height in px (a multiple of 32, as 3/4 of it, the
            width) of a larger crop on which YOLO's Pose head re-runs for each person whose
            model-size crop held fewer of its pixels than the detector's base input
            (``DetectorConfig.imgsz``; posetool.run.crop_priors.large_crop_priors): a large
            person in a large frame; its
            pose replaces the detection's where it holds at least as many. 384 was chosen
            on the validation video set (resources/MODEL_CARD.md); 0 keeps the detection's
            pose there (the setting until then).
        max_prior_crop_px: with ``large_prior_crop_px`` (ignored without it), 0 or the
            tallest crop sized per person for whom even that crop holds fewer of its pixels
            than the detector's base input (a very large person in a frame larger than that
            input, which the detector may see at a larger input:
            ``DetectorConfig.max_imgsz``): the smallest crop that holds as many, its height a
            multiple of 128 (posetool.run.crop_priors.scale_reaching_crop_px), replaces the
            whole-frame detection's pose. 1024 was chosen on the validation photos
            (bench/val_photo_labels/; resources/MODEL_CARD.md); 0 (or any size up to
            ``large_prior_crop_px``) keeps the detection's pose.
        prior_crop_px: for a crop-prior refiner with ``prior_choice`` "rule" (other choices
            ignore it), 0 or the height in px (a multiple of 32, as 3/4 of it, the width) of
            a crop on which YOLO's Pose head re-runs for each person whose prior is its
            model-size crop's pose (posetool.run.crop_priors.resized_crop_priors): the head
            finds limbs better on a person shown larger (resources/MODEL_CARD.md); a second
            head pass per such person. 384 was chosen on LSP val and the validation sets
            (resources/MODEL_CARD.md, the prior-crop version; the shipped refiner was trained
            on 256×192 crop poses); 0 takes the pose from the model's own crop pass.
        prior_crop_max_upscale: with ``prior_crop_px``, the most crop px per image px that
            crop may show a person at: one it would enlarge more keeps the model-size crop's
            pose (a small person of a low-resolution frame, blown up further, loses the
            detail the head needs: the validation videos lost 3.4 mAP without a limit).
            2.25 (the 256×192 crop enlarging it at most 1.5 times) was chosen on LSP val;
            0: no limit.
        duplicate_oks: of two poses in one frame more alike than this object keypoint
            similarity (two boxes on one person), one is dropped: the track posed in the
            previous frame keeps its pose, else the higher box score wins
            (posetool.run.duplicate_poses, posetool.run.pose_estimator); 0 keeps every pose. 0.5 was
            chosen on the validation video set and photos (resources/MODEL_CARD.md).
        heatmap_decoding: how each person's averaged heatmaps become keypoints
            (diffpose.config.HEATMAP_DECODINGS): "quarter", the argmax moved a quarter
            pixel toward the higher neighbour (HRNet), or "dark", a Newton step on the
            blurred log heatmap (DARK, Zhang et al., CVPR 2020). "dark" was chosen on LSP
            val and the validation sets with two held-out refiners (resources/MODEL_CARD.md,
            the DARK version); training's epoch selection (diffpose.train) keeps "quarter",
            so ``make train`` still reproduces the shipped checkpoint.
        prior_score_weight: for a model that refines the detector's pose, how much the
            detector's confidence of a joint (the prior's keypoint score) counts in that
            joint's score: peak^(1 − w) × prior^w × box score (posetool.run.joint_scores;
            head_top and neck, which the prior lacks, keep peak × box score). 0 is the
            paper's peak × box score (§4.1). The score ranks joints in PoseTrack's AP, hides
            joints in overlays (``render --min-score``) and flags them in the viewer; the
            keypoints do not move. 0.5 was chosen on the validation video set with two
            held-out refiners (resources/MODEL_CARD.md, the prior-score version).
    """

    steps: int = 1
    ensemble: int = 5
    crop_mode: Literal["own_box", "key_box"] = "own_box"
    preset: Literal["refine", "paper"] = "refine"
    device: str = "cpu"
    checkpoint: str = ""
    batch_size: int = 32
    min_box_score: float = 0.2
    seed: int = 0
    flip_test: bool = False
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    prior_choice: Literal["rule", "crop", "detection", "confident", "per_joint", "both"] = "rule"
    large_prior_crop_px: int = 384
    max_prior_crop_px: int = 1024
    prior_crop_px: int = 384
    prior_crop_max_upscale: float = 2.25
    duplicate_oks: float = 0.5
    heatmap_decoding: Literal["quarter", "dark"] = "dark"
    prior_score_weight: float = 0.5

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if self.ensemble < 1:
            raise ValueError(f"ensemble must be >= 1, got {self.ensemble}")
        if self.preset not in PRESET_CHECKPOINTS:
            raise ValueError(
                f"preset must be one of {tuple(PRESET_CHECKPOINTS)}, got {self.preset!r}"
            )
        if self.crop_mode not in CROP_MODES:
            raise ValueError(f"crop_mode must be one of {CROP_MODES}, got {self.crop_mode!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if not 0.0 <= self.min_box_score <= 1.0:
            raise ValueError(f"min_box_score must be in [0, 1], got {self.min_box_score}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.prior_choice not in PRIOR_CHOICES:
            raise ValueError(
                f"prior_choice must be one of {PRIOR_CHOICES}, got {self.prior_choice!r}"
            )
        for name in ("large_prior_crop_px", "prior_crop_px"):
            px = getattr(self, name)
            if px < 0 or px % 32 or (px * 3 // 4) % 32:
                raise ValueError(
                    f"{name} must be 0 or a multiple of 32 whose 3/4 is one too "
                    f"(e.g. 384), got {px}"
                )
        if self.max_prior_crop_px < 0 or self.max_prior_crop_px % 128:
            raise ValueError(
                "max_prior_crop_px must be 0 (off) or a multiple of 128, so that the crops' "
                "3/4 width is a multiple of 32 (e.g. 1024); a value up to large_prior_crop_px "
                f"also turns it off; got {self.max_prior_crop_px}"
            )
        if self.prior_crop_max_upscale < 0:
            raise ValueError(
                "prior_crop_max_upscale must be >= 0 (0: no limit), got "
                f"{self.prior_crop_max_upscale}"
            )
        if not 0.0 <= self.duplicate_oks < 1.0:
            raise ValueError(
                f"duplicate_oks must be in [0, 1) (0: keep every pose), got {self.duplicate_oks}"
            )
        if self.heatmap_decoding not in HEATMAP_DECODINGS:
            raise ValueError(
                f"heatmap_decoding must be one of {HEATMAP_DECODINGS}, "
                f"got {self.heatmap_decoding!r}"
            )
        if not 0.0 <= self.prior_score_weight <= 1.0:
            raise ValueError(
                f"prior_score_weight must be in [0, 1] (0: the paper's peak × box score), "
                f"got {self.prior_score_weight}"
            )
        if self.flip_test and self.crop_mode != "key_box":
            raise ValueError(
                "flip_test needs crop_mode 'key_box' (own_box caches unflipped features)"
            )

    def checkpoint_path(self) -> Path:
        return Path(self.checkpoint) if self.checkpoint else default_checkpoint_path(self.preset)


def load_pose_model(config: PoseConfig):
    """The DiffPose model of ``config.checkpoint`` on ``config.device``, in eval mode.

    Raises:
        CheckpointNotFoundError: The checkpoint does not exist.
    """
    from diffpose import load_checkpoint
    from diffpose.precision import resolve_precision

    path = config.checkpoint_path()
    if not path.is_file():
        raise CheckpointNotFoundError(f"DiffPose checkpoint '{path}' not found (pass --checkpoint)")
    model = load_checkpoint(path, map_location=config.device)
    model.set_inference_dtype(resolve_precision(config.precision, config.device))
    logger.info(
        "DiffPose %s: T=%d, crop %s, %s",
        path.name,
        model.num_frames,
        model.image_size,
        model.inference_dtype,
    )
    return model.eval()
