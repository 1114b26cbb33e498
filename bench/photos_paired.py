"""The multi-person photos' PCK difference between the default refiner and the peer, joint by
joint: how many labelled joints only one of the two gets right, a sign test on those, and a
bootstrap over persons.

The photos and the two models are those of ``bench/model_card_eval.py`` (the same functions:
the pipeline's detector sizes, crop priors and joint decoding for the refiner; YOLO11n-pose's
own 640 px keypoints for the peer; PCK@0.1 of the box's longer side, a labelled person no
detection matches counts as missed). For each joint group the table counts the labelled joints
both get right, only the refiner, only the peer; a group's PCK difference is (only the refiner
− only the peer) / labelled joints. The sign test asks how often a fair coin would split the
discordant joints at least that unevenly (two-sided, exact); the bootstrap resamples the
labelled persons with replacement (the same draw for both) for a percentile interval of the
difference. Joints of one person are not independent draws, so the sign test is optimistic and
the person bootstrap the one to read.

Usage::

    python bench/photos_paired.py
    python bench/photos_paired.py --checkpoint runs/cpu_heldout/best.safetensors
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch

os.environ.setdefault("YOLO_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from model_card_eval import (  # noqa: E402
    DATA,
    model_predictor,
    peer_predictor,
    photo_samples,
    with_crop_priors,
)
from multi_person_photos import group_slots, joint_hits, load_multi_person_photos  # noqa: E402

from diffpose.checkpoint import load_checkpoint  # noqa: E402
from diffpose.keypoints import KEYPOINT_NAMES  # noqa: E402

ORDER = ["Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "Limbs"]


def sign_test_p(wins: int, losses: int) -> float:
    """Two-sided exact binomial p of ``wins`` against ``losses`` under a fair coin."""
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def hits_of(samples_gt, predict) -> tuple[np.ndarray, np.ndarray]:
    """(P, K) hits of ``predict`` over every labelled person, and (P, K) labelled."""
    samples, (gt_xy, weights, boxes, matched) = samples_gt
    pred = np.zeros_like(gt_xy)
    if samples:
        pred[matched] = predict(samples)[0]
    return joint_hits(pred, gt_xy, weights, boxes, matched), np.asarray(weights) > 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", default=str(ROOT / "resources" / "diffpose_cpu.safetensors"))
    ap.add_argument("--samples", type=int, default=5000, help="bootstrap resamples")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from diffpose.backbones import build_yolo_backbone
    from posetool.run.detector_priors import priors_detector
    from posetool.run.pipeline_config import PipelineConfig

    detector = priors_detector(max_imgsz=PipelineConfig().detector.max_imgsz)
    peer_detector = priors_detector()
    model = load_checkpoint(args.checkpoint).eval()
    delta = model.num_frames // 2
    photos = load_multi_person_photos(DATA, min_limb_joints=0)
    det_samples, gt = photo_samples(photos, detector, delta)
    crop_backbone = build_yolo_backbone(pose_head=True).eval()
    ours_in = (with_crop_priors(det_samples, crop_backbone, detector.config.imgsz), gt)
    ours, labelled = hits_of(ours_in, model_predictor(model, 1, 5))
    peer, peer_labelled = hits_of(photo_samples(photos, peer_detector, delta), peer_predictor)
    if not np.array_equal(labelled, peer_labelled):
        raise SystemExit("the two runs saw different labelled persons")
    persons = len(labelled)
    rng = np.random.default_rng(args.seed)
    draws = rng.integers(0, persons, (args.samples, persons))
    print(
        f"Multi-person photos: {persons} labelled persons ({int(gt[3].sum())} detected at the "
        f"pipeline's sizes); A = the refiner ({args.checkpoint}), B = the peer; "
        f"{args.samples} person resamples, seed {args.seed}\n"
    )
    print(
        "| group | labelled | A | B | both right | A only | B only | sign test p | "
        "95 % interval of A − B (persons resampled) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    slots_of = group_slots()
    for group in ORDER:
        cols = list(slots_of[group])
        lab, a, b = labelled[:, cols], ours[:, cols], peer[:, cols]
        n = int(lab.sum())
        a_only, b_only = int((a & ~b).sum()), int((b & ~a).sum())
        per_person = np.stack([lab.sum(1), a.sum(1), b.sum(1)], axis=1)  # (P, 3)
        resampled = per_person[draws].sum(axis=1)  # (S, 3)
        with np.errstate(invalid="ignore", divide="ignore"):
            diff = 100.0 * (resampled[:, 1] - resampled[:, 2]) / resampled[:, 0]
        low, high = np.nanpercentile(diff, [2.5, 97.5])
        print(
            f"| {group} | {n} | {100 * a.sum() / n:.1f} | {100 * b.sum() / n:.1f} | "
            f"{int((a & b).sum())} | {a_only} | {b_only} | {sign_test_p(a_only, b_only):.2f} | "
            f"[{low:+.1f}, {high:+.1f}] |"
        )
    print("\nThe discordant limb joints, by person (photo, person index in the loaded photo):")
    limbs = list(slots_of["Limbs"])
    owners = [(Path(ph.image_path).name, i) for ph in photos for i in range(len(ph.boxes_xyxy))]
    for p in range(persons):
        a_only = [KEYPOINT_NAMES[k] for k in limbs if ours[p, k] and not peer[p, k]]
        b_only = [KEYPOINT_NAMES[k] for k in limbs if peer[p, k] and not ours[p, k]]
        if a_only or b_only:
            print(f"- {owners[p][0]} #{owners[p][1]}: A only {a_only}, B only {b_only}")


if __name__ == "__main__":
    main()
