"""Train DiffPose (Algorithm 1) with the paper's recipe; runnable as ``python -m diffpose.train``.

Recipe (§4.1): AdamW, lr 5e-4 decayed ×0.1 at epochs 20 and 40, 60 epochs; all configurable.
Resume from ``last.pt``, periodic validation with the PoseTrack evaluator, best-checkpoint
saving, optional EMA weights (``--ema-decay``: validated and saved instead of the last step's),
a progress bar, a CSV log of loss and mAP per epoch, AMP on CUDA, and multi-GPU through
``torchrun`` (DDP + DistributedSampler; the gloo backend on CPUs).

With a frozen backbone (the ``cpu`` preset) ``--feature-cache A`` computes the backbone
features of A augmented versions of every training clip once and trains the STRL and decoder
on them (epoch e uses version e mod A): the same model, many times faster on a CPU.

Data specs (repeat ``--data``): ``lsp:ROOT[:split]``, ``posetrack:ROOT:split`` (also for
pseudo-labelled video written by ``posetool pseudo-label``), ``coco:JSON:IMAGE_ROOT[:layout]``.

A model that refines the detector's pose (``decoder.prior``, the ``cpu`` preset) needs the
detector's pose of every sample: ``--priors FILE.npz`` (``posetool detector-priors``).
Checkpoints are chosen on ``--val-lsp ROOT:split`` (PCKh@0.5; ``lsp:ROOT:val`` is LSP train
images 901–1000, left out of ``lsp:ROOT:fit``) or on PoseTrack files (``--val-gt``); never
choose on a set you report.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler

from diffpose.checkpoint import save_checkpoint
from diffpose.config import DiffPoseConfig
from diffpose.data.clip_dataset import ClipDataset
from diffpose.data.coco import load_coco_keypoints
from diffpose.data.lsp import load_lsp
from diffpose.data.posetrack import load_posetrack_dataset
from diffpose.data.priors import attach_priors
from diffpose.data.samples import PoseSample
from diffpose.data.transforms import AugmentConfig
from diffpose.heatmaps import keypoints_to_heatmaps
from diffpose.keypoints import KEYPOINT_NAMES
from diffpose.model import DiffPose
from diffpose.weight_average import WeightAverage

LOG = logging.getLogger("diffpose.train")
PRESETS = {
    "cpu": DiffPoseConfig.cpu,
    "cpu-paper": DiffPoseConfig.cpu_paper,
    "paper": DiffPoseConfig.paper,
    "tiny": DiffPoseConfig.tiny,
}


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (paper defaults)."""

    epochs: int = 60
    lr: float = 5e-4
    milestones: tuple[int, ...] = (20, 40)
    gamma: float = 0.1
    weight_decay: float = 1e-4
    batch_size: int = 32
    workers: int = 0
    seed: int = 0
    val_every: int = 5
    feature_cache: int = 0
    val_steps: int = 2
    val_ensemble: int = 2
    max_samples: int = 0
    amp: bool = True
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    lower_body_weight: float = 1.0
    arm_weight: float = 1.0
    ema_decay: float = 0.0
    own_step_prob: float = 0.0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError("epochs and batch_size must be >= 1 and lr > 0")
        if self.feature_cache < 0 or self.val_every < 0 or self.workers < 0:
            raise ValueError("feature_cache, val_every and workers must be >= 0")
        if list(self.milestones) != sorted(self.milestones):
            raise ValueError(f"milestones must increase, got {self.milestones}")
        if self.lower_body_weight <= 0:
            raise ValueError(f"lower_body_weight must be > 0, got {self.lower_body_weight}")
        if self.arm_weight <= 0:
            raise ValueError(f"arm_weight must be > 0, got {self.arm_weight}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if not 0.0 <= self.own_step_prob <= 1.0:
            raise ValueError(f"own_step_prob must be in [0, 1], got {self.own_step_prob}")


def load_data_spec(spec: str, delta: int) -> list[PoseSample]:
    """Samples of one ``--data`` spec (see module docstring)."""
    kind, _, rest = spec.partition(":")
    parts = rest.split(":") if rest else []
    if kind == "lsp" and parts:
        return load_lsp(parts[0], parts[1] if len(parts) > 1 else "train", delta)
    if kind == "posetrack" and len(parts) == 2:
        return load_posetrack_dataset(parts[0], parts[1], delta, source=Path(parts[0]).name)
    if kind == "coco" and len(parts) >= 2:
        return load_coco_keypoints(
            parts[0], parts[1], parts[2] if len(parts) > 2 else "coco17", delta
        )
    raise ValueError(
        f"bad --data spec {spec!r}: use lsp:ROOT[:split], posetrack:ROOT:split, coco:JSON:ROOT[:layout]"
    )


def _cache_key(model_cfg: DiffPoseConfig, cfg: TrainConfig, samples: list[PoseSample]) -> str:
    """What a feature cache depends on: samples (with priors), augmentation, backbone, δ."""
    import hashlib

    from diffpose.data.priors import sample_key

    h = hashlib.sha256()
    for s in samples:
        h.update(sample_key(s).encode())
        if s.prior_xy is not None:
            h.update(np.asarray(s.prior_xy, np.float32).tobytes())
        if s.alt_prior_xy is not None:
            h.update(b"alt" + np.asarray(s.alt_prior_xy, np.float32).tobytes())
        if s.others_xy is not None:
            h.update(b"others" + np.asarray(s.others_xy, np.float32).tobytes())
            h.update(np.asarray(s.others_scores, np.float32).tobytes())
    for part in (
        model_cfg.delta,
        model_cfg.image_size,
        model_cfg.backbone,
        cfg.augment,
        cfg.seed,
        cfg.feature_cache,
    ):
        h.update(repr(part).encode())
    return h.hexdigest()


def _dist_info() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return world, int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))


def _targets(batch: dict, model: DiffPose, device) -> tuple[torch.Tensor, torch.Tensor]:
    kp = batch["keypoints_hm"].to(device).float()
    return keypoints_to_heatmaps(kp, model.heatmap_size, model.sigma), batch["weights"].to(
        device
    ).float()


@torch.no_grad()
def build_feature_cache(
    model: DiffPose, ds: ClipDataset, versions: int, batch_size: int, workers: int
):
    """Backbone features of ``versions`` augmentations of every sample (float16, CPU),
    with their targets and priors: a tuple of :data:`CACHE_FIELDS` tensors, each (A, S, ...).

    Static clips without motion repeat one frame: its features are computed once.
    """
    feats = []
    columns = {name: [] for name in CACHE_FIELDS[1:]}
    model.eval()
    key = model.num_frames // 2
    static = torch.tensor([s.static and ds.static_motion_px == 0 for s in ds.samples])
    for v in range(versions):
        ds.set_epoch(v)
        loader = DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=workers)
        f_v = []
        columns_v = {name: [] for name in columns}
        for batch in loader:
            clips, idx = batch["clip"], batch["index"]
            out = torch.empty(
                (
                    len(clips),
                    model.num_frames,
                    model.backbone.out_channels,
                    *model.config.feature_size,
                ),
                dtype=torch.float16,
            )
            st = static[idx]
            if st.any():
                out[st] = model.frame_features(clips[st, key]).to(torch.float16)[:, None]
            if (~st).any():
                out[~st] = model.clip_features(clips[~st]).to(torch.float16)
            f_v.append(out)
            for name, parts in columns_v.items():
                parts.append(batch[name])
        feats.append(torch.cat(f_v))
        for name, parts in columns_v.items():
            columns[name].append(torch.cat(parts))
        LOG.info("feature cache: version %d/%d done (%d clips)", v + 1, versions, len(ds))
    return (torch.stack(feats), *(torch.stack(parts) for parts in columns.values()))


#: The feature cache's tensors, in order: the backbone features, then these items of
#: :class:`ClipDataset`.
CACHE_FIELDS = (
    "features", "keypoints_hm", "weights", "prior_hm", "prior_scores", "others_hm",
    "others_scores",
)  # fmt: skip


#: hips, knees and ankles: the slots ``TrainConfig.lower_body_weight`` scales
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


def _loss_weights(weights: torch.Tensor, cfg: TrainConfig) -> torch.Tensor:
    """(B, K) per-joint loss weights: the labels' (0 where unlabelled), the lower body's
    scaled by ``cfg.lower_body_weight`` and the elbows' and wrists' by ``cfg.arm_weight``
    (hard-example weighting; 1 leaves them as they are)."""
    if cfg.lower_body_weight == 1.0 and cfg.arm_weight == 1.0:
        return weights
    scale = torch.ones(weights.shape[-1], dtype=weights.dtype, device=weights.device)
    scale[list(LOWER_BODY_SLOTS)] = cfg.lower_body_weight
    scale[list(ARM_SLOTS)] = cfg.arm_weight
    return weights * scale


def _epoch_cached(
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
            priors[v, idx], prior_scores[v, idx], others[v, idx], others_scores[v, idx]
        )
        loss = model.loss_from_features(
            feats[v, idx].float(),
            heatmaps,
            _loss_weights(weights[v, idx], cfg),
            generator=gen,
            prior=prior,
            own_step_prob=cfg.own_step_prob,
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if ema is not None:
            ema.update(model)
        total, n = total + loss.item() * len(idx), n + len(idx)
        bar.update(len(idx))
        bar.set_postfix(loss=f"{loss.item():.5f}")
    return total / max(n, 1)


def _epoch_images(model, ddp_model, opt, loader, device, scaler, gen, bar, cfg, ema=None) -> float:
    total, n = 0.0, 0
    for batch in loader:
        heatmaps, w = _targets(batch, model, device)
        w = _loss_weights(w, cfg)
        prior = model.prior_from_keypoints(
            batch["prior_hm"].to(device),
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
        if ema is not None:
            ema.update(model)
        total, n = total + loss.item() * len(clips), n + len(clips)
        bar.update(len(clips))
        bar.set_postfix(loss=f"{loss.item():.5f}")
    return total / max(n, 1)


class _LossModule(torch.nn.Module):
    """DDP wraps forward(); route it to the training loss."""

    def __init__(self, model: DiffPose, own_step_prob: float = 0.0) -> None:
        super().__init__()
        self.model = model
        self.own_step_prob = own_step_prob

    def forward(self, clips, heatmaps, weights, generator=None, prior=None):
        # A CPU generator cannot draw CUDA noise; on CUDA the global RNG (seeded) is used.
        return self.model.loss(
            clips,
            heatmaps,
            weights,
            generator=generator if clips.device.type == "cpu" else None,
            prior=prior,
            own_step_prob=self.own_step_prob,
        )


def train(
    model_cfg: DiffPoseConfig,
    cfg: TrainConfig,
    data: list[str],
    out_dir: str | Path,
    val_gt: list[str] | None = None,
    val_root: str | None = None,
    resume: str | None = None,
    priors: list[str] | None = None,
    val_lsp: str | None = None,
    cache_file: str | None = None,
    alt_priors: list[str] | None = None,
) -> Path:
    """Run training; returns the path of the best (or last) checkpoint.

    ``priors``: detector-pose files of the samples (models that refine the detector's pose);
    ``val_lsp``: "ROOT:split" of LSP samples to choose the checkpoint on (PCKh@0.5), used
    instead of the PoseTrack files ``val_gt``; ``cache_file``: keep the feature cache there
    and reuse it when data, augmentation, backbone and δ match (ablations share it);
    ``alt_priors``: files of another detector pose per sample, given instead of the prior with
    ``cfg.augment.prior_alt_prob`` (e.g. the whole-frame detection's for a crop-prior model).
    """
    from tqdm import tqdm

    world, rank, local_rank = _dist_info()
    use_cuda = torch.cuda.is_available()
    if world > 1:
        torch.distributed.init_process_group("nccl" if use_cuda else "gloo")
    device = torch.device(f"cuda:{local_rank}" if use_cuda else "cpu")
    out = Path(out_dir)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed + rank)
    gen = torch.Generator().manual_seed(cfg.seed + rank)

    samples: list[PoseSample] = []
    for spec in data:
        samples += load_data_spec(spec, model_cfg.delta)
    if cfg.max_samples:
        samples = [
            samples[i]
            for i in np.random.default_rng(cfg.seed).permutation(len(samples))[: cfg.max_samples]
        ]
    if not samples:
        raise ValueError(f"no training samples in {data}")
    if model_cfg.decoder.prior and not priors:
        raise ValueError(
            "this model refines the detector's pose: pass --priors "
            "(posetool detector-priors on the same --data)"
        )
    if bool(alt_priors) != bool(cfg.augment.prior_alt_prob):
        raise ValueError("--alt-priors and --prior-alt-prob > 0 go together")
    if alt_priors and not priors:
        raise ValueError("--alt-priors needs --priors")
    source = model_cfg.decoder.prior_source
    if priors:
        samples = attach_priors(samples, *priors, source=source)
    if alt_priors:
        samples = attach_priors(samples, *alt_priors, alternative=True)
    wants_others = model_cfg.decoder.prior_others or cfg.augment.prior_capture_prob
    if wants_others and not any(s.others_xy is not None for s in samples):
        raise ValueError(
            "decoder.prior_others and --prior-capture-prob need the other persons' poses: "
            "--priors files made by this version of posetool detector-priors hold them"
        )
    val_samples = None
    if val_lsp:
        root, _, split = val_lsp.rpartition(":")
        val_samples = load_lsp(root, split, model_cfg.delta)
        if priors:
            val_samples = attach_priors(val_samples, *priors, source=source)
    counts: dict[str, int] = {}
    for s in samples:
        counts[s.source] = counts.get(s.source, 0) + 1
    LOG.info("training samples: %s", counts)

    model = DiffPose.from_config(model_cfg).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, list(cfg.milestones), cfg.gamma)
    ema = WeightAverage(model, cfg.ema_decay) if cfg.ema_decay else None
    start_epoch, best = 0, -1.0
    if resume:
        state = torch.load(resume, map_location=device, weights_only=True)
        model.load_state_dict(state["model"], strict=False)
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        start_epoch, best = int(state["epoch"]) + 1, float(state["best"])
        gen.set_state(state["generator"])
        if ema is not None:
            if "ema" not in state:
                raise ValueError(f"{resume} has no EMA weights: it was trained without --ema-decay")
            ema.load_state_dict(state["ema"])
        LOG.info("resumed from %s at epoch %d", resume, start_epoch)

    frozen = not any(p.requires_grad for p in model.backbone.parameters())
    use_cache = bool(cfg.feature_cache and frozen and world == 1)
    # Cached still images skip the copy-to-copy motion: one backbone pass serves the clip.
    ds = ClipDataset(
        samples,
        crop_hw=model_cfg.image_size,
        augment=cfg.augment,
        sigma=model_cfg.diffusion.sigma,
        seed=cfg.seed,
        static_motion_px=0.0 if use_cache else 4.0,
    )
    cache = None
    if use_cache:
        t0 = time.time()
        key = _cache_key(model_cfg, cfg, samples)
        if cache_file and Path(cache_file).is_file():
            stored = torch.load(cache_file, weights_only=True)
            if stored.get("key") == key:
                cache = tuple(stored["tensors"])
                LOG.info("feature cache read from %s", cache_file)
            else:
                LOG.info("feature cache %s is for other data or settings: rebuilt", cache_file)
        if cache is None:
            cache = build_feature_cache(model, ds, cfg.feature_cache, cfg.batch_size, cfg.workers)
            if cache_file:
                tmp = Path(str(cache_file) + ".tmp")
                torch.save({"key": key, "tensors": list(cache)}, tmp)
                os.replace(tmp, cache_file)
        LOG.info("feature cache ready in %.0f s: %s", time.time() - t0, tuple(cache[0].shape))
    ddp_model = _LossModule(model, cfg.own_step_prob)
    if world > 1:
        ddp_model = torch.nn.parallel.DistributedDataParallel(
            ddp_model, device_ids=[local_rank] if use_cuda else None
        )
    sampler = (
        DistributedSampler(ds, world, rank, shuffle=True, seed=cfg.seed) if world > 1 else None
    )
    loader = DataLoader(
        ds,
        batch_size=cfg.batch_size,
        shuffle=sampler is None,
        sampler=sampler,
        num_workers=cfg.workers,
        drop_last=len(ds) > cfg.batch_size,
        generator=torch.Generator().manual_seed(cfg.seed),
    )
    scaler = torch.amp.GradScaler("cuda") if (use_cuda and cfg.amp) else None

    log_path = out / "log.csv"
    if rank == 0 and not (resume and log_path.exists()):
        with log_path.open("w", newline="") as fh:
            metric = "val_pckh" if val_lsp else "map_total"
            csv.writer(fh).writerow(["epoch", "loss", "lr", metric, "seconds"])
    for epoch in range(start_epoch, cfg.epochs):
        t0 = time.time()
        model.train()
        ds.set_epoch(epoch)
        if sampler is not None:
            sampler.set_epoch(epoch)
        with tqdm(
            total=len(ds), desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=rank != 0, leave=False
        ) as bar:
            if cache is not None:
                loss = _epoch_cached(model, opt, cache, epoch, cfg, gen, bar, ema)
            else:
                loss = _epoch_images(
                    model, ddp_model, opt, loader, device, scaler, gen, bar, cfg, ema
                )
        lr = opt.param_groups[0]["lr"]
        sched.step()
        m_ap = float("nan")
        last_epoch = epoch + 1 == cfg.epochs
        due = cfg.val_every and ((epoch + 1) % cfg.val_every == 0 or last_epoch)
        # validation and the saved checkpoints use the averaged weights (when kept)
        evaluated = ema.swapped_in(model) if ema is not None else contextlib.nullcontext(model)
        with evaluated:
            if rank == 0 and due and val_samples:
                from diffpose.validation import lsp_pckh

                m_ap = lsp_pckh(model, val_samples, steps=cfg.val_steps, ensemble=cfg.val_ensemble)
            elif rank == 0 and due and val_gt:
                from diffpose.validation import posetrack_map

                m_ap = posetrack_map(
                    model, val_gt, val_root, steps=cfg.val_steps, ensemble=cfg.val_ensemble
                ).total_ap
            if rank == 0 and not np.isnan(m_ap) and m_ap > best:
                best = m_ap
                metric = "val_pckh" if val_samples else "map_total"
                save_checkpoint(
                    model, out / "best.safetensors", extra={"epoch": epoch, metric: m_ap}
                )
            if rank == 0 and last_epoch:
                save_checkpoint(model, out / "final.safetensors", extra={"epochs": cfg.epochs})
        if rank == 0:
            _save_epoch(model, opt, sched, gen, epoch, best, out, ema)
            with log_path.open("a", newline="") as fh:
                csv.writer(fh).writerow(
                    [
                        epoch + 1,
                        f"{loss:.6f}",
                        f"{lr:.2e}",
                        f"{m_ap:.2f}",
                        f"{time.time() - t0:.1f}",
                    ]
                )
            LOG.info(
                "epoch %d loss %.5f lr %.1e validation %.2f (%.0f s)",
                epoch + 1,
                loss,
                lr,
                m_ap,
                time.time() - t0,
            )
    if world > 1:
        torch.distributed.destroy_process_group()
    return out / ("best.safetensors" if best >= 0 else "final.safetensors")


def _save_epoch(model, opt, sched, gen, epoch: int, best: float, out: Path, ema=None) -> None:
    """Resumable state (tensors and numbers only: loads with weights_only=True); the model's
    own trained weights, and the EMA of them where one is kept."""
    state = {
        "model": {
            k: v
            for k, v in model.state_dict().items()
            if not k.startswith("backbone.") or not model.backbone_from_source
        },
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "epoch": epoch,
        "best": best,
        "generator": gen.get_state(),
    }
    if ema is not None:
        state["ema"] = ema.state_dict()
    tmp = out / "last.pt.tmp"
    torch.save(state, tmp)
    os.replace(tmp, out / "last.pt")


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


if __name__ == "__main__":
    main()
