"""Accuracy figures for resources/MODEL_CARD.md: our DiffPose models vs the YOLO11n-pose peer.

The peer is what a user would otherwise run: YOLO11n-pose (the same sha256-pinned weights) at
640 px on the whole image, the keypoints of its detection. Our models see the pipeline's
detections: the same on images up to 640 px; a larger image is detected at its longer side, up
to the pipeline's ``DetectorConfig.max_imgsz`` (1280), where the peer keeps 640 px (a row
"YOLO11n-pose at the pipeline's detector sizes" shows what that input alone gives):
the default one refines a prior (``decoder.prior``): the Pose head's pose on the person's own
crop for a ``prior_source == "crop"`` model (posetool.run.crop_priors, made here as the
pipeline's default PoseConfig makes it, with its large prior crop), the detection's keypoints
for a ``"detection"`` one; the paper-faithful one
(``--paper-checkpoint``) estimates from pure noise. The crop prior alone has its own row, so
the table shows what the refiner adds to it. The peer's COCO joints map to PoseTrack; it has
no neck or head top: neck = shoulder midpoint, head_top = nose + (nose − neck).

- LSP test (images 1001–2000, real labels): PCKh@0.5 (head size = head_top–neck distance,
  LSP has no head box) per joint group, on each image's labelled person (crop from the
  label extent, prior = the YOLO detection overlapping it most; ``posetool
  detector-priors`` writes them, ``--priors``).
- PoseTrack sample (shared/data/posetrack18_sample, 3 frames, 14 persons): mAP by poseval's
  rules, (a) on YOLO's own detections (box score ≥ 0.2; keypoint score as the pipeline's
  ``PoseConfig`` scores it: peak × box score with the prior's joint confidence mixed in),
  i.e. the pipeline, and (b) on ground-truth boxes with the overlapping detection's prior.
- Multi-person photos with real labels (bench/multi_person_photos.py: pose_samples' aic, mhp,
  exlpose and humanart photos with ≥ 2 labelled persons): PCK@0.1 of the box's longer side per
  joint group, each labelled person matched to one of YOLO's detections (box score ≥ 0.2) as
  in the pipeline (the peer: by its own 640 px detections); a person no detection matches
  counts as missed.
- ``--own-video``: our own multi-person video check (bench/own_video_check.py: hand-labelled
  frames of two held-out videos), the whole pipeline with tracking against YOLO11n-pose +
  ByteTrack, by poseval's rules; every model above runs in the pipeline (``--fast`` too for
  the default, and the default again with other seeds of its noise draws, ``--noise-seeds``).
  Our rows follow the pipeline's precision ("auto": bfloat16 on a CPU that computes it
  natively, else float32), as a user's run would; the other sets run at ``--precision``.
- ``--grid``: steps ∈ {1, 2, 4} × N ∈ {1, 5, 10} of the default model on LSP val (images
  901–1000, the selection split: settings are chosen here) and LSP test (reported).

None of these sets is used to choose a checkpoint (training chooses on LSP val).

Usage: python bench/model_card_eval.py [--checkpoint C] [--paper-checkpoint P] [--grid]
       [--extra NAME=CHECKPOINT ...]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

os.environ.setdefault("YOLO_OFFLINE", "1")

from multi_person_photos import (  # noqa: E402
    load_multi_person_photos,
    match_by_joints,
    match_detections,
    pck_groups,
)
from own_video_check import peer_head_joints, run_models, tables_text  # noqa: E402

from diffpose.checkpoint import load_checkpoint  # noqa: E402
from diffpose.data.lsp import load_lsp  # noqa: E402
from diffpose.data.posetrack import load_posetrack_file  # noqa: E402
from diffpose.data.priors import attach_priors, with_priors  # noqa: E402
from diffpose.data.samples import PoseSample, window  # noqa: E402
from diffpose.evaluation import evaluate_videos  # noqa: E402
from diffpose.keypoints import KEYPOINT_NAMES  # noqa: E402
from diffpose.posetrack_format import load_posetrack  # noqa: E402
from diffpose.precision import PRECISIONS, resolve_precision  # noqa: E402
from diffpose.validation import (  # noqa: E402
    lsp_head_sizes,
    pckh,
    predict_samples,
    prediction_frame,
)
from posetool.run.pose_config import PoseConfig  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
GROUPS = {
    "Head": ("head_bottom", "head_top"),
    "Shoulder": ("left_shoulder", "right_shoulder"),
    "Elbow": ("left_elbow", "right_elbow"),
    "Wrist": ("left_wrist", "right_wrist"),
    "Hip": ("left_hip", "right_hip"),
    "Knee": ("left_knee", "right_knee"),
    "Ankle": ("left_ankle", "right_ankle"),
}
COLS = ["Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "Total"]
MIN_BOX_SCORE = 0.2  # the pipeline's PoseConfig.min_box_score


def peer_pose(samples: list[PoseSample]) -> tuple[np.ndarray, np.ndarray]:
    """The peer's (S, 17, 2) keypoints and (S, 17) scores: the detection's own keypoints."""
    return peer_head_joints(
        np.stack([s.prior_xy for s in samples]), np.stack([s.prior_scores for s in samples])
    )


def lsp_groups(xy: np.ndarray, samples: list[PoseSample]) -> dict[str, float]:
    """PCKh@0.5 per joint group and in total (%)."""
    gt = np.stack([s.keypoints_xy for s in samples])
    w = np.stack([s.weights for s in samples])
    total, per_joint = pckh(xy, gt, w, lsp_head_sizes(samples))
    by_name = dict(zip(KEYPOINT_NAMES, per_joint, strict=True))
    out = {g: float(np.mean([by_name[n] for n in names])) for g, names in GROUPS.items()}
    out["Total"] = total
    return out


def posetrack_samples(gt_files, pt_root: Path, detector, delta: int, boxes: str):
    """Per GT file and frame: samples (with the detector's prior) and their box scores.

    ``boxes``: "yolo" (the detector's own boxes scoring ≥ 0.2, as the pipeline) or "gt"
    (ground-truth boxes, prior from the detection overlapping each most).
    """
    import cv2

    from posetool.run.detector_priors import detections_prior
    from trackers.matching import iou_matrix

    jobs = {}
    for path in gt_files:
        gt = load_posetrack(path)
        paths = [str(pt_root / f.file_name) for f in gt.frames]
        for f_idx in range(len(gt.frames)):
            det = detector.detect(cv2.imread(paths[f_idx]))
            det_xy, det_sc = detections_prior(det.keypoints_xy, det.keypoint_scores)
            samples, scores = [], []
            if boxes == "yolo":
                for j in np.flatnonzero(det.scores >= MIN_BOX_SCORE):
                    samples.append(
                        PoseSample(
                            window(paths, f_idx, delta),
                            np.zeros((17, 2)),
                            np.zeros(17),
                            det.boxes_xyxy[j].astype(float),
                            prior_xy=det_xy[j],
                            prior_scores=det_sc[j],
                        )
                    )
                    scores.append(float(det.scores[j]))
            else:
                for s in load_posetrack_file(path, pt_root, delta, min_joints=1):
                    if s.frame_index != f_idx:
                        continue
                    iou = iou_matrix(s.box_xyxy, det.boxes_xyxy)[0]
                    j = int(np.argmax(iou)) if len(iou) else -1
                    hit = j >= 0 and iou[j] >= 0.3
                    samples.append(
                        replace(
                            s,
                            prior_xy=det_xy[j] if hit else np.zeros((17, 2), np.float32),
                            prior_scores=det_sc[j] if hit else np.zeros(17, np.float32),
                        )
                    )
                    scores.append(1.0)
            jobs[(path, f_idx)] = (samples, np.asarray(scores, np.float64))
    return jobs


def posetrack_map(jobs, gt_files, predict, duplicate_oks: float = 0.0) -> dict[str, float]:
    """mAP columns of ``predict(samples) -> (xy, scores)`` on the prepared jobs; with
    ``duplicate_oks``, a frame's poses go through the pipeline's duplicate suppression
    (``PoseConfig.duplicate_oks``, :func:`posetool.run.duplicate_poses.distinct_pose_rows`), by
    box score alone: these frames have no tracks, so the pipeline's preference for the track
    posed in the previous frame does not apply."""
    from diffpose.keypoints import PLACEHOLDER_SLOTS
    from posetool.run.duplicate_poses import distinct_pose_rows

    pairs = []
    for path in gt_files:
        gt = load_posetrack(path)
        frames = []
        for f_idx, fr in enumerate(gt.frames):
            samples, box_scores = jobs[(path, f_idx)]
            if samples:
                xy, sc = predict(samples)
            else:
                xy, sc = np.zeros((0, 17, 2)), np.zeros((0, 17))
            if duplicate_oks and len(samples) > 1:
                visible = np.ones(xy.shape[:2], bool)
                visible[:, list(PLACEHOLDER_SLOTS)] = False
                boxes = np.stack([s.box_xyxy for s in samples])
                keep = distinct_pose_rows(xy, visible, boxes, box_scores, duplicate_oks)
                xy, sc, box_scores = xy[keep], sc[keep], box_scores[keep]
            frames.append(prediction_frame(fr, xy, sc, box_scores))
        pairs.append((path.stem, gt, replace(gt, frames=tuple(frames), source=f"pred {path.name}")))
    return evaluate_videos(pairs, tracking=False).ap_columns()


def photo_samples(photos, detector, delta: int, by_joints: bool = False):
    """Multi-person photos as the pipeline sees them: YOLO's detections (box score ≥ 0.2),
    each labelled person matched one-to-one to one by box IoU (``by_joints``: by the share of
    its labelled joints inside the detection, :func:`multi_person_photos.match_by_joints`, for
    labels without person boxes); returns the samples of the matched persons (detection box,
    detection prior, the other detections' poses for models told of them) and, over all
    labelled persons, the GT arrays and the matched mask for
    :func:`multi_person_photos.pck_groups`."""
    import cv2

    from posetool.run.detector_priors import detections_prior, nearest_others

    samples, gt_xy, weights, boxes, matched = [], [], [], [], []
    for photo in photos:
        det = detector.detect(cv2.imread(photo.image_path))
        keep = np.flatnonzero(det.scores >= MIN_BOX_SCORE)
        det_xy, det_sc = detections_prior(det.keypoints_xy[keep], det.keypoint_scores[keep])
        if by_joints:
            hits = match_by_joints(photo.keypoints_xy, photo.weights, det.boxes_xyxy[keep])
        else:
            hits = match_detections(photo.boxes_xyxy, det.boxes_xyxy[keep])
        for p, j in enumerate(hits):
            gt_xy.append(photo.keypoints_xy[p])
            weights.append(photo.weights[p])
            boxes.append(photo.boxes_xyxy[p])
            matched.append(j >= 0)
            if j >= 0:
                kept_boxes = det.boxes_xyxy[keep]
                others_xy, others_sc = nearest_others(kept_boxes[j], kept_boxes, det_xy, det_sc, j)
                samples.append(
                    PoseSample(
                        window([photo.image_path], 0, delta),
                        photo.keypoints_xy[p],
                        photo.weights[p],
                        kept_boxes[j].astype(float),
                        prior_xy=det_xy[j],
                        prior_scores=det_sc[j],
                        others_xy=others_xy.astype(float),
                        others_scores=others_sc,
                    )
                )
    gt = (np.stack(gt_xy), np.stack(weights), np.stack(boxes), np.asarray(matched))
    return samples, gt


def photos_pck(samples, gt, predict) -> dict[str, float]:
    """PCK@0.1 per group of ``predict`` on the matched persons (unmatched ones: missed)."""
    gt_xy, weights, boxes, matched = gt
    pred = np.zeros_like(gt_xy)
    if samples:
        pred[matched] = predict(samples)[0]
    pck, counts = pck_groups(pred, gt_xy, weights, boxes, matched)
    return {**pck, **{f"n_{k}": v for k, v in counts.items()}}


def with_crop_priors(samples: list[PoseSample], backbone, imgsz: int) -> list[PoseSample]:
    """``samples`` with the crop prior (posetool.run.crop_priors) in place of the detection's, as
    the pipeline's default ``PoseConfig`` makes it (with its larger, sized and resized prior
    crops), its rule
    comparing each crop with the detector's base input size ``imgsz``."""
    from posetool.run.crop_priors import prior_crop_settings
    from posetool.training.crop_prior_files import sample_crop_priors

    if not samples:
        return samples
    config = PoseConfig()
    xy, sc, _ = sample_crop_priors(
        samples,
        backbone,
        imgsz,
        **prior_crop_settings(config),
    )
    return with_priors(samples, xy, sc)


def crop_jobs(jobs, backbone, imgsz: int):
    """The PoseTrack jobs with crop priors (each person cropped around its box)."""
    return {
        k: (with_crop_priors(samples, backbone, imgsz), sc) for k, (samples, sc) in jobs.items()
    }


def model_predictor(model, steps: int, ensemble: int):
    """The model's poses of samples at ``steps`` × ``ensemble``, decoded and scored as the
    pipeline's default ``PoseConfig`` decodes and scores them (a refiner's joint scores mix in
    its prior's, :mod:`posetool.run.joint_scores`)."""
    from posetool.run.joint_scores import joint_scores

    pose = PoseConfig()

    def predict(samples):
        xy, sc, _ = predict_samples(
            model, samples, steps=steps, ensemble=ensemble, decoding=pose.heatmap_decoding
        )
        if model.uses_prior:
            prior = np.stack([s.prior_scores for s in samples])
            sc = joint_scores(sc, prior, pose.prior_score_weight)
        return xy, sc

    return predict


def peer_predictor(samples):
    return peer_pose(samples)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", default=str(ROOT / "resources" / "diffpose_cpu.safetensors"))
    p.add_argument(
        "--paper-checkpoint",
        default=str(ROOT / "resources" / "diffpose_cpu_paper.safetensors"),
        help="the paper-faithful preset (pure noise, no prior); '' to skip",
    )
    p.add_argument(
        "--priors",
        default=str(ROOT / "out" / "priors.npz"),
        help="posetool detector-priors output covering lsp:ROOT:all",
    )
    p.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="NAME=CHECKPOINT",
        help="another model to put in the same tables (e.g. a lever that lost); repeatable",
    )
    p.add_argument("--lsp-limit", type=int, default=0, help="only the first N LSP test images")
    p.add_argument("--out", default=str(ROOT / "out" / "model_card_eval.json"))
    p.add_argument("--grid", action="store_true", help="also the steps x N grid")
    p.add_argument("--own-video", action="store_true", help="also our own multi-person video check")
    p.add_argument(
        "--noise-seeds",
        type=int,
        nargs="*",
        default=[1, 2],
        help="with --own-video, the default refiner's pipeline again with each of these seeds "
        "of its N noise draws (PoseConfig.seed; the pipeline's is 0): one set of draws is "
        "shared by every person, so the seed moves the check's groups as a setting would",
    )
    p.add_argument("--steps", type=int, default=1, help="DDIM steps (pipeline default)")
    p.add_argument("--ensemble", type=int, default=5, help="noise draws (pipeline default)")
    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="fp32",
        help="inference compute type (the pipeline's default is auto)",
    )
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    from posetool.run.detector_priors import priors_detector
    from posetool.run.pipeline_config import PipelineConfig

    pt_root = DATA / "posetrack18_sample"
    gt_files = sorted((pt_root / "annotations" / "val").glob("*.json"))
    # the pipeline's detector sizes (a larger input for a larger frame); the peer's are
    # YOLO's own keypoints at a fixed 640 px (peer_detector)
    detector = priors_detector(max_imgsz=PipelineConfig().detector.max_imgsz)

    models = {"DiffPose refiner (default)": a.checkpoint}
    if a.paper_checkpoint:
        models["DiffPose paper preset (pure noise)"] = a.paper_checkpoint
    for item in a.extra:
        name, _, path = item.partition("=")
        models[name] = path
    results: dict = {
        "steps": a.steps,
        "ensemble": a.ensemble,
        "precision": a.precision,
        "rows": {},
    }
    loaded = {}
    for name, path in models.items():
        model = load_checkpoint(path).eval()
        model.set_inference_dtype(resolve_precision(a.precision, "cpu"))
        loaded[name] = model
    delta = next(iter(loaded.values())).num_frames // 2
    if any(m.num_frames // 2 != delta for m in loaded.values()):
        raise SystemExit("the models compared in one run must share delta (clip length)")
    # the priors: the whole-frame detection's pose at the pipeline's detector sizes
    # ("detection"), the Pose head's on each person's crop ("crop", for crop-prior models),
    # and the peer's own 640 px detections ("peer", below; the same as "detection" on LSP)
    test = attach_priors(load_lsp(DATA / "lsp", "test", delta), a.priors, source="detection")
    lsp_test = {"detection": test[: a.lsp_limit] if a.lsp_limit else test}
    val = attach_priors(load_lsp(DATA / "lsp", "val", delta), a.priors, source="detection")
    lsp_val = {"detection": val}
    results["lsp_test_images"] = len(lsp_test["detection"])
    jobs = {
        ("detection", b): posetrack_samples(gt_files, pt_root, detector, delta, b)
        for b in ("yolo", "gt")
    }
    # the peer's own source: YOLO at a fixed 640 px (our detections differ on larger frames)
    grows = detector.config.max_imgsz > detector.config.imgsz  # larger frames, larger input
    peer_detector = priors_detector() if grows else detector
    for b in ("yolo", "gt"):
        jobs[("peer", b)] = (
            posetrack_samples(gt_files, pt_root, peer_detector, delta, b)
            if peer_detector is not detector
            else jobs[("detection", b)]
        )
    # LSP's images are smaller than 640 px: both detectors see them alike
    lsp_test["peer"], lsp_val["peer"] = lsp_test["detection"], lsp_val["detection"]
    from diffpose.backbones import build_yolo_backbone

    crop_backbone = build_yolo_backbone(pose_head=True).eval()
    imgsz = detector.config.imgsz  # the prior rule's reference, as the pipeline's
    for b in ("yolo", "gt"):
        jobs[("crop", b)] = crop_jobs(jobs[("detection", b)], crop_backbone, imgsz)
    # LSP's crop priors made here as for the other sets (the pipeline's, with the large crop),
    # not read from the training file (posetool detector-priors --crop, without it)
    lsp_test["crop"] = with_crop_priors(lsp_test["detection"], crop_backbone, imgsz)
    lsp_val["crop"] = with_crop_priors(lsp_val["detection"], crop_backbone, imgsz)
    photos = load_multi_person_photos(DATA, min_limb_joints=0)
    photo_det, photo_gt = photo_samples(photos, detector, delta)
    peer_photos = photo_samples(photos, peer_detector, delta)
    photo_sets = {
        "detection": (photo_det, photo_gt),
        "crop": (with_crop_priors(photo_det, crop_backbone, imgsz), photo_gt),
        "peer": peer_photos,
    }
    results["photos"] = {
        "persons": len(photo_gt[3]),
        "detected": int(photo_gt[3].sum()),
        "detected_by_peer": int(peer_photos[1][3].sum()),
    }

    predictors = {
        name: (
            "crop" if m.uses_crop_prior else "detection",
            model_predictor(m, a.steps, a.ensemble),
        )
        for name, m in loaded.items()
    }
    predictors["YOLO11n-pose 640 px (peer)"] = ("peer", peer_predictor)
    if peer_detector is not detector:
        predictors["YOLO11n-pose at the pipeline's detector sizes"] = ("detection", peer_predictor)
    predictors["YOLO11n-pose on each person's crop (the crop prior alone)"] = (
        "crop",
        peer_predictor,
    )
    # our models' poses go through the pipeline's duplicate suppression; YOLO's rows
    # (the peer, the priors alone) are shown as YOLO gives them
    duplicate_oks = PoseConfig().duplicate_oks
    sources = {}
    for name, (source, predict) in predictors.items():
        t0 = time.time()
        sources[name] = source
        row = {
            "prior": source,
            "lsp_pckh": lsp_groups(predict(lsp_test[source])[0], lsp_test[source]),
            "posetrack_yolo_boxes": posetrack_map(
                jobs[(source, "yolo")],
                gt_files,
                predict,
                duplicate_oks if name in loaded else 0.0,
            ),
            "posetrack_gt_boxes": posetrack_map(jobs[(source, "gt")], gt_files, predict),
            "photos_pck": photos_pck(*photo_sets[source], predict),
            "seconds": time.time() - t0,
        }
        results["rows"][name] = row
        print(
            f"{name}: LSP PCKh {row['lsp_pckh']['Total']:.1f}, PoseTrack mAP (YOLO boxes) "
            f"{row['posetrack_yolo_boxes']['Total']:.1f}, (GT boxes) "
            f"{row['posetrack_gt_boxes']['Total']:.1f}",
            flush=True,
        )

    n = results["photos"]
    print(
        f"\nMulti-person photos (pose_samples, real labels; {n['persons']} persons, "
        f"{n['detected']} detected, {n['detected_by_peer']} by the peer), PCK@0.1 of the box's "
        "longer side\n"
    )
    photo_cols = ["Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "Limbs"]
    print("| model | " + " | ".join(photo_cols) + " |")
    print("|---" * (len(photo_cols) + 1) + "|")
    for name, row in results["rows"].items():
        cells = [f"{row['photos_pck'][c]:.1f}" for c in photo_cols]
        print(f"| {name} | " + " | ".join(cells) + " |")
    first = next(iter(results["rows"].values()))["photos_pck"]
    print("| labelled joints | " + " | ".join(str(first[f"n_{c}"]) for c in photo_cols) + " |")

    for key, title in (
        ("lsp_pckh", "LSP test PCKh@0.5"),
        ("posetrack_yolo_boxes", "PoseTrack sample mAP, YOLO boxes (pipeline)"),
        ("posetrack_gt_boxes", "PoseTrack sample mAP, GT boxes"),
    ):
        print(f"\n{title}\n\n| model | " + " | ".join(COLS) + " |")
        print("|---" * (len(COLS) + 1) + "|")
        for name, row in results["rows"].items():
            print(f"| {name} | " + " | ".join(f"{row[key][c]:.1f}" for c in COLS) + " |")

    if a.grid:
        model = loaded["DiffPose refiner (default)"]
        source = sources["DiffPose refiner (default)"]
        print(
            "\n| steps | N | LSP val PCKh (selection) | LSP test PCKh | PoseTrack mAP (YOLO boxes) |"
        )
        print("|---|---|---|---|---|")
        grid = {}
        for steps in (1, 2, 4):
            for n in (1, 5, 10):
                predict = model_predictor(model, steps, n)
                val = lsp_groups(predict(lsp_val[source])[0], lsp_val[source])["Total"]
                test = lsp_groups(predict(lsp_test[source])[0], lsp_test[source])["Total"]
                m_ap = posetrack_map(jobs[(source, "yolo")], gt_files, predict, duplicate_oks)[
                    "Total"
                ]
                grid[f"steps{steps}_N{n}"] = {"lsp_val": val, "lsp_test": test, "map": m_ap}
                print(f"| {steps} | {n} | {val:.1f} | {test:.1f} | {m_ap:.1f} |", flush=True)
        results["grid"] = grid
    if a.own_video:
        video_models = {}  # every model above in the pipeline, the default also at --fast
        for name, path in models.items():
            kind = "paper" if name == "DiffPose paper preset (pure noise)" else "default"
            video_models[name] = (kind, path)
            if name == "DiffPose refiner (default)":
                video_models[f"{name}, --fast"] = ("fast", path)
                for seed in a.noise_seeds:  # the same pipeline, other N noise draws
                    video_models[f"{name}, noise seed {seed}"] = ("default", path, {"seed": seed})
        video_models["YOLO11n-pose 640 px + ByteTrack (peer)"] = ("peer", "")
        if grows:  # what the larger detector input alone gives
            video_models["YOLO11n-pose at the pipeline's detector sizes + ByteTrack"] = (
                f"peer-{detector.config.max_imgsz}",
                "",
            )
        results["own_video"] = run_models(video_models, Path(a.out).with_suffix(".own_video"))
        print(tables_text(results["own_video"]))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(results, indent=2))
    print(f"\nwritten {a.out}")


if __name__ == "__main__":
    main()
