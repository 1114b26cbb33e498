"""The feature cache: with a frozen backbone, the backbone features of A augmented versions of
every training clip, computed once (epoch e trains on version e mod A), with their targets and
priors; kept in a file and reused while data, augmentation, backbone and δ match."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from diffpose.config import DiffPoseConfig
from diffpose.data.clip_dataset import ClipDataset
from diffpose.data.samples import PoseSample
from diffpose.model import DiffPose
from diffpose.train.config import TrainConfig

LOG = logging.getLogger("diffpose.train")

__all__ = ["CACHE_FIELDS", "build_feature_cache", "cache_key", "cached_features"]

#: The feature cache's tensors, in order: the backbone features, then these items of
#: :class:`ClipDataset`.
CACHE_FIELDS = (
    "features", "keypoints_hm", "weights", "prior_hm", "prior_scores", "others_hm",
    "others_scores",
)  # fmt: skip


#: hips, knees and ankles: the slots ``TrainConfig.lower_body_weight`` scales


def cache_key(model_cfg: DiffPoseConfig, cfg: TrainConfig, samples: list[PoseSample]) -> str:
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


def cached_features(
    model: DiffPose,
    ds: ClipDataset,
    model_cfg: DiffPoseConfig,
    cfg: TrainConfig,
    samples: list[PoseSample],
    cache_file: str | Path | None,
) -> tuple:
    """The feature cache of ``samples``: read from ``cache_file`` where it was made for the
    same data and settings (:func:`cache_key`), else built and, with a file, written there
    atomically."""
    t0 = time.time()
    key = cache_key(model_cfg, cfg, samples)
    cache = None
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
    return cache
