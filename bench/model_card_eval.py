"""Accuracy figures for resources/MODEL_CARD.md: our DiffPose checkpoint vs the YOLO11n-pose peer.

- PoseTrack mAP (poseval rules) on shared/data/posetrack18_sample with GT boxes and with the
  sample's detected boxes (score >= 0.2; keypoint score = peak x box score);
- PCKh@0.5 on the LSP test split (images 1001-2000; head size = head_top-neck distance,
  since LSP has no head box);
- the peer: ultralytics YOLO11n-pose run on the very same 256x192 crops (its COCO joints
  mapped to PoseTrack; neck = shoulder midpoint, head_top = nose + (nose - neck));
- the paper's two inference properties (Tables 6-7 analogues): N in {1, 5, 10} noise draws
  and steps in {1, 2, 4}, without retraining.

Usage: python bench/model_card_eval.py [--checkpoint resources/diffpose_cpu.safetensors]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

os.environ.setdefault("YOLO_OFFLINE", "1")

from diffpose.checkpoint import load_checkpoint  # noqa: E402
from diffpose.data.clip_dataset import ClipDataset  # noqa: E402
from diffpose.data.lsp import load_lsp  # noqa: E402
from diffpose.data.posetrack import load_posetrack_file  # noqa: E402
from diffpose.data.transforms import apply_affine, box_to_crop, crop_affine, invert_affine  # noqa: E402
from diffpose.evaluation import evaluate_videos  # noqa: E402
from diffpose.keypoints import COCO17_SHARED_EVALUATED, KEYPOINT_NAMES  # noqa: E402
from diffpose.posetrack_format import load_posetrack  # noqa: E402
from diffpose.precision import PRECISIONS, resolve_precision  # noqa: E402
from diffpose.validation import (  # noqa: E402
    lsp_head_sizes,
    pckh,
    posetrack_map,
    predict_samples,
    prediction_frame,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def detected_boxes(pt_root: Path, gt_files: list[Path], min_score: float = 0.2) -> dict:
    dets = json.loads(
        (pt_root / "annotations" / "test_posetrack18_human_detections.json").read_text()
    )
    by_image: dict[int, list] = {}
    for d in dets:
        if d["score"] >= min_score:
            x, y, w, h = d["bbox"]
            by_image.setdefault(d["image_id"], []).append(([x, y, x + w, y + h], d["score"]))
    out = {}
    for path in gt_files:
        for f_idx, fr in enumerate(load_posetrack(path).frames):
            out[(path.name, f_idx)] = by_image.get(fr.image_id, [])
    return out


class YoloPeer:
    """YOLO11n-pose on a crop: the most confident person, joints mapped to PoseTrack slots."""

    def __init__(self) -> None:
        from posetool.detector import DetectorConfig, PersonDetector

        self.det = PersonDetector(DetectorConfig(imgsz=256, conf=0.05, precision="fp32"))

    def predict(self, samples) -> tuple[np.ndarray, np.ndarray]:
        ds = ClipDataset(samples, augment=None)
        xy_all, sc_all = [], []
        for i, s in enumerate(samples):
            clip = ds[i]["clip"][len(s.frame_paths) // 2].numpy().transpose(1, 2, 0)
            rgb = clip * np.array([0.229, 0.224, 0.225]) + np.array([0.485, 0.456, 0.406])
            bgr = np.ascontiguousarray((rgb * 255).clip(0, 255).astype(np.uint8)[..., ::-1])
            det = self.det.detect(bgr)
            xy, sc = np.zeros((17, 2)), np.zeros(17)
            if len(det):
                j = int(np.argmax(det.scores))
                shared = list(COCO17_SHARED_EVALUATED)
                xy[shared] = det.keypoints_xy[j, shared]
                sc[shared] = det.keypoint_scores[j, shared] * det.scores[j]
                xy[1] = (xy[5] + xy[6]) / 2  # neck: shoulder midpoint
                xy[2] = xy[0] + (xy[0] - xy[1])  # head top: nose mirrored away from the neck
                sc[1] = min(sc[5], sc[6])
                sc[2] = min(sc[0], sc[1])
            inv = invert_affine(crop_affine(box_to_crop(s.box_xyxy)))
            xy_all.append(apply_affine(xy, inv))
            sc_all.append(sc)
        return np.stack(xy_all), np.stack(sc_all)


def peer_posetrack_map(peer: YoloPeer, gt_files, pt_root, boxes=None) -> float:
    from dataclasses import replace

    from diffpose.data.samples import PoseSample, window

    pairs = []
    for path in gt_files:
        gt = load_posetrack(path)
        frames = []
        for f_idx, fr in enumerate(gt.frames):
            if boxes is None:
                samples = [
                    s
                    for s in load_posetrack_file(path, pt_root, 2, min_joints=1)
                    if s.frame_index == f_idx
                ]
                box_scores = np.ones(len(samples))
            else:
                paths = [str(pt_root / f.file_name) for f in gt.frames]
                items = boxes.get((path.name, f_idx), [])
                samples = [
                    PoseSample(
                        window(paths, f_idx, 2),
                        np.zeros((17, 2)),
                        np.zeros(17),
                        np.asarray(b, float),
                    )
                    for b, _ in items
                ]
                box_scores = np.array([s for _, s in items])
            n = len(samples)
            xy, sc = peer.predict(samples) if n else (np.zeros((0, 17, 2)), np.zeros((0, 17)))
            frames.append(prediction_frame(fr, xy, sc, box_scores.astype(np.float64)))
        pairs.append((path.stem, gt, replace(gt, frames=tuple(frames), source=f"peer {path.name}")))
    return evaluate_videos(pairs, tracking=False)


def lsp_pckh(xy: np.ndarray, samples) -> tuple[float, np.ndarray]:
    gt = np.stack([s.keypoints_xy for s in samples])
    w = np.stack([s.weights for s in samples])
    return pckh(xy, gt, w, lsp_head_sizes(samples))


def _summary(res_gt, res_det, lsp_total: float, lsp_joints, seconds: float) -> dict:
    """One model's row of the JSON output."""
    per_joint = dict(zip(KEYPOINT_NAMES, np.nan_to_num(lsp_joints).tolist(), strict=True))
    return {"posetrack_gt_boxes": res_gt.ap_columns(), "posetrack_det_boxes": res_det.ap_columns(),
            "lsp_pckh": lsp_total, "lsp_pckh_per_joint": per_joint, "seconds": seconds}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", default=str(ROOT / "resources" / "diffpose_cpu.safetensors"))
    p.add_argument(
        "--lsp-limit", type=int, default=0, help="evaluate only the first N LSP test images"
    )
    p.add_argument("--out", default=str(ROOT / "out" / "model_card_eval.json"))
    p.add_argument("--no-grid", action="store_true")
    p.add_argument(
        "--steps", type=int, default=1, help="DDIM steps of the main table (pipeline default)"
    )
    p.add_argument("--ensemble", type=int, default=5, help="noise draws of the main table")
    p.add_argument("--precision", choices=PRECISIONS, default="fp32",
                   help="inference compute type (the pipeline's default is auto)")  # fmt: skip
    p.add_argument("--threads", type=int, default=2, help="torch threads (1 beside a training job)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    pt_root = DATA / "posetrack18_sample"
    gt_files = sorted((pt_root / "annotations" / "val").glob("*.json"))
    lsp = load_lsp(DATA / "lsp", "test")
    lsp = lsp[: a.lsp_limit] if a.lsp_limit else lsp
    boxes = detected_boxes(pt_root, gt_files)
    model = load_checkpoint(a.checkpoint).eval()
    model.set_inference_dtype(resolve_precision(a.precision, "cpu"))
    results: dict = {
        "checkpoint": a.checkpoint,
        "precision": str(model.inference_dtype),
        "lsp_test_images": len(lsp),
        "steps": a.steps,
        "ensemble": a.ensemble,
    }

    t0 = time.time()
    res_gt = posetrack_map(model, gt_files, pt_root, steps=a.steps, ensemble=a.ensemble)
    res_det = posetrack_map(
        model, gt_files, pt_root, steps=a.steps, ensemble=a.ensemble, boxes=boxes
    )
    xy, _, _ = predict_samples(model, lsp, steps=a.steps, ensemble=a.ensemble)
    lsp_total, lsp_joints = lsp_pckh(xy, lsp)
    results["diffpose"] = _summary(res_gt, res_det, lsp_total, lsp_joints, time.time() - t0)
    print(
        f"DiffPose (steps {a.steps}, N {a.ensemble}, {a.precision}): PoseTrack GT boxes "
        f"{res_gt.total_ap:.1f}, det boxes {res_det.total_ap:.1f}, LSP PCKh {lsp_total:.1f}"
    )

    t0 = time.time()
    peer = YoloPeer()
    peer_gt = peer_posetrack_map(peer, gt_files, pt_root)
    peer_det = peer_posetrack_map(peer, gt_files, pt_root, boxes)
    pxy, _ = peer.predict(lsp)
    peer_lsp, peer_joints = lsp_pckh(pxy, lsp)
    results["yolo11n_pose_peer"] = _summary(
        peer_gt, peer_det, peer_lsp, peer_joints, time.time() - t0
    )
    print(
        f"YOLO11n-pose peer: PoseTrack GT boxes {peer_gt.total_ap:.1f}, det boxes {peer_det.total_ap:.1f}, LSP PCKh {peer_lsp:.1f}"
    )

    cols = ["Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "Total"]
    print("\n| model | boxes | " + " | ".join(cols) + " | LSP PCKh@0.5 |")
    print("|---" * (len(cols) + 3) + "|")
    for name, key in (
        ("DiffPose cpu (ours)", "diffpose"),
        ("YOLO11n-pose (peer)", "yolo11n_pose_peer"),
    ):
        for label, bkey in (("GT", "posetrack_gt_boxes"), ("detected", "posetrack_det_boxes")):
            vals = " | ".join(f"{results[key][bkey][c]:.1f}" for c in cols)
            print(f"| {name} | {label} | {vals} | {results[key]['lsp_pckh']:.1f} |")

    if not a.no_grid:
        grid = {}
        print(
            "\n| steps | N | PoseTrack mAP (GT boxes) | LSP PCKh@0.5 | ms per LSP clip (read, crop, 5-frame backbone, sampling) |"
        )
        print("|---|---|---|---|---|")
        for steps in (1, 2, 4):
            for n in (1, 5, 10):
                m_ap = posetrack_map(model, gt_files, pt_root, steps=steps, ensemble=n).total_ap
                t = time.time()
                xy, _, _ = predict_samples(model, lsp, steps=steps, ensemble=n)
                ms = 1000 * (time.time() - t) / len(lsp)
                pk = lsp_pckh(xy, lsp)[0]
                grid[f"steps{steps}_N{n}"] = {"map": m_ap, "lsp_pckh": pk, "ms_per_person": ms}
                print(f"| {steps} | {n} | {m_ap:.1f} | {pk:.1f} | {ms:.1f} |", flush=True)
        results["grid"] = grid
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(results, indent=2))
    print(f"\nwritten {a.out}")


if __name__ == "__main__":
    main()
