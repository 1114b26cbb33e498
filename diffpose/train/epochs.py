"""One training epoch of Algorithm 1, from cached backbone features or from images, and the
per-joint loss weights both use (hard-example weighting)."""

from __future__ import annotations

import torch

from diffpose.heatmaps import keypoints_to_heatmaps
from diffpose.keypoints import KEYPOINT_NAMES
from diffpose.model import DiffPose
from diffpose.train.config import TrainConfig
from diffpose.train.prior_collapse import collapse_pairs

__all__ = [
    "ARM_SLOTS",
    "LOWER_BODY_SLOTS",
    "LossModule",
    "epoch_cached",
    "epoch_images",
    "loss_weights",
    "targets",
]

LOWER_BODY_SLOTS = tuple(
    KEYPOINT_NAMES.index(f"{side}_{joint}")
    for joint in ("hip", "knee", "ankle")
    for side in ("left", "right")
)

#: elbows and wrists: the slots ``TrainConfig.arm_weight`` scales
ARM_SLOTS = tuple(
    KEYPOINT_NAMES.index(f"{side}_{joint}")
    for joint in ("elbow", "wrist")
    for side in ("left", "right")
)


def loss_weights(weights: torch.Tensor, cfg: TrainConfig) -> torch.Tensor:
    """(B, K) per-joint loss weights: the labels' (0 where unlabelled), the lower body's
    scaled by ``cfg.lower_body_weight`` and the elbows' and wrists' by ``cfg.arm_weight``
    (hard-example weighting; 1 leaves them as they are)."""
    if cfg.lower_body_weight == 1.0 and cfg.arm_weight == 1.0:
        return weights
    scale = torch.ones(weights.shape[-1], dtype=weights.dtype, device=weights.device)
    scale[list(LOWER_BODY_SLOTS)] = cfg.lower_body_weight
    scale[list(ARM_SLOTS)] = cfg.arm_weight
    return weights * scale


def targets(batch: dict, model: DiffPose, device) -> tuple[torch.Tensor, torch.Tensor]:
    kp = batch["keypoints_hm"].to(device).float()
    return keypoints_to_heatmaps(kp, model.heatmap_size, model.sigma), batch["weights"].to(
        device
    ).float()


def epoch_cached(
    model, opt, cache, epoch: int, cfg: TrainConfig, gen: torch.Generator, bar, ema=None
) -> float:
    feats, kps, weights, priors, prior_scores, others, others_scores = cache
    v = epoch % feats.shape[0]
    order = torch.randperm(feats.shape[1], generator=gen)
    total, n = 0.0, 0
    for start in range(0, len(order), cfg.batch_size):
        idx = order[start : start + cfg.batch_size]
        heatmaps = keypoints_to_heatmaps(kps[v, idx].float(), model.heatmap_size, model.sigma)
        prior = model.prior_from_keypoints(
            collapse_pairs(priors[v, idx], cfg.prior_collapse_prob, gen),
            prior_scores[v, idx],
            others[v, idx],
            others_scores[v, idx],
        )
        loss = model.loss_from_features(
            feats[v, idx].float(),
            heatmaps,
            loss_weights(weights[v, idx], cfg),
            generator=gen,
            prior=prior,
            own_step_prob=cfg.own_step_prob,
            hard_joints=cfg.hard_joints,
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total, n = total + _step_done(model, ema, loss, len(idx), bar), n + len(idx)
    return total / max(n, 1)


def epoch_images(model, ddp_model, opt, loader, device, scaler, gen, bar, cfg, ema=None) -> float:
    total, n = 0.0, 0
    for batch in loader:
        heatmaps, w = targets(batch, model, device)
        w = loss_weights(w, cfg)
        prior = model.prior_from_keypoints(
            collapse_pairs(batch["prior_hm"].to(device), cfg.prior_collapse_prob, gen),
            batch["prior_scores"].to(device),
            batch["others_hm"].to(device),
            batch["others_scores"].to(device),
        )
        clips = batch["clip"].to(device, non_blocking=True)
        with torch.autocast(device.type, enabled=scaler is not None):
            loss = ddp_model(clips, heatmaps, w, gen, prior)
        opt.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        total, n = total + _step_done(model, ema, loss, len(clips), bar), n + len(clips)
    return total / max(n, 1)


def _step_done(model, ema, loss: torch.Tensor, batch_len: int, bar) -> float:
    """After an optimiser step: the weight average updated (where kept) and the progress bar;
    returns the batch's summed loss."""
    if ema is not None:
        ema.update(model)
    bar.update(batch_len)
    bar.set_postfix(loss=f"{loss.item():.5f}")
    return loss.item() * batch_len


class LossModule(torch.nn.Module):
    """DDP wraps forward(); route it to the training loss."""

    def __init__(self, model: DiffPose, own_step_prob: float = 0.0, hard_joints: int = 0) -> None:
        super().__init__()
        self.model = model
        self.own_step_prob = own_step_prob
        self.hard_joints = hard_joints

    def forward(self, clips, heatmaps, weights, generator=None, prior=None):
        # A CPU generator cannot draw CUDA noise; on CUDA the global RNG (seeded) is used.
        return self.model.loss(
            clips,
            heatmaps,
            weights,
            generator=generator if clips.device.type == "cpu" else None,
            prior=prior,
            own_step_prob=self.own_step_prob,
            hard_joints=self.hard_joints,
        )
