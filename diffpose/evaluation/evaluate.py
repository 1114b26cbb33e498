"""PoseTrack evaluation: per-joint AP and MOTA over many sequences, poseval-equivalent.

Shape letters: K = 17 PoseTrack slots (the two ear placeholders are never evaluated and read
NaN in every per-joint array).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from diffpose.evaluation.assignment import FrameAssignment, assign_frame
from diffpose.evaluation.average_precision import joint_ap
from diffpose.evaluation.frames import EvaluationInputError, SequencePair, prepare_pair
from diffpose.evaluation.mota import sequence_counts, tracking_metrics
from diffpose.keypoints import EVALUATED_SLOTS, KEYPOINT_NAMES, NUM_KEYPOINTS, TABLE_COLUMNS
from diffpose.posetrack_format import PoseTrackVideo, load_posetrack

__all__ = [
    "EvaluationResult",
    "ap_per_joint",
    "assign_sequences",
    "evaluate_paths",
    "evaluate_videos",
    "joint_group_columns",
]


def _nanmean(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else float("nan")


def joint_group_columns(per_joint: np.ndarray) -> dict[str, float]:
    """(K,) per-joint figures → Head, Shoulder, ..., Ankle (means of the group's joints) and
    Total (mean of the 15 evaluated joints), as poseval's table."""
    cols = {name: float(np.mean(per_joint[list(slots)])) for name, slots in TABLE_COLUMNS}
    cols["Total"] = _nanmean(per_joint[list(EVALUATED_SLOTS)])
    return cols


@dataclass(frozen=True, eq=False)
class EvaluationResult:
    """Per-joint arrays (K,) over the 17 slots; NaN for joints that are not evaluated."""

    ap: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    mota: np.ndarray | None
    motp: np.ndarray | None
    mot_precision: np.ndarray | None
    mot_recall: np.ndarray | None
    num_sequences: int
    num_frames: int
    skip_last_frame: bool

    @staticmethod
    def _columns(per_joint: np.ndarray) -> dict[str, float]:
        return joint_group_columns(per_joint)

    def ap_columns(self) -> dict[str, float]:
        """Head, Shoulder, ..., Ankle (means of the joints) and Total (mean of 15 joints)."""
        return self._columns(self.ap)

    def mota_columns(self) -> dict[str, float] | None:
        return None if self.mota is None else self._columns(self.mota)

    @property
    def total_ap(self) -> float:
        return self.ap_columns()["Total"]

    def to_dict(self) -> dict:
        def joints(arr):
            return {KEYPOINT_NAMES[k]: float(arr[k]) for k in EVALUATED_SLOTS}

        out = {
            "num_sequences": self.num_sequences,
            "num_frames": self.num_frames,
            "ap": self.ap_columns(),
            "ap_per_joint": joints(self.ap),
            "precision_total": _nanmean(self.precision[list(EVALUATED_SLOTS)]),
            "recall_total": _nanmean(self.recall[list(EVALUATED_SLOTS)]),
        }
        if self.mota is not None:
            out["mota"] = self.mota_columns()
            out["mota_per_joint"] = joints(self.mota)
            out["motp_total"] = _nanmean(self.motp[list(EVALUATED_SLOTS)])
            out["mot_precision_total"] = _nanmean(self.mot_precision[list(EVALUATED_SLOTS)])
            out["mot_recall_total"] = _nanmean(self.mot_recall[list(EVALUATED_SLOTS)])
            out["skip_last_frame"] = self.skip_last_frame
        return out


def assign_sequences(
    pairs: Iterable[tuple[str, PoseTrackVideo, PoseTrackVideo]], dist_thresh: float = 0.5
) -> list[list[FrameAssignment]]:
    """Per sequence, the assignment of each evaluated frame (one with ground-truth persons,
    in order): the step of :func:`evaluate_videos` before AP and MOTA are summed."""
    prepared: list[SequencePair] = [prepare_pair(name, gt, pr) for name, gt, pr in pairs]
    return [
        [
            assign_frame(g, p, dist_thresh, where=f"{seq.name} frame {i}")
            for i, (g, p) in enumerate(zip(seq.gt, seq.pred, strict=True))
        ]
        for seq in prepared
    ]


def ap_per_joint(
    frames: Sequence[FrameAssignment],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(AP, precision, recall), each (K,) x100 and NaN where not evaluated, over ``frames``
    pooled (a frame given twice counts twice, as a bootstrap resample needs)."""
    ap = np.full(NUM_KEYPOINTS, np.nan)
    pre, rec = ap.copy(), ap.copy()
    for j in EVALUATED_SLOTS:
        scores = np.concatenate([fa.scores[j] for fa in frames]) if frames else np.zeros(0)
        hits = np.concatenate([fa.hits[j] for fa in frames]) if frames else np.zeros(0, bool)
        n_pos = float(sum(fa.num_gt[j] for fa in frames))
        ap[j], pre[j], rec[j] = joint_ap(scores, hits, n_pos)
    return ap, pre, rec


def evaluate_videos(
    pairs: Iterable[tuple[str, PoseTrackVideo, PoseTrackVideo]],
    dist_thresh: float = 0.5,
    tracking: bool = True,
    skip_last_frame: bool = True,
) -> EvaluationResult:
    """Evaluate (name, ground truth, prediction) sequence pairs together, as poseval does."""
    per_seq = assign_sequences(pairs, dist_thresh)
    frames = [fa for seq in per_seq for fa in seq]
    ap, pre, rec = ap_per_joint(frames)
    mot: dict[str, np.ndarray | None] = dict.fromkeys(("mota", "motp", "precision", "recall"))
    if tracking:
        counts = sum(
            (sequence_counts(seq, skip_last_frame) for seq in per_seq), np.zeros((NUM_KEYPOINTS, 6))
        )
        metrics = tracking_metrics(counts)
        not_eval = np.ones(NUM_KEYPOINTS, dtype=bool)
        not_eval[list(EVALUATED_SLOTS)] = False
        mot = {k: np.where(not_eval, np.nan, v) for k, v in metrics.items()}
    return EvaluationResult(
        ap=ap,
        precision=pre,
        recall=rec,
        mota=mot["mota"],
        motp=mot["motp"],
        mot_precision=mot["precision"],
        mot_recall=mot["recall"],
        num_sequences=len(per_seq),
        num_frames=len(frames),
        skip_last_frame=skip_last_frame,
    )


def _json_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix == ".json" and p.is_file())
    return [path]


def evaluate_paths(
    gt_path: str | Path,
    pred_path: str | Path,
    dist_thresh: float = 0.5,
    tracking: bool = True,
    skip_last_frame: bool = True,
) -> EvaluationResult:
    """Evaluate a GT file or folder against a prediction file or folder (matched by name).

    Raises:
        EvaluationInputError: no GT files, or a prediction file missing / with another frame count.
        PoseTrackFormatError: a file is malformed (the message names it).
    """
    gt_path, pred_path = Path(gt_path), Path(pred_path)
    if not gt_path.exists():
        raise EvaluationInputError(f"{gt_path}: ground truth not found")
    if not pred_path.exists():
        raise EvaluationInputError(f"{pred_path}: predictions not found")
    gt_files = _json_files(gt_path)
    if not gt_files:
        raise EvaluationInputError(f"{gt_path}: no .json ground-truth files")
    pairs = []
    for gt_file in gt_files:
        pred_file = pred_path / gt_file.name if pred_path.is_dir() else pred_path
        if not pred_file.is_file():
            raise EvaluationInputError(
                f"{pred_file}: prediction file for {gt_file.name} is missing"
            )
        pairs.append((gt_file.stem, load_posetrack(gt_file), load_posetrack(pred_file)))
    return evaluate_videos(pairs, dist_thresh, tracking, skip_last_frame)
