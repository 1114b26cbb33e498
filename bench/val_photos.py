"""The photo validation set: the pipeline's per-person pose settings on hand-labelled photos,
beside the peer, for choosing photo settings (never a reported result).

The labels are ``bench/val_photo_labels/*.json`` (one per photo, the format of
``bench/label_grid.py``; their README says who labelled what): the 20 COCO val2014 photos
of ``shared/data/images/coco_val2014_people`` (all at most 640 px, so the detector sees every
pixel) and ultralytics' ``bus.jpg`` (810×1080) and ``zidane.jpg`` (1280×720), whose large
persons the detector sees shrunk; with them, the large single persons of
``shared/data/pose_samples`` that the model card's photos leave out (MPII's five photos and
Human-Art's single-person ones: the card takes photos of two or more persons only), labelled
by those datasets. The refiner chosen on it must not have trained on the hand-labelled photos: ``make train-heldout`` holds their pseudo-labels out
(``HELDOUT_PHOTOS``), so pass ``--checkpoint runs/cpu_heldout/best.safetensors``.

As the model card's photos (``bench/multi_person_photos.py``, whose PCK this reuses), a
person without a detection counts all its joints as missed, and PCK@0.1 is taken of the
longer side of the person's box, here the extent of its labelled joints (head top to ankles
on a whole person, a little smaller than a detection box; on a person labelled on the upper
body alone, half or less: stricter there). These labels have no person boxes, so YOLO's
detections (box score ≥ 0.2) are matched one-to-one to the labelled persons by the share of
each person's labelled joints inside the detection box (at least half;
``multi_person_photos.match_by_joints``), not by box IoU, which a partly labelled person's
small joint extent fails. Three tables: all photos, those up to the detector's base input
(640 px: the COCO photos) and those larger (split by each photo's longer side, not by its
source); each gives how many persons a row poses.
Each variant's prior is made as the pipeline makes it (:func:`posetool.run.crop_priors.
sample_crop_priors` with the variant's ``PoseConfig``); the peer is YOLO11n-pose at 640 px,
its COCO keypoints mapped as in ``bench/own_video_check.py``.

Usage::

    python bench/val_photos.py --checkpoint runs/cpu_heldout/best.safetensors \\
        --variant "default=" --variant "no larger prior crop=large_prior_crop_px=0"

A variant is ``NAME=FIELD=VALUE,...`` over the pipeline's defaults, with the fields this
script honours: ``PoseConfig``'s :data:`POSE_FIELDS`, the detector's :data:`DETECTOR_FIELDS`
as ``detector.NAME`` (e.g. ``detector.max_imgsz=0``); any other field is an error.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from multi_person_photos import PhotoGT, joint_extent_xyxy  # noqa: E402
from own_video_check import parse_variant_fields, variant_sections  # noqa: E402

from diffpose.keypoints import KEYPOINT_NAMES, NUM_KEYPOINTS  # noqa: E402
from posetool.io.image_size import image_size  # noqa: E402

LABELS = Path(__file__).resolve().parent / "val_photo_labels"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GROUPS = ("Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "Limbs")
#: Fewest labelled joints a person must have to count (the labelling rule asked for 5).
MIN_JOINTS = 5
#: The variant fields this script applies (module doc): the prior's crops and the sampling.
POSE_FIELDS = (
    "large_prior_crop_px",
    "max_prior_crop_px",
    "prior_crop_px",
    "prior_crop_max_upscale",
    "steps",
    "ensemble",
)
DETECTOR_FIELDS = ("imgsz", "max_imgsz")


def photo_path(stem: str, data_root: Path) -> Path:
    """The image of a label file's ``stem``: ``coco_NNNNNN`` is COCO val2014 image NNNNNN in
    ``data_root/images/coco_val2014_people``; ``bus`` and ``zidane`` are ultralytics' assets."""
    if stem.startswith("coco_"):
        number = stem.removeprefix("coco_")
        return data_root / "images" / "coco_val2014_people" / f"COCO_val2014_000000{number}.jpg"
    import ultralytics

    return Path(ultralytics.__file__).parent / "assets" / f"{stem}.jpg"


def load_val_photos(labels_dir: Path = LABELS, data_root: Path = DATA) -> list[PhotoGT]:
    """One :class:`PhotoGT` per label file (sorted by name), its persons with at least
    ``MIN_JOINTS`` labelled joints, boxed by their joints' extent.

    Raises:
        FileNotFoundError: a label file's image is absent.
        ValueError: a label file names a joint outside PoseTrack's slots.
    """
    photos = []
    for label_file in sorted(Path(labels_dir).glob("*.json")):
        doc = json.loads(label_file.read_text())
        image = photo_path(label_file.stem, Path(data_root))
        if not image.is_file():
            raise FileNotFoundError(f"{label_file}: its photo {image} is absent")
        xy, weights, boxes = [], [], []
        for person in doc["persons"]:
            p_xy = np.zeros((NUM_KEYPOINTS, 2))
            p_w = np.zeros(NUM_KEYPOINTS)
            for name, point in person["keypoints"].items():
                if name not in KEYPOINT_NAMES:
                    raise ValueError(f"{label_file}: unknown joint {name!r}")
                if point is not None:
                    p_xy[KEYPOINT_NAMES.index(name)] = point
                    p_w[KEYPOINT_NAMES.index(name)] = 1.0
            if p_w.sum() < MIN_JOINTS:
                continue
            xy.append(p_xy)
            weights.append(p_w)
            boxes.append(joint_extent_xyxy(p_xy, p_w))
        if xy:
            photos.append(
                PhotoGT(
                    str(image), label_file.stem, np.stack(xy), np.stack(weights), np.stack(boxes)
                )
            )
    return photos


#: MPII's 16 joints in order, as PoseTrack slot names (pelvis and thorax have none).
MPII_SLOTS = (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle", None, None,
    "head_bottom", "head_top", "right_wrist", "right_elbow", "right_shoulder", "left_shoulder",
    "left_elbow", "left_wrist",
)  # fmt: skip


def load_pose_samples_singles(data_root: Path = DATA) -> list[PhotoGT]:
    """The single-person photos of ``pose_samples`` that the model card's photos leave out:
    MPII's (``mpii/test_mpii.json``, upper neck as head_bottom) and Human-Art's photos with one
    labelled person (mapped as ``multi_person_photos`` maps them), boxed by their labelled
    joints' extent as the hand-labelled photos are."""
    from multi_person_photos import _person, _slot_map

    root = Path(data_root) / "pose_samples"
    photos = []
    for ann in json.loads((root / "mpii" / "test_mpii.json").read_text()):
        xy = np.zeros((NUM_KEYPOINTS, 2))
        w = np.zeros(NUM_KEYPOINTS)
        for j, name in enumerate(MPII_SLOTS):
            if name and ann["joints_vis"][j]:
                xy[KEYPOINT_NAMES.index(name)] = ann["joints"][j]
                w[KEYPOINT_NAMES.index(name)] = 1.0
        if w.sum() >= MIN_JOINTS:
            photos.append(_joint_extent_photo(root / "mpii" / ann["image"], "mpii", xy, w))
    label_file = root / "humanart" / "test_humanart.json"
    doc = json.loads(label_file.read_text())
    names = doc["categories"][0]["keypoints"]
    slots = _slot_map(names, label_file)
    for image in doc["images"]:
        anns = [a for a in doc["annotations"] if a["image_id"] == image["id"]]
        if len(anns) == 1:
            xy, w, _ = _person(anns[0], slots, len(names), label_file)
            path = label_file.parent / image["file_name"].removeprefix("HumanArt/images/")
            if w.sum() >= MIN_JOINTS:
                photos.append(_joint_extent_photo(path, "humanart", xy, w))
    return photos


def _joint_extent_photo(path: Path, dataset: str, xy: np.ndarray, w: np.ndarray) -> PhotoGT:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: photo is absent")
    return PhotoGT(str(path), dataset, xy[None], w[None], joint_extent_xyxy(xy, w)[None])


def larger_than(photo: PhotoGT, px: int) -> bool:
    """Whether the photo's longer side exceeds ``px`` (the detector's base input)."""
    size = image_size(photo.image_path)
    if size is None:
        raise ValueError(f"{photo.image_path}: not a readable JPEG, PNG or BMP")
    return max(size) > px


def variant_configs(text: str, defaults):
    """``NAME=FIELD=VALUE,...`` -> (name, PoseConfig, DetectorConfig) over ``defaults``
    (a PipelineConfig); a field this script does not apply is an error."""
    name, _, fields = text.partition("=")
    sections = variant_sections(parse_variant_fields(fields))
    pose_fields, detector_fields = sections["pose"], sections["detector"]
    unknown = (
        sorted(set(pose_fields) - set(POSE_FIELDS))
        + [f"detector.{k}" for k in sorted(set(detector_fields) - set(DETECTOR_FIELDS))]
        + [f"tracker.{k}" for k in sorted(sections["tracker"])]
    )
    if unknown:
        raise SystemExit(
            f"--variant {name!r}: {', '.join(unknown)} not applied by this script "
            f"(it applies {', '.join(POSE_FIELDS)} and detector.{', detector.'.join(DETECTOR_FIELDS)})"
        )
    return (
        name,
        replace(defaults.pose, **pose_fields),
        replace(defaults.detector, **detector_fields),
    )


def subset_samples(photos: list[PhotoGT], samples: list, gt: tuple, keep_photo: np.ndarray):
    """The part of :func:`model_card_eval.photo_samples`'s ``(samples, gt)`` over ``photos``
    that belongs to the photos ``keep_photo`` (a (len(photos),) bool mask) marks: its
    arrays hold the labelled persons photo after photo, its samples the matched ones."""
    owner = np.repeat(np.arange(len(photos)), [len(p.boxes_xyxy) for p in photos])
    matched = np.asarray(gt[3], bool)
    keep_person = np.asarray(keep_photo, bool)[owner]
    keep_sample = keep_person[matched]
    kept = [s for s, keep in zip(samples, keep_sample, strict=True) if keep]
    return kept, tuple(np.asarray(a)[keep_person] for a in gt)


def validation_args(description: str, what: str) -> argparse.Namespace:
    """The arguments of a validation photo script: ``--checkpoint`` (the held-out refiner),
    ``--variant`` (``what`` settings to compare; repeatable) and ``--json``."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--checkpoint", required=True, help="the held-out refiner (module doc)")
    ap.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=FIELD=VALUE,...",
        help=f"{what} settings to compare (module doc); repeatable",
    )
    ap.add_argument("--json", type=Path, help="also write the tables here")
    return ap.parse_args()


def table_lines(table: dict[str, dict], extra: dict[str, str]) -> list[str]:
    """A markdown table of ``table``'s rows (name -> figures): PCK per :data:`GROUPS`, then
    the ``extra`` columns (header -> the row's key)."""
    lines = ["| model | " + " | ".join([*GROUPS, *extra]) + " |"]
    lines.append("|---" * (len(GROUPS) + len(extra) + 1) + "|")
    for name, r in table.items():
        cells = [f"{r[g]:.1f}" for g in GROUPS] + [str(r[k]) for k in extra.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    args = validation_args(__doc__.split("\n\n")[0], "pose")

    import model_card_eval as mce
    import torch

    from diffpose.backbones import build_yolo_backbone
    from diffpose.checkpoint import load_checkpoint
    from diffpose.data.priors import with_priors
    from diffpose.validation import predict_samples
    from posetool.run.crop_priors import prior_crop_settings
    from posetool.run.detector_priors import priors_detector
    from posetool.run.pipeline_config import PipelineConfig
    from posetool.training.crop_prior_files import sample_crop_priors

    torch.set_num_threads(2)
    photos = load_val_photos() + load_pose_samples_singles()
    defaults = PipelineConfig()
    variants = [variant_configs(text, defaults) for text in args.variant or ["default="]]
    large = np.array([larger_than(p, defaults.detector.imgsz) for p in photos])
    subsets = {  # which photos each table takes
        "all": np.ones(len(photos), bool),
        "photos up to 640 px (COCO)": ~large,
        "photos larger than 640 px (bus, zidane, MPII, Human-Art singles)": large,
    }
    model = load_checkpoint(args.checkpoint).eval()
    backbone = build_yolo_backbone(pose_head=True).eval()
    rows: dict[str, dict[str, dict]] = {}

    def score(name, subset_samples, predict):
        for subset, (samples, gt) in subset_samples.items():
            row = mce.photos_pck(samples, gt, predict)
            rows.setdefault(subset, {})[name] = {**row, "posed": int(np.sum(gt[3]))}

    persons_in = {
        k: sum(len(p.boxes_xyxy) for p, keep in zip(photos, mask, strict=True) if keep)
        for k, mask in subsets.items()
    }

    def by_subset(samples, gt):
        return {k: subset_samples(photos, samples, gt, keep) for k, keep in subsets.items()}

    peer = by_subset(*mce.photo_samples(photos, priors_detector(), 2, by_joints=True))
    score("peer (YOLO11n-pose, 640 px)", peer, mce.peer_predictor)
    for name, pose, detector in variants:
        det = priors_detector(detector.imgsz, detector.max_imgsz)
        samples, gt = mce.photo_samples(photos, det, 2, by_joints=True)
        if samples:
            xy, sc, _ = sample_crop_priors(
                samples,
                backbone,
                detector.imgsz,
                **prior_crop_settings(pose),
            )
            samples = with_priors(samples, xy, sc)
        with_crop = by_subset(samples, gt)
        score(f"{name}: prior alone", with_crop, mce.peer_predictor)
        steps, ensemble, decoding = pose.steps, pose.ensemble, pose.heatmap_decoding
        score(
            f"{name}: refiner",
            with_crop,
            lambda s, n=steps, e=ensemble, d=decoding: predict_samples(
                model, s, steps=n, ensemble=e, decoding=d
            )[:2],
        )
        print(f"{name}: done", flush=True)
    for subset, table in rows.items():
        first = next(iter(table.values()))
        persons = persons_in[subset]
        print(f"\nValidation photos, {subset} ({persons} persons): PCK@0.1 per joint group\n")
        print("\n".join(table_lines(table, {"persons posed": "posed"})))
        counts = " | ".join(str(first[f"n_{g}"]) for g in GROUPS)
        print(f"| labelled joints | {counts} | {persons} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
