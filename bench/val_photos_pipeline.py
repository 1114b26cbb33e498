"""The photo validation set through the real pipelines: each photo posed alone by the pipeline
(:func:`posetool.run.pipeline.process_video`, what ``posetool run`` does per photo) under pipeline
settings to compare, beside the peer as a user runs it on a photo (ultralytics YOLO11n-pose
``predict`` at 640 px, its default conf 0.25), every model's output poses matched to the
labelled persons the same way. For choosing photo settings (never a reported result).

:mod:`bench.val_photos` scores the prior and the refiner on the detector's boxes directly;
this script scores what a user gets: the tracker's boxes of a one-frame input, the duplicate
suppression, every setting of :class:`posetool.run.pipeline_config.PipelineConfig`. The labels and
photos are :mod:`bench.val_photos`' (the hand-labelled COCO photos, bus and zidane, and the
7 single persons of pose_samples); a labelled person is matched to the output pose holding
most of its labelled joints (:func:`multi_person_photos.match_by_joints`), one-to-one; a
person matched to none counts all its joints as missed. PCK@0.1 of the labelled joints'
extent, per joint group, over all photos, the COCO photos (at most 640 px) and the larger
ones. Pass the held-out refiner (``make train-heldout``), which never trained on these photos.

Usage::

    python bench/val_photos_pipeline.py --checkpoint runs/cpu_heldout/best.safetensors \\
        --variant "shipped=" --variant "both priors=prior_choice=both"

A variant is ``NAME=FIELD=VALUE,...``: PoseConfig fields, DetectorConfig ones as
``detector.NAME``, ByteTrackConfig ones as ``tracker.NAME``, except the two start thresholds
(``tracker.new_track_thresh``, ``tracker.track_high_thresh``), which on a photo follow
``pose.min_box_score`` (the pipeline's rule for a one-image input): vary that instead.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from multi_person_photos import PhotoGT, match_by_joints, pck_groups  # noqa: E402
from own_video_check import (  # noqa: E402
    parse_variant_fields,
    peer_head_joints,
    variant_sections,
)
from val_photos import (  # noqa: E402
    larger_than,
    load_pose_samples_singles,
    load_val_photos,
    table_lines,
    validation_args,
)

#: Output poses of one photo: (N, 17, 2) image px in PoseTrack slots and (N, 4) boxes xyxy.
Poses = tuple[np.ndarray, np.ndarray]
#: Settings the pipeline overrides for a one-image input (posetool.run.pipeline._tracker_config).
PHOTO_IGNORED_FIELDS = ("tracker.new_track_thresh", "tracker.track_high_thresh")


def score_poses(photos: list[PhotoGT], poses: list[Poses]) -> dict:
    """PCK@0.1 per group of each photo's output ``poses`` against its labels (module doc),
    with the persons matched and the poses output."""
    pred, gt_xy, weights, boxes, matched, posed = [], [], [], [], [], 0
    for photo, (xy, pose_boxes) in zip(photos, poses, strict=True):
        posed += len(xy)
        hits = match_by_joints(photo.keypoints_xy, photo.weights, pose_boxes)
        for k, hit in enumerate(hits):
            pred.append(xy[hit] if hit >= 0 else np.zeros((17, 2)))
            gt_xy.append(photo.keypoints_xy[k])
            weights.append(photo.weights[k])
            boxes.append(photo.boxes_xyxy[k])
            matched.append(hit >= 0)
    pck, _ = pck_groups(*(np.asarray(a) for a in (pred, gt_xy, weights, boxes, matched)))
    return {**pck, "matched": int(np.sum(matched)), "persons": len(matched), "poses": posed}


def variant_config(text: str, defaults, checkpoint: str):
    """``NAME=FIELD=VALUE,...`` -> (name, PipelineConfig) over ``defaults`` with
    ``checkpoint``; fields are PoseConfig's, ``detector.*`` and ``tracker.*``
    (:func:`own_video_check.variant_sections`), checked as a ``--config`` file's keys."""
    from posetool.run.config_file import ConfigFileError, config_from_dict

    name, _, fields = text.partition("=")
    parsed = parse_variant_fields(fields)
    for key in parsed:
        if key in PHOTO_IGNORED_FIELDS:
            raise SystemExit(
                f"--variant {text!r}: {key} does not apply to photos (it follows "
                "pose.min_box_score there; vary min_box_score)"
            )
    sections = variant_sections(parsed)
    sections["pose"] = {"checkpoint": checkpoint} | sections["pose"]
    try:
        return name, config_from_dict(sections, defaults)
    except ConfigFileError as exc:  # an unknown field, a bad value
        raise SystemExit(f"--variant {text!r}: {exc}") from None


def pipeline_poses(photos: list[PhotoGT], config) -> list[Poses]:
    """Each photo posed alone by the pipeline with ``config``."""
    from posetool.run.pipeline import load_models, process_video

    models = load_models(config)
    out = []
    for photo in photos:
        result, _ = process_video(photo.image_path, config, models)
        record = result.frames[0]
        out.append((np.asarray(record.keypoints_xy, np.float64), np.asarray(record.boxes_xyxy)))
    return out


def peer_poses(photos: list[PhotoGT], conf: float = 0.25) -> list[Poses]:
    """YOLO11n-pose as ``yolo pose predict`` runs on each photo (640 px, ``conf``), its COCO
    keypoints in PoseTrack slots (:func:`own_video_check.peer_head_joints`)."""
    from ultralytics import YOLO

    from diffpose.yolo_weights import default_weights_path

    model = YOLO(str(default_weights_path()), task="pose")
    out = []
    for photo in photos:
        r = model.predict(photo.image_path, imgsz=640, conf=conf, verbose=False)[0]
        xy = r.keypoints.xy.cpu().numpy().reshape(-1, 17, 2)
        scores = r.keypoints.conf.cpu().numpy().reshape(-1, 17)
        out.append((peer_head_joints(xy, scores)[0], r.boxes.xyxy.cpu().numpy().reshape(-1, 4)))
    return out


def main() -> None:
    args = validation_args(__doc__.split("\n\n")[0], "pipeline")

    from posetool.run.pipeline_config import PipelineConfig

    defaults = PipelineConfig()
    variants = [variant_config(v, defaults, args.checkpoint) for v in args.variant or ["shipped="]]
    photos = load_val_photos() + load_pose_samples_singles()
    large = [larger_than(p, defaults.detector.imgsz) for p in photos]
    subsets = {
        "all": [True] * len(photos),
        "photos up to 640 px (COCO)": [not x for x in large],
        "photos larger than 640 px": large,
    }
    rows: dict[str, dict[str, dict]] = {k: {} for k in subsets}
    runs = [("peer (yolo pose predict, 640 px, conf 0.25)", peer_poses(photos))]
    for name, config in variants:
        runs.append((name, pipeline_poses(photos, config)))
        print(f"{name}: done", flush=True)
    for name, poses in runs:
        for subset, keep in subsets.items():
            kept = [i for i, k in enumerate(keep) if k]
            rows[subset][name] = score_poses([photos[i] for i in kept], [poses[i] for i in kept])
    for subset, table in rows.items():
        first = next(iter(table.values()))
        print(f"\nValidation photos through the pipelines, {subset} ({first['persons']} persons)\n")
        print("\n".join(table_lines(table, {"matched": "matched", "poses": "poses"})))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
