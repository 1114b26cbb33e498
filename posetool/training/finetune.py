"""Correct → retrain → re-run: fine-tune a DiffPose checkpoint on an analyst's corrections.

The training data are the human-edited persons of one or more results (PoseTrack JSON as
``posetool run`` writes and the viewer saves) with their videos: each edited person is a
:class:`~diffpose.data.samples.PoseSample` on its frame's 2δ+1 window, the frames decoded
once into a scratch folder. Every ``holdout_every``-th edited frame (in video order, per
result) is held back: the base and the fine-tuned model are scored there (PCK@0.1 of the box
size: a joint is correct within 0.1 × the longer side of the person's box) and the new
checkpoint is written with a model-card entry ``NEW.md`` beside it. A model that refines the
detector's pose gets the detector's pose of every sample as the pipeline would
(:mod:`posetool.run.detector_priors`). ``posetool run --checkpoint NEW.safetensors`` uses it.

Shape letters: S samples, K keypoints.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from diffpose.data.samples import PoseSample, window
from diffpose.keypoints import EVALUATED_SLOTS
from posetool.io.posetrack_io import atomic_write_text, read_posetrack

__all__ = [
    "EditedSource",
    "FinetuneConfig",
    "FinetuneReport",
    "attach_detector_priors",
    "edited_samples",
    "finetune",
    "model_card",
    "split_holdout",
    "pck_box",
]

LOG = logging.getLogger(__name__)
_EVALUATED = np.zeros(17, bool)
_EVALUATED[list(EVALUATED_SLOTS)] = True


@dataclass(frozen=True)
class FinetuneConfig:
    """Fine-tuning settings.

    Attributes:
        epochs: passes over the training samples.
        lr: AdamW learning rate (small: the base model is kept close).
        batch_size: samples per step.
        holdout_every: every n-th edited frame of a result is held back for the score.
        seed: augmentation, noise and order seed.
        steps, ensemble: DDIM steps and noise draws of the held-back score (the pipeline's).
        threshold: PCK threshold as a fraction of the box's longer side.
    """

    epochs: int = 10
    lr: float = 5e-4
    batch_size: int = 8
    holdout_every: int = 5
    seed: int = 0
    steps: int = 1
    ensemble: int = 5
    threshold: float = 0.1

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or not self.lr > 0:
            raise ValueError("epochs and batch_size must be >= 1 and lr > 0")
        if self.holdout_every < 2:
            raise ValueError(f"holdout_every must be >= 2, got {self.holdout_every}")
        if self.steps < 1 or self.ensemble < 1 or not self.threshold > 0:
            raise ValueError("steps and ensemble must be >= 1 and threshold > 0")


@dataclass(frozen=True)
class EditedSource:
    """A result file and the video file or image folder its frames come from."""

    result_path: Path
    media_path: Path


@dataclass
class FinetuneReport:
    """What a fine-tuning run did and how the held-back frames score."""

    base_checkpoint: str
    out_checkpoint: str
    sources: list[str]
    train_persons: int
    train_frames: int
    heldout_persons: int
    heldout_frames: int
    base_pck: float
    finetuned_pck: float
    backbone_trained: bool = False
    epoch_losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


def _decode_frames(media: Path, wanted: set[int], out_dir: Path) -> dict[int, str]:
    """Write frames ``wanted`` of ``media`` as PNG files; {frame index: path}."""
    from posetool.io.video_io import VideoReader

    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[int, str] = {}
    last = max(wanted, default=-1)
    with VideoReader(media) as reader:
        for frame in reader:
            if frame.frame_index > last:
                break
            if frame.frame_index in wanted:
                path = out_dir / f"{frame.frame_index:06d}.png"
                cv2.imwrite(str(path), frame.frame_bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
                paths[frame.frame_index] = str(path)
    return paths


def edited_samples(source: EditedSource, frames_dir: Path, delta: int) -> list[PoseSample]:
    """One sample per human-edited person of ``source`` with at least 3 visible evaluated
    joints, its clip decoded into ``frames_dir`` (``frame_index`` is the video frame).

    Raises:
        PoseTrackFormatError: malformed result file.
        ValueError: a frame the samples need could not be decoded (names the files).
    """
    result = read_posetrack(source.result_path)
    persons = [
        (fr.frame_index, p)
        for fr in result.frames
        for p in range(fr.num_persons)
        if fr.human_edited[p]
    ]
    indices = list(range(len(result.frames)))
    wanted = {i for f, _ in persons for i in window(indices, f, delta)}
    paths = _decode_frames(source.media_path, wanted, frames_dir)
    if missing := sorted(wanted - set(paths)):
        raise ValueError(
            f"{source.media_path}: frames {missing[:5]} needed by the edits in "
            f"{source.result_path} could not be decoded"
        )
    samples = []
    for f, p in persons:
        fr = result.frames[f]
        weights = (fr.keypoint_visible[p] & _EVALUATED).astype(np.float32)
        if weights.sum() < 3:
            continue
        clip = tuple(paths[i] for i in window(indices, f, delta))
        samples.append(
            PoseSample(
                clip,
                fr.keypoints_xy[p].astype(np.float64),
                weights,
                fr.boxes_xyxy[p].astype(np.float64),
                source=source.result_path.name,
                frame_index=f,
            )
        )
    return samples


def split_holdout(
    samples: Sequence[PoseSample], every: int
) -> tuple[list[PoseSample], list[PoseSample]]:
    """(train, held back): every ``every``-th edited frame of each source is held back."""
    train, held = [], []
    frames_by_source: dict[str, list[int]] = {}
    for s in samples:
        frames_by_source.setdefault(s.source, []).append(s.frame_index)
    held_frames = {
        (src, f)
        for src, frames in frames_by_source.items()
        for rank, f in enumerate(sorted(set(frames)))
        if rank % every == every - 1
    }
    for s in samples:
        (held if (s.source, s.frame_index) in held_frames else train).append(s)
    return train, held


def pck_box(pred_xy: np.ndarray, samples: Sequence[PoseSample], threshold: float) -> float:
    """PCK (%): labelled joints within ``threshold`` × the longer side of the sample's box."""
    gt = np.stack([s.keypoints_xy for s in samples])
    weights = np.stack([s.weights for s in samples]) > 0
    boxes = np.stack([s.box_xyxy for s in samples])
    size = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    hit = np.linalg.norm(pred_xy - gt, axis=-1) <= threshold * size[:, None]
    return float(100.0 * (hit & weights).sum() / max(weights.sum(), 1))


def attach_detector_priors(
    samples: list[PoseSample], crop: bool = False, as_pipeline: bool = False
) -> list[PoseSample]:
    """The detector's pose of each sample: the whole-frame detection's, or with ``crop`` the
    Pose head's on the sample's own crop (models with ``uses_crop_prior``;
    posetool.run.crop_priors), as the shipped refiner was trained on it; with ``as_pipeline``
    also the pipeline's default larger and resized prior crops (``PoseConfig``), as the
    pipeline gives it to the model at inference (for scoring)."""
    from diffpose.data.priors import with_priors
    from posetool.run.crop_priors import prior_crop_settings
    from posetool.run.detector_priors import priors_detector, sample_priors_and_others
    from posetool.run.pose_config import PoseConfig
    from posetool.training.crop_prior_files import detection_then_crop_priors

    if not samples:
        return []
    if crop:
        crops = prior_crop_settings(PoseConfig()) if as_pipeline else {}
        xy, scores, _, _, *others = detection_then_crop_priors(samples, priors_detector(), **crops)
    else:
        xy, scores, _, *others = sample_priors_and_others(samples, priors_detector())
    return with_priors(samples, xy, scores, tuple(others))


def _train(model, samples: list[PoseSample], cfg: FinetuneConfig) -> list[float]:
    """AdamW on the trainable parameters (the frozen backbone stays as it is)."""
    from torch.utils.data import DataLoader

    from diffpose.data.clip_dataset import ClipDataset
    from diffpose.data.transforms import AugmentConfig
    from diffpose.heatmaps import keypoints_to_heatmaps

    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    ds = ClipDataset(
        samples, crop_hw=model.image_size, augment=AugmentConfig(), sigma=model.sigma, seed=cfg.seed
    )
    loader = DataLoader(
        ds,
        batch_size=cfg.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(cfg.seed),
    )
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=1e-4)
    losses = []
    model.train()
    for epoch in range(cfg.epochs):
        ds.set_epoch(epoch)
        total, n = 0.0, 0
        for batch in loader:
            heatmaps = keypoints_to_heatmaps(
                batch["keypoints_hm"].float(), model.heatmap_size, model.sigma
            )
            prior = model.prior_from_keypoints(
                batch["prior_hm"], batch["prior_scores"], batch["others_hm"], batch["others_scores"]
            )
            loss = model.loss(
                batch["clip"], heatmaps, batch["weights"].float(), generator=gen, prior=prior
            )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total, n = total + loss.item() * len(batch["clip"]), n + len(batch["clip"])
        losses.append(total / max(n, 1))
        LOG.info("fine-tune epoch %d/%d loss %.6f", epoch + 1, cfg.epochs, losses[-1])
    model.eval()
    return losses


def _score(model, samples: list[PoseSample], cfg: FinetuneConfig) -> float:
    from diffpose.validation import predict_samples
    from posetool.run.pose_config import PoseConfig

    decoding = PoseConfig().heatmap_decoding  # as the pipeline decodes
    xy, _, _ = predict_samples(
        model, samples, steps=cfg.steps, ensemble=cfg.ensemble, seed=cfg.seed, decoding=decoding
    )
    return pck_box(xy, samples, cfg.threshold)


def finetune(
    sources: Sequence[EditedSource],
    base_checkpoint: str | Path,
    out_checkpoint: str | Path,
    cfg: FinetuneConfig | None = None,
) -> FinetuneReport:
    """Fine-tune ``base_checkpoint`` on the human-edited persons of ``sources``.

    Writes ``out_checkpoint`` and its model card ``<out stem>.md`` beside it.

    Raises:
        ValueError: no edited person to train on, or none held back to score on.
        FileNotFoundError: the base checkpoint does not exist.
    """
    from diffpose.checkpoint import load_checkpoint, save_checkpoint

    cfg = cfg or FinetuneConfig()
    start = time.perf_counter()
    base_checkpoint, out_checkpoint = Path(base_checkpoint), Path(out_checkpoint)
    model = load_checkpoint(base_checkpoint)
    delta = model.num_frames // 2
    with tempfile.TemporaryDirectory(prefix="posetool-finetune-") as scratch:
        samples: list[PoseSample] = []
        for i, src in enumerate(sources):
            samples += edited_samples(src, Path(scratch) / f"{i:03d}", delta)
        train, held = split_holdout(samples, cfg.holdout_every)
        names = ", ".join(str(s.result_path) for s in sources)
        if not train or not held:
            raise ValueError(
                f"{names}: {len(train)} edited persons to train on and {len(held)} "
                f"held back; need both (edit more frames: every "
                f"{cfg.holdout_every}th edited frame is held back)"
            )
        if model.uses_prior:
            crop = model.uses_crop_prior
            train = attach_detector_priors(train, crop)  # as the recipe trains
            held = attach_detector_priors(held, crop, as_pipeline=True)  # as it is scored
        base_pck = _score(model, held, cfg)
        losses = _train(model, train, cfg)
        tuned_pck = _score(model, held, cfg)
    report = FinetuneReport(
        base_checkpoint=str(base_checkpoint),
        out_checkpoint=str(out_checkpoint),
        sources=[str(s.result_path) for s in sources],
        train_persons=len(train),
        train_frames=len({(s.source, s.frame_index) for s in train}),
        heldout_persons=len(held),
        heldout_frames=len({(s.source, s.frame_index) for s in held}),
        base_pck=base_pck,
        finetuned_pck=tuned_pck,
        epoch_losses=losses,
        backbone_trained=any(p.requires_grad for p in model.backbone.parameters()),
        seconds=round(time.perf_counter() - start, 1),
    )
    save_checkpoint(
        model,
        out_checkpoint,
        extra={
            "finetuned_from": base_checkpoint.name,
            "epochs": cfg.epochs,
            "heldout_pck_box": f"{tuned_pck:.2f}",
        },
    )
    atomic_write_text(out_checkpoint.with_suffix(".md"), model_card(report, cfg))
    return report


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def model_card(report: FinetuneReport, cfg: FinetuneConfig) -> str:
    """The Markdown model-card entry of a fine-tuned checkpoint."""
    pct = f"PCK@{cfg.threshold:g} (box size)"
    lines = [
        f"# {Path(report.out_checkpoint).name}",
        "",
        f"Fine-tuned by `posetool finetune` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        f"- **Base checkpoint**: `{report.base_checkpoint}` (sha256 "
        f"`{_sha256(Path(report.base_checkpoint))[:16]}…`)",
        "- **Data**: the human-edited persons of " + ", ".join(f"`{s}`" for s in report.sources),
        f"  — {report.train_persons} persons on {report.train_frames} frames for training, "
        f"{report.heldout_persons} persons on {report.heldout_frames} frames held back "
        f"(every {cfg.holdout_every}th edited frame of each result).",
        f"- **Training**: {cfg.epochs} epochs, AdamW lr {cfg.lr:g}, batch {cfg.batch_size}, "
        f"seed {cfg.seed}, the training augmentation; backbone "
        f"{'trained too' if report.backbone_trained else 'frozen as in the base'}. Loss per "
        "epoch: " + ", ".join(f"{v:.5f}" for v in report.epoch_losses) + ".",
        f"- **Held-back score**, {pct}, steps {cfg.steps} × ensemble {cfg.ensemble} on the "
        f"persons' own boxes: base **{report.base_pck:.1f} %**, fine-tuned "
        f"**{report.finetuned_pck:.1f} %**.",
        "",
        "Re-run with it: `posetool run VIDEO -o OUT --checkpoint "
        f"{Path(report.out_checkpoint).name}`.",
        "",
        "```json",
        json.dumps({"report": asdict(report), "config": asdict(cfg)}, indent=2),
        "```",
        "",
    ]
    return "\n".join(lines)
