"""Per-joint multi-object tracking metrics, as poseval's ``evaluateTracking`` (motmetrics).

One accumulator per joint and sequence, fed per frame with the GT and predicted track ids
that have the joint and the normalised distances of matched pairs. Counts are summed over
sequences, then MOTA = 100 (1 - (misses + switches + FP) / GT objects), MOTP = 100 (1 - sum of
matched distances / detections), precision and recall from the same counts.

poseval drops the last (cleaned) frame of every sequence; ``skip_last_frame`` keeps that
behaviour by default. The matched-distance sum uses motmetrics' MOT events (MATCH and
SWITCH), which is what poseval summed with the motmetrics of its time (newer motmetrics also
lists RAW rows in ``events``, which would count every distance twice).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from diffpose.evaluation.assignment import FrameAssignment
from diffpose.keypoints import NUM_KEYPOINTS

_COUNTS = ("num_misses", "num_switches", "num_false_positives", "num_objects", "num_detections")


def sequence_counts(frames: Sequence[FrameAssignment], skip_last_frame: bool = True) -> np.ndarray:
    """(K, 6) counts for one sequence: misses, switches, FP, objects, detections, sum of D."""
    import motmetrics as mm

    used = list(frames[:-1]) if skip_last_frame else list(frames)
    out = np.zeros((NUM_KEYPOINTS, len(_COUNTS) + 1))
    if not used:
        return out
    mh = mm.metrics.create()
    for j in range(NUM_KEYPOINTS):
        acc = mm.MOTAccumulator(auto_id=True)
        for fa in used:
            t = fa.tracking[j]
            acc.update(t.gt_ids.tolist(), t.pred_ids.tolist(), t.dist)
        m = mh.compute(acc, metrics=list(_COUNTS), return_dataframe=False, name="acc")
        out[j, : len(_COUNTS)] = [float(m[c]) for c in _COUNTS]
        ev = acc.mot_events
        out[j, -1] = float(ev.loc[ev["Type"].isin(["MATCH", "SWITCH"]), "D"].sum())
    return out


def tracking_metrics(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Per-joint MOTA, MOTP, precision and recall (x100) from summed (K, 6) counts."""
    misses, switches, fps, objects, dets, sum_d = counts.T
    with np.errstate(divide="ignore", invalid="ignore"):
        n_obj = np.where(objects > 0, objects, np.nan)
        mota = 100 * (1.0 - (misses + switches + fps) / n_obj)
        motp = np.where(dets == 0, 0.0, 100 * (1.0 - sum_d / np.where(dets == 0, 1, dets)))
        total = np.where(fps + dets > 0, fps + dets, np.nan)
        pre = 100 * dets / total
        rec = 100 * dets / n_obj
    return {"mota": mota, "motp": motp, "precision": pre, "recall": rec}
