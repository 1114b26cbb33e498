"""Train DiffPose (Algorithm 1) with the paper's recipe: ``python -m diffpose.train``.

The command line of :func:`diffpose.train.loop.train`: the model preset with ``--set``
overrides, the optimisation settings, data and priors, validation and output.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import asdict
from pathlib import Path

from diffpose.config import DiffPoseConfig
from diffpose.data.transforms import AugmentConfig
from diffpose.train.config import TrainConfig
from diffpose.train.loop import train

__all__ = ["PRESETS", "main", "with_overrides"]

PRESETS = {
    "cpu": DiffPoseConfig.cpu,
    "cpu-paper": DiffPoseConfig.cpu_paper,
    "paper": DiffPoseConfig.paper,
    "tiny": DiffPoseConfig.tiny,
}


def with_overrides(cfg: DiffPoseConfig, overrides: list[str]) -> DiffPoseConfig:
    """``cfg`` with ``KEY=VALUE`` settings (dotted keys, YAML values) replaced; unknown keys
    and bad values raise ValueError naming them."""
    import yaml

    data = cfg.to_dict()
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set {item!r}: use KEY=VALUE, e.g. delta=0")
        *parents, leaf = key.strip().split(".")
        node = data
        for part in parents:
            if not isinstance(node.get(part), dict):
                raise ValueError(f"--set {item!r}: no settings group {part!r}")
            node = node[part]
        node[leaf] = yaml.safe_load(value)
    return DiffPoseConfig.from_dict(data)


def main(argv: list[str] | None = None) -> Path:
    p = argparse.ArgumentParser(
        prog="python -m diffpose.train", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    p.add_argument("--data", action="append", required=True, help="data spec; repeatable")
    p.add_argument(
        "--val-gt", nargs="*", default=None, help="PoseTrack GT JSON files for validation"
    )
    p.add_argument("--val-root", default=None, help="image root of the validation files")
    p.add_argument(
        "--val-lsp",
        default=None,
        help="ROOT:split of LSP samples to choose the checkpoint on (PCKh@0.5), "
        "e.g. ../shared/data/lsp:val; replaces --val-gt",
    )
    p.add_argument(
        "--priors",
        nargs="*",
        default=None,
        help="detector-pose .npz files (posetool detector-priors) for models "
        "that refine the detector's pose",
    )
    p.add_argument(
        "--feature-cache-file",
        default=None,
        help="keep the --feature-cache tensors in this file and reuse them when "
        "data, augmentation, backbone and delta match",
    )
    p.add_argument("--out", required=True)
    p.add_argument("--resume", default=None)
    defaults = TrainConfig()
    for name in (
        "epochs",
        "batch_size",
        "workers",
        "seed",
        "val_every",
        "feature_cache",
        "val_steps",
        "val_ensemble",
        "max_samples",
    ):
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name))
    for name in ("lr", "gamma", "weight_decay"):
        p.add_argument(f"--{name.replace('_', '-')}", type=float, default=getattr(defaults, name))
    p.add_argument("--milestones", type=int, nargs="*", default=list(defaults.milestones))
    aug = AugmentConfig()
    p.add_argument(
        "--alt-priors",
        nargs="*",
        default=None,
        help="another detector-pose .npz per sample (e.g. the whole-frame detection's, made "
        "without --crop), given instead of the --priors pose with --prior-alt-prob",
    )
    prior_settings = ("prior_jitter_prob", "prior_jitter_px", "prior_drop_prob", "prior_swap_prob",
                      "prior_capture_prob")  # fmt: skip
    for name in (*prior_settings, "prior_alt_prob"):
        p.add_argument(
            f"--{name.replace('_', '-')}",
            type=float,
            default=getattr(aug, name),
            help="the detector prior a refiner is given: corruptions and the "
            "alternative pose (AugmentConfig)",
        )
    p.add_argument(
        "--lower-body-weight",
        type=float,
        default=defaults.lower_body_weight,
        help="loss weight of hips, knees and ankles relative to the other joints",
    )
    p.add_argument(
        "--arm-weight",
        type=float,
        default=defaults.arm_weight,
        help="loss weight of elbows and wrists relative to the other joints",
    )
    p.add_argument(
        "--ema-decay",
        type=float,
        default=defaults.ema_decay,
        help="keep an exponential moving average of the weights (e.g. 0.998 per step) and "
        "validate and save it; 0 (default) keeps the last step's weights",
    )
    p.add_argument(
        "--own-step-prob",
        type=float,
        default=defaults.own_step_prob,
        help="share of training samples whose x_t is one DDIM step from the model's own "
        "first estimate, as sampling's later steps see it (DiffPose.loss_from_features); "
        "0 (default): the label noised, as the paper",
    )
    p.add_argument(
        "--hard-joints",
        type=int,
        default=defaults.hard_joints,
        help="keep only each sample's that many hardest joints in the loss (online hard "
        "keypoint mining); 0 (default) keeps every joint",
    )
    p.add_argument(
        "--prior-collapse-prob",
        type=float,
        default=defaults.prior_collapse_prob,
        help="per training step, each left/right pair of elbows, wrists, knees and ankles of "
        "the prior put on one spot with this probability (diffpose.train.prior_collapse); "
        "0 (default) off",
    )
    p.add_argument("--no-amp", action="store_true")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change one model setting of the preset, e.g. delta=0 or "
        "decoder.interaction=direct (ablations); repeatable",
    )
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    cfg = TrainConfig(
        epochs=a.epochs,
        lr=a.lr,
        milestones=tuple(a.milestones),
        gamma=a.gamma,
        weight_decay=a.weight_decay,
        batch_size=a.batch_size,
        workers=a.workers,
        seed=a.seed,
        val_every=a.val_every,
        feature_cache=a.feature_cache,
        val_steps=a.val_steps,
        val_ensemble=a.val_ensemble,
        max_samples=a.max_samples,
        amp=not a.no_amp,
        lower_body_weight=a.lower_body_weight,
        arm_weight=a.arm_weight,
        ema_decay=a.ema_decay,
        own_step_prob=a.own_step_prob,
        hard_joints=a.hard_joints,
        prior_collapse_prob=a.prior_collapse_prob,
        augment=AugmentConfig(
            prior_jitter_prob=a.prior_jitter_prob,
            prior_jitter_px=a.prior_jitter_px,
            prior_drop_prob=a.prior_drop_prob,
            prior_swap_prob=a.prior_swap_prob,
            prior_alt_prob=a.prior_alt_prob,
            prior_capture_prob=a.prior_capture_prob,
        ),
    )
    model_cfg = with_overrides(PRESETS[a.preset](), a.overrides)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    import json

    (out / "train_config.json").write_text(
        json.dumps(
            {
                "model": model_cfg.to_dict(),
                "train": asdict(cfg),
                "data": a.data,
                "priors": a.priors,
                "alt_priors": a.alt_priors,
                "val_lsp": a.val_lsp,
                "val_gt": a.val_gt,
            },
            indent=2,
            default=str,
        )
    )
    return train(
        model_cfg,
        cfg,
        a.data,
        out,
        a.val_gt,
        a.val_root,
        a.resume,
        a.priors,
        a.val_lsp,
        a.feature_cache_file,
        a.alt_priors,
    )
