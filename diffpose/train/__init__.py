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

The parts, one concept per module: :mod:`~diffpose.train.config` (``TrainConfig``),
:mod:`~diffpose.train.data_specs` (``--data`` specs), :mod:`~diffpose.train.feature_cache`,
:mod:`~diffpose.train.epochs` (one epoch, from cached features or from images, and the
per-joint loss weights), :mod:`~diffpose.train.prior_collapse` (a prior corruption drawn per
step), :mod:`~diffpose.train.loop` (``train``: data, model, resume,
validation, checkpoints, log) and :mod:`~diffpose.train.cli` (``main``).
"""

from diffpose.train.cli import PRESETS, main, with_overrides
from diffpose.train.config import TrainConfig
from diffpose.train.data_specs import load_data_spec
from diffpose.train.epochs import ARM_SLOTS, LOWER_BODY_SLOTS, loss_weights
from diffpose.train.feature_cache import CACHE_FIELDS, build_feature_cache
from diffpose.train.loop import train

__all__ = [
    "ARM_SLOTS",
    "CACHE_FIELDS",
    "LOWER_BODY_SLOTS",
    "PRESETS",
    "TrainConfig",
    "build_feature_cache",
    "load_data_spec",
    "loss_weights",
    "main",
    "train",
    "with_overrides",
]
