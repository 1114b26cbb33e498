"""Accuracy of a model on labelled samples: PoseTrack mAP (poseval rules) and PCKh.

Used by training (periodic validation, best checkpoint) and by the model card. Predictions
are made on the samples' own boxes (ground-truth boxes for PoseTrack, the joint extent for
LSP), mapped back to image pixels with the inverse crop affine. Shape letters: S samples,
K keypoints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from diffpose.data.clip_dataset import ClipDataset
from diffpose.data.posetrack import load_posetrack_file
from diffpose.data.samples import PoseSample, window
from diffpose.data.transforms import apply_affine, box_to_crop, crop_affine, invert_affine
from diffpose.evaluation import EvaluationResult, evaluate_videos
from diffpose.keypoints import NUM_KEYPOINTS, PLACEHOLDER_SLOTS
from diffpose.posetrack_format import PoseTrackFrame, PoseTrackVideo, load_posetrack


@torch.no_grad()
def predict_samples(
    model,
    samples: Sequence[PoseSample],
    *,
    steps: int = 4,
    ensemble: int = 10,
    batch_size: int = 16,
    seed: int = 0,
    flip_test: bool = False,
    decoding: str = "quarter",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(S, K, 2) image-pixel keypoints, (S, K) scores and (S, K) spread in image pixels;
    ``decoding`` as :meth:`diffpose.model.DiffPose.predict_from_features` takes it."""
    crop_hw = tuple(model.image_size)
    if getattr(model, "uses_others", False) and not any(s.others_xy is not None for s in samples):
        raise ValueError(
            "this model is told the other persons' poses (decoder.prior_others): the samples "
            "carry none (attach priors from a posetool detector-priors file that holds them)"
        )
    ds = ClipDataset(samples, crop_hw=crop_hw, augment=None)
    gen = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    out_xy, out_scores, out_spread = [], [], []
    for start in range(0, len(samples), batch_size):
        idx = range(start, min(start + batch_size, len(samples)))
        items = [ds[i] for i in idx]
        clips = torch.stack([it["clip"] for it in items]).to(device)
        prior = model.prior_from_keypoints(
            torch.stack([it["prior_hm"] for it in items]),
            torch.stack([it["prior_scores"] for it in items]),
            torch.stack([it["others_hm"] for it in items]),
            torch.stack([it["others_scores"] for it in items]),
        )
        res = model.predict(
            clips,
            steps=steps,
            ensemble=ensemble,
            generator=gen,
            flip_test=flip_test,
            prior=prior,
            decoding=decoding,
        )
        for row, i in enumerate(idx):
            affine = crop_affine(box_to_crop(samples[i].box_xyxy, crop_hw), crop_hw)
            inv = invert_affine(affine)
            out_xy.append(apply_affine(res.keypoints_xy[row], inv))
            px_per_crop = float(np.sqrt(abs(np.linalg.det(inv[:, :2]))))
            out_spread.append(res.spread[row] * px_per_crop)
            out_scores.append(res.scores[row])
    k = model.num_keypoints
    if not out_xy:
        return np.zeros((0, k, 2)), np.zeros((0, k)), np.zeros((0, k))
    return np.stack(out_xy), np.stack(out_scores), np.stack(out_spread)


def prediction_frame(
    gt_frame: PoseTrackFrame,
    keypoints_xy: np.ndarray,
    joint_scores: np.ndarray,
    box_scores: np.ndarray,
) -> PoseTrackFrame:
    """A prediction frame for ``gt_frame``'s image: N persons with all evaluated joints.

    Args:
        keypoints_xy: (N, K, 2) image pixels.
        joint_scores: (N, K) heatmap peaks; the written score is peak × box score.
        box_scores: (N,) person box scores.
    """
    n = len(box_scores)
    kp = np.zeros((n, NUM_KEYPOINTS, 3))
    kp[..., :2] = np.asarray(keypoints_xy).reshape(n, NUM_KEYPOINTS, 2)
    kp[..., 2] = 1
    kp[:, list(PLACEHOLDER_SLOTS)] = 0  # ears: PoseTrack placeholders
    scores = np.asarray(joint_scores, np.float64).reshape(n, NUM_KEYPOINTS) * box_scores[:, None]
    return replace(
        gt_frame,
        keypoints=kp,
        keypoint_scores=scores,
        person_scores=box_scores,
        track_ids=np.arange(n, dtype=np.int64),
        boxes_xywh=np.full((n, 4), np.nan),
        head_boxes_xywh=np.full((n, 4), np.nan),
        annotation_ids=np.full(n, -1, np.int64),
        person_extras=tuple({} for _ in range(n)),
    )


def pckh(
    pred_xy: np.ndarray,
    gt_xy: np.ndarray,
    weights: np.ndarray,
    head_sizes: np.ndarray,
    threshold: float = 0.5,
) -> tuple[float, np.ndarray]:
    """PCKh: share of labelled joints within ``threshold`` × head size; (total, per joint) in %."""
    dist = np.linalg.norm(pred_xy - gt_xy, axis=-1) / head_sizes[:, None]
    hit = (dist <= threshold) & (weights > 0)
    n = (weights > 0).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_joint = 100.0 * hit.sum(0) / n
    return float(100.0 * hit.sum() / max((weights > 0).sum(), 1)), per_joint


def lsp_head_sizes(samples: Sequence[PoseSample]) -> np.ndarray:
    """LSP has no head box: head size = distance head_top–neck (head_bottom)."""
    return np.array([np.linalg.norm(s.keypoints_xy[2] - s.keypoints_xy[1]) for s in samples])


def lsp_pckh(model, samples: Sequence[PoseSample], *, steps: int = 1, ensemble: int = 5) -> float:
    """PCKh@0.5 (%) of ``model`` on LSP samples (their own boxes; priors attached if the
    model refines the detector's pose)."""
    xy, _, _ = predict_samples(model, samples, steps=steps, ensemble=ensemble)
    gt = np.stack([s.keypoints_xy for s in samples])
    weights = np.stack([s.weights for s in samples])
    return pckh(xy, gt, weights, lsp_head_sizes(samples))[0]


def posetrack_map(
    model,
    gt_files: Sequence[str | Path],
    image_root: str | Path,
    *,
    steps: int = 4,
    ensemble: int = 10,
    boxes: dict | None = None,
    seed: int = 0,
) -> EvaluationResult:
    """PoseTrack AP of ``model`` on GT files, predicting on GT boxes (or ``boxes``).

    Args:
        boxes: optional {(file name, frame index): [(box_xyxy, score), ...]} detected boxes;
            when given, predictions are made on them instead of the GT boxes and each joint's
            score is heatmap peak × box score.
    """
    gt_files = [Path(p) for p in gt_files]
    videos = {p: load_posetrack(p) for p in gt_files}
    jobs: list[tuple[Path, int, PoseSample, float]] = []
    for path in gt_files:
        if boxes is None:
            for sample in load_posetrack_file(
                path, image_root, model.num_frames // 2, min_joints=1
            ):
                jobs.append((path, sample.frame_index, sample, 1.0))
            continue
        paths = [str(Path(image_root) / f.file_name) for f in videos[path].frames]
        for f_idx in range(len(paths)):
            for box, score in boxes.get((path.name, f_idx), []):
                clip = window(paths, f_idx, model.num_frames // 2)
                unlabelled = PoseSample(
                    clip, np.zeros((17, 2)), np.zeros(17), np.asarray(box, float)
                )
                jobs.append((path, f_idx, unlabelled, float(score)))
    xy, scores, _ = predict_samples(
        model, [j[2] for j in jobs], steps=steps, ensemble=ensemble, seed=seed
    )
    per_frame: dict[tuple[Path, int], list[int]] = {}
    for j, (path, f_idx, _, _) in enumerate(jobs):
        per_frame.setdefault((path, f_idx), []).append(j)
    pairs = []
    for path in gt_files:
        gt = videos[path]
        frames = []
        for f_idx, fr in enumerate(gt.frames):
            js = per_frame.get((path, f_idx), [])
            box_scores = np.array([jobs[j][3] for j in js], dtype=np.float64)
            frames.append(prediction_frame(fr, xy[js], scores[js], box_scores))
        pred = PoseTrackVideo(
            source=f"prediction for {path.name}", fmt="2018", vid_id=gt.vid_id, frames=tuple(frames)
        )
        pairs.append((path.stem, gt, pred))
    return evaluate_videos(pairs, tracking=False)


__all__ = [
    "lsp_head_sizes",
    "lsp_pckh",
    "pckh",
    "posetrack_map",
    "prediction_frame",
    "predict_samples",
]
