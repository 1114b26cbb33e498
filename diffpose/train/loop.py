"""The training run (Algorithm 1): data and priors, model and optimiser, resume, epochs,
validation on a held-out split, checkpoints and the CSV log; DDP under ``torchrun``.

The order of the steps that draw random numbers (the global seed, the generator, the model's
initialisation, the data loaders) is part of the recipe: ``make train`` reproduces the shipped
checkpoint only while it stays as it is.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler

from diffpose.checkpoint import save_checkpoint
from diffpose.config import DiffPoseConfig
from diffpose.data.clip_dataset import ClipDataset
from diffpose.data.lsp import load_lsp
from diffpose.data.priors import attach_priors
from diffpose.data.samples import PoseSample
from diffpose.model import DiffPose
from diffpose.train.config import TrainConfig
from diffpose.train.data_specs import load_data_spec
from diffpose.train.epochs import LossModule, epoch_cached, epoch_images
from diffpose.train.feature_cache import cached_features
from diffpose.weight_average import WeightAverage

LOG = logging.getLogger("diffpose.train")

__all__ = ["train", "training_samples"]


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

    samples = training_samples(model_cfg, cfg, data, priors, alt_priors)
    val_samples = _lsp_validation_samples(model_cfg, val_lsp, priors)
    counts: dict[str, int] = {}
    for s in samples:
        counts[s.source] = counts.get(s.source, 0) + 1
    LOG.info("training samples: %s", counts)

    model, opt, sched, ema = _model_and_optimiser(model_cfg, cfg, device)
    start_epoch, best = 0, -1.0
    if resume:
        start_epoch, best = _resume(resume, device, model, opt, sched, gen, ema)

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
    cache = cached_features(model, ds, model_cfg, cfg, samples, cache_file) if use_cache else None
    ddp_model = _loss_module(model, cfg, world, local_rank, use_cuda)
    sampler, loader = _loader(ds, cfg, world, rank)
    scaler = torch.amp.GradScaler("cuda") if (use_cuda and cfg.amp) else None

    log_path = out / "log.csv"
    if rank == 0 and not (resume and log_path.exists()):
        _start_log(log_path, "val_pckh" if val_lsp else "map_total")
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
                loss = epoch_cached(model, opt, cache, epoch, cfg, gen, bar, ema)
            else:
                loss = epoch_images(
                    model, ddp_model, opt, loader, device, scaler, gen, bar, cfg, ema
                )
        lr = opt.param_groups[0]["lr"]
        sched.step()
        if rank != 0:
            continue
        m_ap, best = _validate_and_keep_best(
            model, ema, cfg, epoch, best, out, val_samples, val_gt, val_root
        )
        _save_epoch(model, opt, sched, gen, epoch, best, out, ema)
        _log_epoch(log_path, epoch, loss, lr, m_ap, time.time() - t0)
    if world > 1:
        torch.distributed.destroy_process_group()
    return out / ("best.safetensors" if best >= 0 else "final.safetensors")


def training_samples(
    model_cfg: DiffPoseConfig,
    cfg: TrainConfig,
    data: list[str],
    priors: list[str] | None,
    alt_priors: list[str] | None,
) -> list[PoseSample]:
    """The samples of the ``data`` specs (``cfg.max_samples`` of them, drawn with the run's
    seed), with their detector priors attached.

    Raises:
        ValueError: No samples, or priors missing for a model (or setting) that needs them.
    """
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
    if priors:
        samples = attach_priors(samples, *priors, source=model_cfg.decoder.prior_source)
    if alt_priors:
        samples = attach_priors(samples, *alt_priors, alternative=True)
    wants_others = model_cfg.decoder.prior_others or cfg.augment.prior_capture_prob
    if wants_others and not any(s.others_xy is not None for s in samples):
        raise ValueError(
            "decoder.prior_others and --prior-capture-prob need the other persons' poses: "
            "--priors files made by this version of posetool detector-priors hold them"
        )
    return samples


def _lsp_validation_samples(
    model_cfg: DiffPoseConfig, val_lsp: str | None, priors: list[str] | None
) -> list[PoseSample] | None:
    """The LSP samples of ``val_lsp`` ("ROOT:split") with their priors, or None."""
    if not val_lsp:
        return None
    root, _, split = val_lsp.rpartition(":")
    val_samples = load_lsp(root, split, model_cfg.delta)
    if priors:
        val_samples = attach_priors(val_samples, *priors, source=model_cfg.decoder.prior_source)
    return val_samples


def _model_and_optimiser(model_cfg: DiffPoseConfig, cfg: TrainConfig, device):
    """The model (initialised from the global seed) with its AdamW, step schedule and, with
    ``cfg.ema_decay``, the average of its weights."""
    model = DiffPose.from_config(model_cfg).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, list(cfg.milestones), cfg.gamma)
    ema = WeightAverage(model, cfg.ema_decay) if cfg.ema_decay else None
    return model, opt, sched, ema


def _loss_module(model: DiffPose, cfg: TrainConfig, world: int, local_rank: int, use_cuda: bool):
    """The training loss as a module, wrapped in DDP when there are several processes."""
    ddp_model = LossModule(model, cfg.own_step_prob, cfg.hard_joints)
    if world > 1:
        ddp_model = torch.nn.parallel.DistributedDataParallel(
            ddp_model, device_ids=[local_rank] if use_cuda else None
        )
    return ddp_model


def _loader(ds: ClipDataset, cfg: TrainConfig, world: int, rank: int):
    """(the distributed sampler or None, the image loader, seeded by the run's seed)."""
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
    return sampler, loader


def _start_log(log_path: Path, metric: str) -> None:
    with log_path.open("w", newline="") as fh:
        csv.writer(fh).writerow(["epoch", "loss", "lr", metric, "seconds"])


def _dist_info() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return world, int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))


def _resume(resume: str, device, model, opt, sched, gen, ema) -> tuple[int, float]:
    """Load ``last.pt``'s state into the run; returns (the epoch to start at, the best
    validation figure so far)."""
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
    return start_epoch, best


def _validate_and_keep_best(
    model, ema, cfg: TrainConfig, epoch: int, best: float, out: Path, val_samples, val_gt, val_root
) -> tuple[float, float]:
    """Validate when due (``cfg.val_every``, and after the last epoch) and save a new best and
    the final checkpoint; returns (this epoch's figure or NaN, the best so far). Validation and
    the saved checkpoints use the averaged weights where they are kept."""
    m_ap = float("nan")
    last_epoch = epoch + 1 == cfg.epochs
    due = cfg.val_every and ((epoch + 1) % cfg.val_every == 0 or last_epoch)
    evaluated = ema.swapped_in(model) if ema is not None else contextlib.nullcontext(model)
    with evaluated:
        if due and val_samples:
            from diffpose.validation import lsp_pckh

            m_ap = lsp_pckh(model, val_samples, steps=cfg.val_steps, ensemble=cfg.val_ensemble)
        elif due and val_gt:
            from diffpose.validation import posetrack_map

            m_ap = posetrack_map(
                model, val_gt, val_root, steps=cfg.val_steps, ensemble=cfg.val_ensemble
            ).total_ap
        if not np.isnan(m_ap) and m_ap > best:
            best = m_ap
            metric = "val_pckh" if val_samples else "map_total"
            save_checkpoint(model, out / "best.safetensors", extra={"epoch": epoch, metric: m_ap})
        if last_epoch:
            save_checkpoint(model, out / "final.safetensors", extra={"epochs": cfg.epochs})
    return m_ap, best


def _log_epoch(log_path: Path, epoch: int, loss: float, lr: float, m_ap: float, seconds: float):
    with log_path.open("a", newline="") as fh:
        csv.writer(fh).writerow(
            [epoch + 1, f"{loss:.6f}", f"{lr:.2e}", f"{m_ap:.2f}", f"{seconds:.1f}"]
        )
    LOG.info(
        "epoch %d loss %.5f lr %.1e validation %.2f (%.0f s)", epoch + 1, loss, lr, m_ap, seconds
    )


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
