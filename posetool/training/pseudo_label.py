"""Pseudo-labels from the YOLO11n-pose teacher, written as a PoseTrack-layout training set.

For every input (video, image folder, or a folder of unrelated stills) the frames are written
to ``<out>/images/<name>/<frame:06d>.jpg`` and the teacher's poses of every ``every``-th frame
to ``<out>/annotations/train/<name>.json`` (PoseTrack 2018). Only the 13 joints COCO and
PoseTrack share and PoseTrack evaluates (nose, shoulders, elbows, wrists, hips, knees, ankles)
are kept, each only above ``min_joint_score``; head_bottom, head_top and the ears stay
unlabelled (0, 0, 0). People below ``min_box_score``, smaller than ``min_box_height_px`` or
with fewer than ``min_joints`` confident joints are left out. With ``flip_agreement`` > 0 the
teacher also labels the mirrored frame, and a joint is kept only where the two runs agree
within that share of the person's box height (:mod:`posetool.training.teacher_agreement`). Frames
without a kept person are written unlabelled, so clips around labelled frames still have
their neighbours.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from diffpose.keypoints import COCO17_SHARED_EVALUATED, NUM_KEYPOINTS
from diffpose.posetrack_format import PoseTrackFrame, PoseTrackVideo, vid_id_for
from diffpose.posetrack_writer import to_posetrack18
from posetool.io.posetrack_io import atomic_write_text
from posetool.io.video_io import VideoReader
from posetool.training.teacher_agreement import flip_agreement

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class PseudoLabelConfig:
    """Which teacher outputs count as labels."""

    every: int = 2
    min_box_score: float = 0.5
    min_joint_score: float = 0.5
    min_joints: int = 6
    min_box_height_px: float = 48.0
    max_frames: int = 0
    flip_agreement: float = 0.0

    def __post_init__(self) -> None:
        if self.every < 1 or self.min_joints < 1 or self.max_frames < 0:
            raise ValueError("every and min_joints must be >= 1, max_frames >= 0")
        if self.flip_agreement < 0:
            raise ValueError(f"flip_agreement must be >= 0, got {self.flip_agreement}")
        for name in ("min_box_score", "min_joint_score"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1]")


def _persons(
    det, cfg: PseudoLabelConfig, agree: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(keypoints (N,17,3), scores (N,17), boxes_xywh (N,4)) of the kept people; ``agree``
    ((N, 17) COCO joints, :func:`posetool.training.teacher_agreement.flip_agreement`) drops the rest."""
    kps, scores, boxes = [], [], []
    shared = np.array(COCO17_SHARED_EVALUATED)
    for i in range(len(det)):
        x1, y1, x2, y2 = det.boxes_xyxy[i]
        if det.scores[i] < cfg.min_box_score or (y2 - y1) < cfg.min_box_height_px:
            continue
        conf = det.keypoint_scores[i, shared]
        ok = conf >= cfg.min_joint_score
        if agree is not None:
            ok &= agree[i, shared]
        if ok.sum() < cfg.min_joints:
            continue
        kp = np.zeros((NUM_KEYPOINTS, 3))
        sc = np.zeros(NUM_KEYPOINTS)
        # COCO-17 and PoseTrack share slot numbers for these 13 joints.
        kp[shared[ok], :2] = det.keypoints_xy[i, shared[ok]]
        kp[shared[ok], 2] = 1
        sc[shared[ok]] = conf[ok]
        kps.append(kp)
        scores.append(sc)
        boxes.append([x1, y1, x2 - x1, y2 - y1])
    n = len(kps)
    return (
        np.array(kps).reshape(n, NUM_KEYPOINTS, 3),
        np.array(scores).reshape(n, NUM_KEYPOINTS),
        np.array(boxes, dtype=np.float64).reshape(n, 4),
    )


def persons_frame(image_id: int, file_name: str, labelled: bool, persons) -> PoseTrackFrame:
    """A frame of N labelled persons: ``persons`` is (keypoints (N, 17, 3) x, y, visibility;
    keypoint scores (N, 17), NaN where none; boxes (N, 4) xywh); ``labelled`` and N > 0 make
    it a labelled frame."""
    kp, sc, boxes = persons
    n = len(kp)
    return PoseTrackFrame(
        image_id=image_id,
        file_name=file_name,
        is_labeled=labelled and n > 0,
        ignore_regions=(),
        keypoints=kp,
        keypoint_scores=sc,
        person_scores=np.full(n, np.nan),
        track_ids=np.arange(n, dtype=np.int64),
        boxes_xywh=boxes,
        head_boxes_xywh=np.full((n, 4), np.nan),
        annotation_ids=np.full(n, -1, np.int64),
        person_extras=tuple({} for _ in range(n)),
    )


def still_name(image_path: str | Path) -> str:
    """The sequence name ``--stills`` gives a photo: its folder's name and its stem
    (``assets/bus.jpg`` -> ``assets_bus``); its labels go to ``<name>.json``."""
    image_path = Path(image_path)
    return f"{image_path.parent.name}_{image_path.stem}"


def _frames_of(path: Path, stills: bool) -> Iterable[tuple[str, int, np.ndarray]]:
    """(sequence name, frame index, frame) for a video/image folder, or each still alone."""
    if stills and path.is_dir():
        for img_path in sorted(
            p for p in path.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"}
        ):
            img = cv2.imread(str(img_path))
            if img is None:
                LOG.warning("%s: unreadable image, skipped", img_path)
                continue
            yield still_name(img_path), 0, img
        return
    with VideoReader(path) as reader:
        name = path.stem if path.is_file() else path.name
        for frame in reader:
            yield name, frame.frame_index, frame.frame_bgr


def pseudo_label(
    inputs: Iterable[str | Path],
    out_dir: str | Path,
    detector,
    cfg: PseudoLabelConfig | None = None,
    stills: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Label ``inputs`` with ``detector`` (a :class:`posetool.run.detector.PersonDetector`).

    Returns:
        {sequence name: number of labelled persons}.
    """
    cfg = cfg or PseudoLabelConfig()
    out = Path(out_dir)
    (out / "annotations" / "train").mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for path in (Path(p) for p in inputs):
        sequences: dict[str, list[PoseTrackFrame]] = {}
        for name, idx, img in _frames_of(path, stills):
            if cfg.max_frames and idx >= cfg.max_frames:
                break
            rel = f"images/{name}/{idx:06d}.jpg"
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(out / rel), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
            labelled = idx % cfg.every == 0
            persons = _teacher_persons(detector, img, cfg) if labelled else _persons_none()
            sequences.setdefault(name, []).append(persons_frame(idx, rel, labelled, persons))
            if progress:
                progress(name, idx)
        for name, frames in sequences.items():
            video = PoseTrackVideo(
                source=str(path), fmt="2018", vid_id=vid_id_for(name), frames=tuple(frames)
            )
            atomic_write_text(
                out / "annotations" / "train" / f"{name}.json", json.dumps(to_posetrack18(video))
            )
            counts[name] = sum(f.num_persons for f in frames)
            LOG.info("%s: %d frames, %d labelled persons", name, len(frames), counts[name])
    return counts


def _teacher_persons(detector, img: np.ndarray, cfg: PseudoLabelConfig):
    """The teacher's kept people of one frame (with the flip-agreement filter if set)."""
    if not cfg.flip_agreement:
        return _persons(detector.detect(img), cfg)
    det, det_mirrored = detector.detect_batch([img, np.ascontiguousarray(img[:, ::-1])])
    agree = flip_agreement(det, det_mirrored, img.shape[1], cfg.flip_agreement)
    return _persons(det, cfg, agree)


def _persons_none():
    return np.zeros((0, NUM_KEYPOINTS, 3)), np.zeros((0, NUM_KEYPOINTS)), np.zeros((0, 4))
