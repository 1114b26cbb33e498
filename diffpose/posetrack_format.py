"""PoseTrack JSON formats (2018/2021 per-video files and the 2017 annolist), parsed.

This module is the one reader of the PoseTrack files: the evaluator, the training data and
the app's record I/O all go through it. It holds plain column arrays in the 17 PoseTrack slots
(see docs/POSETRACK.md); :mod:`diffpose.posetrack_writer` turns them back into JSON
objects (the app writes the files, atomically).

Shape letters: N persons, K = 17 keypoints, P polygon points.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from diffpose.json_checks import first_unsafe_value
from diffpose.keypoints import (
    KEYPOINT_NAMES,
    NUM_KEYPOINTS,
    POSETRACK17_TO_POSETRACK,
)
from diffpose.posetrack_fields import (
    PoseTrackFormatError,
    as_integer,
    as_numbers,
    optional_list,
    require,
    single,
    single_number,
)

__all__ = [
    "PoseTrackFormatError",
    "PoseTrackFrame",
    "PoseTrackVideo",
    "frame_id_for",
    "load_posetrack",
    "parse_posetrack",
    "sequence_number",
    "vid_id_for",
]

_SEQ_RE = re.compile(r"(?P<seq>\d+)_(?P<src>mpiinew|mpii|bonn)(?:_|$)")
_SOURCE_CODE = {"mpii": 1, "bonn": 2, "mpiinew": 3}


def sequence_number(sequence_name: str) -> str | None:
    """The PoseTrack sequence number a name carries (``"009473"`` for ``009473_mpii_test``,
    also inside a longer name such as ``val_009473_mpii_test``), or None."""
    m = _SEQ_RE.search(sequence_name)
    return None if m is None else m["seq"]


def vid_id_for(sequence_name: str) -> str:
    """The ``vid_id`` of a sequence: the PoseTrack number its name carries (``009473``, also
    of a folder-prefixed ``val_009473_mpii_test``), else the whole name (``day1_cam1``; its
    first ``_`` part would give ``day1_cam1`` and ``day1_cam2`` one id). posetool writes
    it; a file that gives none is read with the id of its frames' folder by the same rule."""
    return sequence_number(sequence_name) or sequence_name


def frame_id_for(sequence_name: str, frame_index: int) -> int | None:
    """PoseTrack frame id ``T*10^10 + seq*10^4 + frame`` for names like ``009473_mpii_test``.

    Returns None when the name carries no PoseTrack sequence (then callers use their own
    scheme; posetool uses the 0-based frame index).
    """
    m = _SEQ_RE.search(sequence_name)
    if m is None:
        return None
    return _SOURCE_CODE[m["src"]] * 10**10 + int(m["seq"]) * 10**4 + int(frame_index)


@dataclass(frozen=True, eq=False)
class PoseTrackFrame:
    """One image of a PoseTrack video, persons as columns in the 17 PoseTrack slots.

    Attributes:
        image_id: the image id (frame id rule for PoseTrack sequences).
        file_name: image path as written in the file.
        is_labeled: the file's ``is_labeled`` flag.
        ignore_regions: polygons, each (P, 2) float64 image pixels.
        keypoints: (N, K, 3) float64 x, y, visibility as in the file.
        keypoint_scores: (N, K) float64 per-joint scores, NaN where the file has none.
        person_scores: (N,) float64 ``score``, NaN where absent.
        track_ids: (N,) int64.
        boxes_xywh: (N, 4) float64 ``bbox``, NaN where absent.
        head_boxes_xywh: (N, 4) float64 ``bbox_head``, NaN where absent.
        annotation_ids: (N,) int64 annotation ids, -1 where absent.
        person_extras: per person, keys of the annotation this module does not interpret.
        image_extras: keys of the image entry this module does not interpret.
    """

    image_id: int
    file_name: str
    is_labeled: bool
    ignore_regions: tuple[np.ndarray, ...]
    keypoints: np.ndarray
    keypoint_scores: np.ndarray
    person_scores: np.ndarray
    track_ids: np.ndarray
    boxes_xywh: np.ndarray
    head_boxes_xywh: np.ndarray
    annotation_ids: np.ndarray
    person_extras: tuple[dict, ...] = ()
    image_extras: dict = field(default_factory=dict)

    @property
    def num_persons(self) -> int:
        return len(self.track_ids)

    def present(self) -> np.ndarray:
        """(N, K) bool: joints that exist, by poseval's rule (not x == y == v == 0)."""
        kp = self.keypoints
        return ~((kp[..., 0] == 0) & (kp[..., 1] == 0) & (kp[..., 2] == 0))


@dataclass(frozen=True, eq=False)
class PoseTrackVideo:
    """A parsed PoseTrack file: its frames in file order."""

    source: str
    fmt: str  # "2018", "2021" or "2017"
    vid_id: str
    frames: tuple[PoseTrackFrame, ...]

    @property
    def num_frames(self) -> int:
        return len(self.frames)


def load_posetrack(path: str | Path) -> PoseTrackVideo:
    """Read a PoseTrack 2017/2018/2021 JSON file.

    Raises:
        PoseTrackFormatError: not JSON, or a missing/invalid field (named in the message).
        FileNotFoundError: the file does not exist.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PoseTrackFormatError(path, "<file>", f"not UTF-8 text ({exc})") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise PoseTrackFormatError(path, "<file>", "nested too deeply to read") from None
    except ValueError as exc:  # JSONDecodeError, or an integer of too many digits
        raise PoseTrackFormatError(path, "<file>", f"not valid JSON ({exc})") from None
    return parse_posetrack(data, source=str(path))


def parse_posetrack(data: Any, source: str = "<memory>") -> PoseTrackVideo:
    """Parse a loaded PoseTrack JSON object (any of the three formats).

    Raises:
        PoseTrackFormatError: A missing or invalid field, an entry that is not an object, a
            number that is NaN, infinite or beyond float32, or nesting deeper than any
            PoseTrack file has (:mod:`diffpose.json_checks`); the message names the field.
    """
    unsafe = first_unsafe_value(data)
    if unsafe is not None:
        raise PoseTrackFormatError(source, *unsafe)
    if not isinstance(data, dict):
        raise PoseTrackFormatError(
            source, "<root>", f"expected an object, got {type(data).__name__}"
        )
    if "annolist" in data:
        return _parse_2017(data, source)
    if "images" in data:
        return _parse_2018(data, source)
    raise PoseTrackFormatError(
        source, "<root>", "neither 'images' (2018/2021) nor 'annolist' (2017)"
    )


def _slot_order(data: dict, source: str) -> tuple[np.ndarray, int]:
    """Index into the file's keypoint list for each of our 17 slots (-1: absent), and its length."""
    cats = data.get("categories")
    names = list(KEYPOINT_NAMES)
    if isinstance(cats, list) and cats and isinstance(cats[0], dict) and "keypoints" in cats[0]:
        names = cats[0]["keypoints"]
        if not isinstance(names, list) or len(names) not in (15, 17):
            raise PoseTrackFormatError(source, "categories[0].keypoints", "expected 15 or 17 names")
    order = np.full(NUM_KEYPOINTS, -1, dtype=np.int64)
    for i, name in enumerate(names):
        if name in KEYPOINT_NAMES:
            order[KEYPOINT_NAMES.index(name)] = i
    missing = [KEYPOINT_NAMES[k] for k in range(NUM_KEYPOINTS) if order[k] < 0 and k not in (3, 4)]
    if missing:
        raise PoseTrackFormatError(source, "categories[0].keypoints", f"missing {missing}")
    return order, len(names)


def _parse_regions(xs: Any, ys: Any, where: str, source: str) -> tuple[np.ndarray, ...]:
    if not isinstance(xs, list) or not isinstance(ys, list) or len(xs) != len(ys):
        raise PoseTrackFormatError(
            source, where, "ignore_regions_x/_y must be lists of equal length"
        )
    polys = []
    for i, (px, py) in enumerate(zip(xs, ys, strict=True)):
        ax = as_numbers(px, None, f"{where}_x[{i}]", source)
        ay = as_numbers(py, None, f"{where}_y[{i}]", source)
        if ax.size != ay.size:
            raise PoseTrackFormatError(source, f"{where}[{i}]", "x and y lengths differ")
        polys.append(np.stack([ax, ay], axis=1))
    return tuple(polys)


_IMAGE_KEYS = {"id", "file_name", "is_labeled", "ignore_regions_x", "ignore_regions_y"}
_ANN_KEYS = {"image_id", "id", "track_id", "bbox", "bbox_head", "keypoints", "scores", "score"}


def _parse_2018(data: dict, source: str) -> PoseTrackVideo:
    images = require(data, "images", "", source, list)
    annotations = data.get("annotations", [])
    if not isinstance(annotations, list):
        raise PoseTrackFormatError(source, "annotations", "expected a list")
    order, n_file = _slot_order(data, source)
    by_image: dict[int, list[tuple[int, dict]]] = {}
    for a_idx, ann in enumerate(annotations):
        where = f"annotations[{a_idx}]"
        image_id = require(ann, "image_id", where, source, (int, float, str))
        by_image.setdefault(as_integer(image_id, f"{where}.image_id", source), []).append(
            (a_idx, ann)
        )
    fmt = "2021" if any(isinstance(a, dict) and "person_id" in a for a in annotations) else "2018"
    frames, vid_id = [], ""
    for i_idx, img in enumerate(images):
        where = f"images[{i_idx}]"
        image_id = as_integer(
            require(img, "id", where, source, (int, float, str)), f"{where}.id", source
        )
        file_name = str(require(img, "file_name", where, source, str))
        vid_id = vid_id or str(img.get("vid_id", ""))
        regions: tuple[np.ndarray, ...] = ()
        if "ignore_regions_x" in img or "ignore_regions_y" in img:
            regions = _parse_regions(
                img.get("ignore_regions_x"),
                img.get("ignore_regions_y"),
                f"{where}.ignore_regions",
                source,
            )
        persons = [
            _parse_person_2018(ann, f"annotations[{a_idx}]", source, order, n_file)
            for a_idx, ann in by_image.get(image_id, [])
        ]
        frames.append(
            _frame_from_persons(
                image_id,
                file_name,
                bool(img.get("is_labeled", True)),
                regions,
                persons,
                {k: v for k, v in img.items() if k not in _IMAGE_KEYS},
            )
        )
    if not vid_id and frames:
        vid_id = vid_id_for(Path(frames[0].file_name).parent.name)
    return PoseTrackVideo(source=source, fmt=fmt, vid_id=vid_id, frames=tuple(frames))


def _parse_person_2018(ann: dict, where: str, source: str, order: np.ndarray, n_file: int) -> dict:
    flat = as_numbers(
        require(ann, "keypoints", where, source, list), 3 * n_file, f"{where}.keypoints", source
    )
    file_kp = flat.reshape(n_file, 3)
    kp = np.zeros((NUM_KEYPOINTS, 3))
    kp[order >= 0] = file_kp[order[order >= 0]]
    scores = np.full(NUM_KEYPOINTS, np.nan)
    raw_scores = ann.get("scores")
    if raw_scores:  # poseval treats an empty list as "no scores"
        s = as_numbers(raw_scores, n_file, f"{where}.scores", source)
        scores[order >= 0] = s[order[order >= 0]]
    track_id = require(ann, "track_id", where, source, (int, float))
    return {
        "keypoints": kp,
        "scores": scores,
        "score": float(ann["score"]) if isinstance(ann.get("score"), int | float) else np.nan,
        "track_id": as_integer(track_id, f"{where}.track_id", source),
        "bbox": as_numbers(ann["bbox"], 4, f"{where}.bbox", source)
        if "bbox" in ann
        else np.full(4, np.nan),
        "bbox_head": as_numbers(ann["bbox_head"], 4, f"{where}.bbox_head", source)
        if "bbox_head" in ann
        else np.full(4, np.nan),
        "id": as_integer(ann.get("id", -1), f"{where}.id", source),
        "extras": {k: v for k, v in ann.items() if k not in _ANN_KEYS},
    }


def _frame_from_persons(
    image_id, file_name, is_labeled, regions, persons, image_extras
) -> PoseTrackFrame:
    n = len(persons)

    def col(key, shape, dtype=np.float64):
        return np.array([p[key] for p in persons], dtype=dtype).reshape(shape)

    return PoseTrackFrame(
        image_id=int(image_id),
        file_name=file_name,
        is_labeled=is_labeled,
        ignore_regions=regions,
        keypoints=col("keypoints", (n, NUM_KEYPOINTS, 3)),
        keypoint_scores=col("scores", (n, NUM_KEYPOINTS)),
        person_scores=col("score", (n,)),
        track_ids=col("track_id", (n,), np.int64),
        boxes_xywh=col("bbox", (n, 4)),
        head_boxes_xywh=col("bbox_head", (n, 4)),
        annotation_ids=col("id", (n,), np.int64),
        person_extras=tuple(p["extras"] for p in persons),
        image_extras=image_extras,
    )


def _parse_2017(data: dict, source: str) -> PoseTrackVideo:
    annolist = require(data, "annolist", "", source, list)
    frames = []
    for i_idx, entry in enumerate(annolist):
        where = f"annolist[{i_idx}]"
        image = single(entry, "image", where, source)
        name = str(require(image, "name", f"{where}.image[0]", source, str))
        imgnum = (
            as_integer(single(entry, "imgnum", where, source), f"{where}.imgnum", source)
            if "imgnum" in entry
            else i_idx + 1
        )
        regions = []
        for r_idx, region in enumerate(optional_list(entry, "ignore_regions", where, source)):
            rwhere = f"{where}.ignore_regions[{r_idx}]"
            pts = require(region, "point", rwhere, source, list)
            regions.append(
                np.array(
                    [
                        [single_number(p, c, f"{rwhere}.point[{p_idx}]", source) for c in "xy"]
                        for p_idx, p in enumerate(pts)
                    ]
                ).reshape(-1, 2)
            )
        persons = [
            _parse_rect_2017(rect, f"{where}.annorect[{r_idx}]", source)
            for r_idx, rect in enumerate(require(entry, "annorect", where, source, list))
        ]
        is_labeled = (
            bool(single(entry, "is_labeled", where, source))
            if "is_labeled" in entry
            else bool(persons)
        )
        seq = Path(name).parent.name
        image_id = frame_id_for(seq, imgnum - 1)
        frames.append(
            _frame_from_persons(
                imgnum - 1 if image_id is None else image_id,
                name,
                is_labeled,
                tuple(regions),
                persons,
                {},
            )
        )
    vid_id = vid_id_for(Path(frames[0].file_name).parent.name) if frames else ""
    return PoseTrackVideo(source=source, fmt="2017", vid_id=vid_id, frames=tuple(frames))


def _parse_rect_2017(rect: dict, where: str, source: str) -> dict:
    if not isinstance(rect, dict):
        raise PoseTrackFormatError(source, where, f"expected an object, got {type(rect).__name__}")
    kp = np.zeros((NUM_KEYPOINTS, 3))
    scores = np.full(NUM_KEYPOINTS, np.nan)
    annopoints = optional_list(rect, "annopoints", where, source)
    points = (
        optional_list(annopoints[0], "point", f"{where}.annopoints[0]", source)
        if annopoints and isinstance(annopoints[0], dict)
        else []
    )
    for p_idx, pt in enumerate(points):
        pwhere = f"{where}.annopoints[0].point[{p_idx}]"
        joint = as_integer(single(pt, "id", pwhere, source), f"{pwhere}.id", source)
        if joint not in POSETRACK17_TO_POSETRACK:
            raise PoseTrackFormatError(source, f"{pwhere}.id", f"joint id {joint} not in 0..14")
        slot = POSETRACK17_TO_POSETRACK[joint]
        vis = single_number(pt, "is_visible", pwhere, source) if "is_visible" in pt else 1.0
        kp[slot] = (
            single_number(pt, "x", pwhere, source),
            single_number(pt, "y", pwhere, source),
            vis,
        )
        if "score" in pt:
            scores[slot] = single_number(pt, "score", pwhere, source)
    head = np.full(4, np.nan)
    if all(k in rect for k in ("x1", "y1", "x2", "y2")):
        x1, y1, x2, y2 = (single_number(rect, k, where, source) for k in ("x1", "y1", "x2", "y2"))
        head = np.array([x1, y1, x2 - x1, y2 - y1])
    return {
        "keypoints": kp,
        "scores": scores,
        "score": single_number(rect, "score", where, source) if "score" in rect else np.nan,
        "track_id": as_integer(single(rect, "track_id", where, source), f"{where}.track_id", source)
        if "track_id" in rect
        else 0,
        "bbox": np.full(4, np.nan),
        "bbox_head": head,
        "id": -1,
        "extras": {},
    }
