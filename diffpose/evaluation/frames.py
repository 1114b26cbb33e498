"""Frames prepared for evaluation exactly as poseval prepares them.

poseval converts every PoseTrack 2018 file to the 2017 annolist and then:
1. pairs GT and prediction frames by their order in the files (counts must agree);
2. drops frames whose GT has no person, and the prediction frames at the same positions;
3. in frames with GT ignore regions, removes GT and predicted points strictly inside a region
   and drops persons left without points;
A joint exists when it is not ``x == y == visibility == 0`` (poseval's converter rule); a
prediction joint without a score gets -9999.

Shape letters: N persons, K = 17 slots.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from diffpose.evaluation.polygon import points_in_any_polygon
from diffpose.keypoints import EVALUATED_SLOTS, NUM_KEYPOINTS
from diffpose.posetrack_format import PoseTrackFrame, PoseTrackVideo

MIN_SCORE = -9999.0
MAX_TRACK_ID = 10000


class EvaluationInputError(ValueError):
    """Ground truth and predictions cannot be evaluated together (message names the file)."""


@dataclass(frozen=True, eq=False)
class EvalFrame:
    """Persons of one frame as the evaluator sees them.

    Attributes:
        keypoints_xy: (N, K, 2) float64.
        present: (N, K) bool, joints that exist (only evaluated slots can be True).
        scores: (N, K) float64, MIN_SCORE where a prediction has no score.
        track_ids: (N,) int64.
        head_sizes: (N,) float64 0.6 x head-box diagonal (NaN where no head box).
    """

    keypoints_xy: np.ndarray
    present: np.ndarray
    scores: np.ndarray
    track_ids: np.ndarray
    head_sizes: np.ndarray

    @property
    def num_persons(self) -> int:
        return len(self.track_ids)

    def keep(self, mask: np.ndarray) -> EvalFrame:
        return EvalFrame(
            self.keypoints_xy[mask],
            self.present[mask],
            self.scores[mask],
            self.track_ids[mask],
            self.head_sizes[mask],
        )


def _eval_frame(fr: PoseTrackFrame) -> EvalFrame:
    present = fr.present()
    evaluated = np.zeros(NUM_KEYPOINTS, dtype=bool)
    evaluated[list(EVALUATED_SLOTS)] = True
    present &= evaluated[None]
    scores = np.where(np.isnan(fr.keypoint_scores), MIN_SCORE, fr.keypoint_scores)
    hb = fr.head_boxes_xywh
    head_sizes = 0.6 * np.hypot(hb[:, 2], hb[:, 3])
    return EvalFrame(fr.keypoints[..., :2].copy(), present, scores, fr.track_ids.copy(), head_sizes)


def _remove_ignored(frame: EvalFrame, regions: tuple[np.ndarray, ...]) -> EvalFrame:
    """poseval ``removeIgnoredPointsRects``: drop points in regions, then empty persons."""
    if frame.num_persons == 0:
        return frame
    pts = frame.keypoints_xy.reshape(-1, 2)
    inside = points_in_any_polygon(pts, regions).reshape(frame.present.shape)
    present = frame.present & ~inside
    kept = EvalFrame(frame.keypoints_xy, present, frame.scores, frame.track_ids, frame.head_sizes)
    return kept.keep(present.any(axis=1))


@dataclass(frozen=True, eq=False)
class SequencePair:
    """GT and prediction frames of one sequence after poseval's cleanup."""

    name: str
    gt: tuple[EvalFrame, ...]
    pred: tuple[EvalFrame, ...]


def prepare_pair(name: str, gt: PoseTrackVideo, pred: PoseTrackVideo) -> SequencePair:
    """Pair, clean and apply ignore regions to one sequence (see module docstring).

    Raises:
        EvaluationInputError: frame counts differ, or predicted track ids are invalid.
    """
    if gt.num_frames != pred.num_frames:
        raise EvaluationInputError(
            f"{pred.source}: {pred.num_frames} prediction frames but ground truth "
            f"{gt.source} has {gt.num_frames}"
        )
    gt_out, pr_out = [], []
    for idx, (g, p) in enumerate(zip(gt.frames, pred.frames, strict=True)):
        if p.num_persons and (p.track_ids.max() >= MAX_TRACK_ID or p.track_ids.min() < 0):
            raise EvaluationInputError(
                f"{pred.source}: images[{idx}]: track ids must be in 0..{MAX_TRACK_ID - 1}"
            )
        if len(np.unique(p.track_ids)) != p.num_persons:
            raise EvaluationInputError(
                f"{pred.source}: images[{idx}] ({p.file_name}): non-unique track ids"
            )
        if g.num_persons == 0:
            continue
        ge, pe = _eval_frame(g), _eval_frame(p)
        if g.ignore_regions:
            ge, pe = _remove_ignored(ge, g.ignore_regions), _remove_ignored(pe, g.ignore_regions)
        gt_out.append(ge)
        pr_out.append(pe)
    return SequencePair(name=name, gt=tuple(gt_out), pred=tuple(pr_out))
