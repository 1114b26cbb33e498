"""Our own multi-person video check: hand-labelled frames of two held-out videos, the whole
pipeline against the peer, by poseval's rules (mAP per joint group, MOTA).

The labels (``bench/own_video_labels/``, made with ``bench/label_grid.py`` by looking at the
frames only, see the README there) cover two videos no shipped model trained on:

- ``crosswalk_crowd.mp4`` (640×360, ~10 people a frame; benchmarks only by its terms): ten
  segments of two frames 8 apart (36/44, 96/104, …, 636/644), 97 persons;
- PoseTrack's unlabelled ``000001_mpiinew_test`` folder (1280×720 football, 10 frames, a sliding
  tackle): frames 0, 2, 4, 6, 8, 15 persons.

Every model runs the whole video from its first frame, as a user would, and is scored at the
labelled frames (15 joints, head-box PCKh@0.5 matching, ignore regions honoured):

- ours: ``posetool run``'s pipeline (detect → ByteTrack → DiffPose) at the default settings,
  ``--fast`` and ``--preset paper``; ``default-low-boxes`` (asked for by name only) is the
  default with poses for tracked boxes down to score 0.1 instead of 0.2, as the peer keeps them:
  a diagnostic of the setting, seen on this reported set, so not a way to choose it; and any
  refine checkpoint given with ``--extra`` in the default pipeline;
- the peer: ultralytics YOLO11n-pose + ByteTrack (``model.track(..., persist=True,
  tracker="bytetrack.yaml")``, 640 px, ultralytics' defaults), the same weights, fed the same
  decoded frames. Its neck is the shoulder midpoint and its head top the nose mirrored away from
  the neck (``peer_head_joints``, which ``bench/model_card_eval.py`` uses too).

``--set validation`` scores the same way on the validation video set
(``bench/val_video_labels/``): hand-labelled frames of basketball_mmaction2,
two_people_indoor_mmaction2, squat_lsp, mot17_street_mmtracking and street_mmpose_demo, with
the refiner ``make train-heldout`` trains without
them (``--variant "NAME=checkpoint=runs/cpu_heldout/best.safetensors,FIELD=VALUE"``). The
pipeline's video settings are chosen there, never on the check above.

Usage::

    python bench/own_video_check.py                  # every model, both videos
    python bench/own_video_check.py --models default peer --json out/own_video_check.json
    python bench/own_video_check.py --models default --extra "delta 0=runs/abl_direct_d0/best.safetensors"
    C=runs/cpu_heldout/best.safetensors  # make train-heldout
    python bench/own_video_check.py --set validation --models peer \
        --variant "rule=checkpoint=$C" --variant "detection=checkpoint=$C,prior_choice=detection"
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

os.environ.setdefault("YOLO_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.label_grid import JOINTS  # noqa: E402
from diffpose.evaluation import evaluate_videos  # noqa: E402
from diffpose.keypoints import KEYPOINT_NAMES, NUM_KEYPOINTS  # noqa: E402
from diffpose.posetrack_format import PoseTrackFrame, PoseTrackVideo, load_posetrack  # noqa: E402
from diffpose.posetrack_writer import to_posetrack18  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
LABELS = ROOT / "bench" / "own_video_labels"
#: label folder -> the video it labels (a file or an image folder under shared/data).
VIDEOS = {
    "crosswalk_crowd": DATA / "videos" / "crosswalk_crowd.mp4",
    "000001_mpiinew_test": DATA / "posetrack18_sample" / "videos" / "000001_mpiinew_test",
}
#: The validation video set: hand-labelled frames of five videos ``make train-heldout``
#: holds out, on which the pipeline's video settings are chosen (never on the check above).
VAL_LABELS = ROOT / "bench" / "val_video_labels"
VAL_VIDEOS = {
    name: DATA / "videos" / file
    for name, file in (
        ("basketball_mmaction2", "basketball_mmaction2.mp4"),
        ("two_people_indoor_mmaction2", "two_people_indoor_mmaction2.mp4"),
        ("squat_lsp", "squat_lsp.mp4"),
        ("mot17_street_mmtracking", "mot17_street_mmtracking.mp4"),
        ("street_mmpose_demo", "street_mmpose_demo.mp4"),
    )
}
#: label set -> (its label folder, label folder name -> video)
LABEL_SETS = {"check": (LABELS, VIDEOS), "validation": (VAL_LABELS, VAL_VIDEOS)}
#: the 15 labelled joints in PoseTrack's 17 slots (3 and 4, the ears, are never labelled).
SLOT_OF = {name: KEYPOINT_NAMES.index(name) for name in JOINTS}
COLS = ["Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "Total"]


def _empty_frame(index: int, file_name: str) -> PoseTrackFrame:
    z = np.zeros((0,), np.float64)
    return PoseTrackFrame(
        image_id=index,
        file_name=file_name,
        is_labeled=False,
        ignore_regions=(),
        keypoints=np.zeros((0, NUM_KEYPOINTS, 3)),
        keypoint_scores=np.zeros((0, NUM_KEYPOINTS)),
        person_scores=z,
        track_ids=np.zeros((0,), np.int64),
        boxes_xywh=np.zeros((0, 4)),
        head_boxes_xywh=np.zeros((0, 4)),
        annotation_ids=np.zeros((0,), np.int64),
    )


def label_frame(index: int, label: dict) -> PoseTrackFrame:
    """One hand-labelled frame (``bench/label_grid.py``'s format) as PoseTrack ground truth."""
    persons = label["persons"]
    kp = np.zeros((len(persons), NUM_KEYPOINTS, 3))
    heads = np.zeros((len(persons), 4))
    for p, person in enumerate(persons):
        for name, slot in SLOT_OF.items():
            xy = person["keypoints"][name]
            if xy is not None:
                kp[p, slot] = (xy[0], xy[1], 1.0)
        x1, y1, x2, y2 = person["head_box"]
        heads[p] = (x1, y1, x2 - x1, y2 - y1)
    regions = tuple(np.asarray(r, np.float64) for r in label.get("ignore_regions", []))
    n = len(persons)
    return replace(
        _empty_frame(index, label["image"]),
        is_labeled=True,
        ignore_regions=regions,
        keypoints=kp,
        keypoint_scores=np.full((n, NUM_KEYPOINTS), np.nan),
        person_scores=np.full(n, np.nan),
        track_ids=np.array([int(person["track_id"]) for person in persons], np.int64),
        boxes_xywh=np.full((n, 4), np.nan),
        head_boxes_xywh=heads,
        annotation_ids=np.full(n, -1, np.int64),
    )


def label_folder(name: str) -> Path:
    """Where the labels of video ``name`` (a key of VIDEOS or VAL_VIDEOS) are."""
    return next(folder for folder, videos in LABEL_SETS.values() if name in videos) / name


def labelled_frames(name: str) -> dict[int, dict]:
    """Frame index -> label, from ``<label folder>/<name>/<frame:06d>.json``."""
    return {
        int(p.stem): json.loads(p.read_text()) for p in sorted(label_folder(name).glob("*.json"))
    }


def ground_truth(name: str, num_frames: int) -> PoseTrackVideo:
    labels = labelled_frames(name)
    frames = tuple(
        label_frame(i, labels[i]) if i in labels else _empty_frame(i, f"{i:06d}")
        for i in range(num_frames)
    )
    return PoseTrackVideo(source=str(label_folder(name)), fmt="2018", vid_id=name, frames=frames)


def ours(
    video: Path, preset: str, num_frames: int, checkpoint: str = "", fields: dict | None = None
) -> PoseTrackVideo:
    """``posetool run``'s pipeline on ``video`` with ``preset``'s settings, another
    ``checkpoint`` and the PoseConfig ``fields`` changed (as a ``--config`` file's ``pose``
    section would: unknown fields are refused with a hint); a field named
    ``detector.FIELD`` changes the DetectorConfig's instead."""
    from posetool.io.posetrack_io import video_to_posetrack
    from posetool.run.config_file import config_from_dict
    from posetool.run.pipeline import load_models, process_video
    from posetool.run.pipeline_config import PipelineConfig
    from posetool.run.pose_config import PoseConfig

    if preset == "fast":
        cfg = PipelineConfig.fast()
    elif preset == "default-low-boxes":  # a diagnostic, not a shipped setting
        cfg = PipelineConfig(pose=PoseConfig(min_box_score=0.1))
    elif preset == "paper":
        cfg = PipelineConfig(pose=PoseConfig(preset="paper"))
    else:
        cfg = PipelineConfig()
    sections = variant_sections(fields or {})
    if checkpoint:
        sections["pose"] = {"checkpoint": checkpoint} | sections["pose"]
    cfg = config_from_dict({**sections, "max_frames": num_frames}, cfg)
    result, _ = process_video(video, cfg, load_models(cfg))
    return video_to_posetrack(result)


def peer_head_joints(xy: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The peer's COCO keypoints (N, 17, 2) and scores (N, 17) in PoseTrack's slots, as float64
    copies: COCO has no neck or head top, so the eyes' slots become the neck (the shoulder
    midpoint) and the head top (the nose mirrored away from the neck), each scored by the
    lower of the joints it comes from."""
    xy = np.array(xy, np.float64)
    sc = np.array(scores, np.float64)
    xy[:, 1] = (xy[:, 5] + xy[:, 6]) / 2
    xy[:, 2] = xy[:, 0] + (xy[:, 0] - xy[:, 1])
    sc[:, 1] = np.minimum(sc[:, 5], sc[:, 6])
    sc[:, 2] = np.minimum(sc[:, 0], sc[:, 1])
    return xy, sc


def peer(video: Path, num_frames: int, max_imgsz: int = 0) -> PoseTrackVideo:
    """YOLO11n-pose + ByteTrack as ``yolo pose track`` runs them, on our decoded frames, at
    640 px; with ``max_imgsz`` (a diagnostic row, "peer-<max_imgsz>"), at the input size our
    pipeline's detector takes with that ``DetectorConfig.max_imgsz`` instead."""
    from ultralytics import YOLO

    from diffpose.yolo_weights import default_weights_path
    from posetool.io.video_io import VideoReader
    from posetool.run.detector import DetectorConfig

    model = YOLO(str(default_weights_path()), task="pose")
    sizes = DetectorConfig(imgsz=640, max_imgsz=max_imgsz)
    frames = []
    with VideoReader(video) as reader:
        for frame in reader:
            if frame.frame_index >= num_frames:
                break
            r = model.track(
                frame.frame_bgr,
                persist=True,
                tracker="bytetrack.yaml",
                imgsz=sizes.input_px(frame.frame_bgr.shape[:2]),
                verbose=False,
            )[0]
            empty = _empty_frame(frame.frame_index, f"{frame.frame_index:06d}")
            if r.boxes.id is None or r.keypoints is None:
                frames.append(empty)
                continue
            xy, sc = peer_head_joints(r.keypoints.xy.numpy(), r.keypoints.conf.numpy())
            n = len(xy)
            boxes = r.boxes.xyxy.numpy().astype(np.float64)
            frames.append(
                replace(
                    empty,
                    keypoints=np.concatenate([xy, np.ones((n, NUM_KEYPOINTS, 1))], axis=2),
                    keypoint_scores=sc,
                    person_scores=r.boxes.conf.numpy().astype(np.float64),
                    track_ids=r.boxes.id.numpy().astype(np.int64),
                    boxes_xywh=np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], 1),
                    head_boxes_xywh=np.full((n, 4), np.nan),
                    annotation_ids=np.full(n, -1, np.int64),
                )
            )
    return PoseTrackVideo(
        source=f"peer:{video}", fmt="2018", vid_id=video.stem, frames=tuple(frames)
    )


def _row(name: str, cols: dict[str, float], mota: float) -> str:
    return f"| {name} | " + " | ".join(f"{cols[c]:.1f}" for c in COLS) + f" | {mota:.1f} |"


def labelled_sets(label_set: str = "check") -> dict[str, tuple[Path, int]]:
    """Label folder -> (its video, frames to run: up to the last labelled one) of
    ``label_set`` ("check" or "validation")."""
    sets = {}
    for name, video in LABEL_SETS[label_set][1].items():
        labels = labelled_frames(name)
        if not labels:
            raise SystemExit(f"{label_folder(name)}: no label files")
        if not video.exists():
            raise SystemExit(f"{video}: missing (needs ../shared/data)")
        sets[name] = (video, max(labels) + 1)
    return sets


def frame_rate(video: Path) -> float:
    """The rate the pipeline assumes for ``video`` (the container's, or the image-folder one)."""
    from posetool.io.video_io import VideoReader

    with VideoReader(video) as reader:
        return reader.probe.fps


def smoothed(pred: PoseTrackVideo, video: Path, fps: float, method: str) -> PoseTrackVideo:
    """The prediction after ``posetool smooth --method METHOD`` (its default parameters)."""
    from posetool.io.posetrack_io import result_from_posetrack, video_to_posetrack
    from posetool.io.smoothing import SmoothingConfig, smooth_result

    result = result_from_posetrack(pred, pred.source, video, fps)
    return video_to_posetrack(smooth_result(result, SmoothingConfig(method=method)))


def _scored(pairs: list) -> dict[str, dict]:
    parts = {"all": evaluate_videos(pairs)} | {p[0]: evaluate_videos([p]) for p in pairs}
    return {
        part: {"ap": r.ap_columns(), "mota": r.mota_columns()["Total"]} for part, r in parts.items()
    }


def run_models(
    models: dict[str, tuple],
    preds_dir: Path,
    reuse: bool = False,
    smoothing: tuple[str, ...] = (),
    label_set: str = "check",
) -> dict[str, dict]:
    """Score each model on every labelled video and on all of them together.

    Args:
        models: row name -> (kind, checkpoint) or (kind, checkpoint, pose fields): kind
            "peer", "peer-<max_imgsz>", "default", "fast", "paper" or "default-low-boxes";
            checkpoint "" for the
            kind's shipped one; pose fields: PoseConfig fields to change
            (``detector.NAME`` a DetectorConfig one, :func:`variant_sections`).
        preds_dir: each model's PoseTrack JSON per video is written to
            ``preds_dir/<row name>/<video>.json``.
        reuse: score a prediction already there instead of running the model again.
        smoothing: also score each of our models after ``posetool smooth`` with each of these
            methods ("one-euro", "savgol"), as rows "<row> + <method>".
        label_set: "check" (the reported check) or "validation" (the set settings are
            chosen on).

    Returns:
        row name -> {"all" or video name: {"ap": group columns, "mota": total MOTA}}.
    """
    sets = labelled_sets(label_set)
    truth = {name: ground_truth(name, n) for name, (_, n) in sets.items()}
    fps = {name: frame_rate(video) for name, (video, _) in sets.items()} if smoothing else {}
    table: dict[str, dict] = {}
    for row, (kind, checkpoint, *pose) in models.items():
        pairs = []
        for name, (video, n) in sets.items():
            path = preds_dir / row.replace("/", "_") / f"{name}.json"
            if reuse and path.exists():
                pred = load_posetrack(path)
            else:
                if kind.startswith("peer"):
                    pred = peer(video, n, peer_max_imgsz(kind))
                else:
                    pred = ours(video, kind, n, checkpoint, pose[0] if pose else None)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(to_posetrack18(pred), allow_nan=False))
            pairs.append((name, truth[name], pred))
        table[row] = _scored(pairs)
        for method in smoothing if not kind.startswith("peer") else ():
            table[f"{row} + {method}"] = _scored(
                [
                    (name, gt, smoothed(pred, sets[name][0], fps[name], method))
                    for name, gt, pred in pairs
                ]
            )
        print(f"{row}: done", file=sys.stderr, flush=True)
    return table


def tables_text(table: dict[str, dict], label_set: str = "check") -> str:
    """Markdown tables: all videos together, then each video."""
    lines = []
    title = "Own video check" if label_set == "check" else "Validation video set"
    for part in next(iter(table.values())):
        lines += [f"\n{title}, {part}: mAP per joint group, MOTA (total)\n"]
        lines += ["| model | " + " | ".join(COLS) + " | MOTA |", "|---|" + "---|" * (len(COLS) + 1)]
        lines += [_row(row, parts[part]["ap"], parts[part]["mota"]) for row, parts in table.items()]
    counts = {
        n: sum(len(v["persons"]) for v in labelled_frames(n).values())
        for n in LABEL_SETS[label_set][1]
    }
    lines.append(f"\nlabelled persons: {counts}")
    return "\n".join(lines)


#: The PipelineConfig sections a variant's ``SECTION.NAME`` fields may name.
VARIANT_SECTIONS = ("detector", "tracker")


def variant_sections(fields: dict) -> dict[str, dict]:
    """A variant's fields -> {"pose": ..., "detector": ..., "tracker": ...}, the sections of
    a ``--config`` file (:func:`posetool.run.config_file.config_from_dict`): a key
    ``detector.NAME`` or ``tracker.NAME`` is that section's ``NAME``, any other key a
    PoseConfig field."""
    sections: dict[str, dict] = {"pose": {}, **{s: {} for s in VARIANT_SECTIONS}}
    for key, value in fields.items():
        section, dot, name = key.partition(".")
        if dot and section in VARIANT_SECTIONS:
            sections[section][name] = value
        else:
            sections["pose"][key] = value
    return sections


def peer_max_imgsz(kind: str) -> int:
    """The ``max_imgsz`` of a peer row: "peer" -> 0 (640 px), "peer-1280" -> 1280."""
    _, _, size = kind.partition("-")
    if size and not size.isdigit():
        raise SystemExit(f"--models: {kind!r} is not 'peer' or 'peer-<max_imgsz>'")
    return int(size or 0)


def parse_variant_fields(text: str) -> dict:
    """ "a=1,b=x" -> {"a": 1, "b": "x"}: PoseConfig fields, or DetectorConfig ones as
    ``detector.NAME``, numbers parsed as numbers."""
    fields = {}
    for item in filter(None, text.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--variant: {item!r} is not FIELD=VALUE")
        try:
            fields[key] = json.loads(value)
        except json.JSONDecodeError:
            fields[key] = value
    return fields


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="*", default=["default", "fast", "paper", "peer"])
    ap.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="NAME=CHECKPOINT",
        help="another refine checkpoint in the default pipeline (e.g. an ablation); repeatable",
    )
    ap.add_argument(
        "--smooth",
        nargs="*",
        default=[],
        choices=["one-euro", "savgol"],
        help="also score our models after posetool smooth with these methods",
    )
    ap.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=FIELD=VALUE[,FIELD=VALUE]",
        help="the default pipeline with PoseConfig fields (or DetectorConfig ones as "
        "detector.NAME) changed, e.g. "
        "'detection prior=prior_choice=detection' or 'boxes 0.1=min_box_score=0.1'; repeatable",
    )
    ap.add_argument(
        "--set",
        dest="label_set",
        choices=sorted(LABEL_SETS),
        default="check",
        help="check: the reported check (default); validation: the held-out videos settings "
        "are chosen on",
    )
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument(
        "--preds",
        type=Path,
        help="each model's PoseTrack JSON per video is written here (default "
        "out/own_video_preds, or out/val_video_preds for --set validation)",
    )
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="score the predictions already in --preds again; run only the missing ones",
    )
    args = ap.parse_args()
    models = {m: (m, "") for m in args.models}
    for item in args.extra:
        name, _, path = item.partition("=")
        models[name] = ("default", path)
    for item in args.variant:
        name, _, fields = item.partition("=")
        models[name] = ("default", "", parse_variant_fields(fields))
    preds = args.preds or ROOT / "out" / (
        "own_video_preds" if args.label_set == "check" else "val_video_preds"
    )
    table = run_models(models, preds, args.reuse, tuple(args.smooth), args.label_set)
    print(tables_text(table, args.label_set))
    if args.json:
        args.json.write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
