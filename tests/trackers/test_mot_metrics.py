"""MOT metric plumbing with motmetrics on real MOT15 ground truth and sample tracker outputs.

motmetrics 1.4's own IoU helper calls ``np.asfarray`` (gone in numpy 2), so distances are built
here with ``trackers.matching.iou_matrix`` and the usual MOT15 gate (IoU >= 0.5).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.required import missing_input
from trackers import ByteTracker
from trackers.matching import iou_matrix

mm = pytest.importorskip("motmetrics")

SEQUENCES = ("TUD-Campus", "TUD-Stadtmitte")
METRICS = ["mota", "idf1", "num_switches", "num_false_positives", "num_misses", "num_objects"]


def _mot_root(shared_data: Path) -> Path:
    root = shared_data / "mot15_gt" / "train"
    if not root.is_dir():
        missing_input(f"{root} is absent")
    return root


def _load_mot(path: Path) -> np.ndarray:
    """MOT rows ``frame, id, left, top, width, height, ...`` as floats."""
    return np.loadtxt(path, delimiter=",", ndmin=2)


def _boxes_xyxy(rows: np.ndarray) -> np.ndarray:
    boxes = rows[:, 2:6].copy()
    boxes[:, 2:] += boxes[:, :2]
    return boxes


def _summary(gt: np.ndarray, hyp: np.ndarray) -> dict[str, float]:
    acc = mm.MOTAccumulator(auto_id=False)
    for frame_id in np.union1d(gt[:, 0], hyp[:, 0]).astype(int):
        gt_rows, hyp_rows = gt[gt[:, 0] == frame_id], hyp[hyp[:, 0] == frame_id]
        distances = 1.0 - iou_matrix(_boxes_xyxy(gt_rows), _boxes_xyxy(hyp_rows))
        distances[distances > 0.5] = np.nan
        acc.update(
            gt_rows[:, 1].astype(int), hyp_rows[:, 1].astype(int), distances, frameid=frame_id
        )
    table = mm.metrics.create().compute(acc, metrics=METRICS, name="run")
    return {name: float(table[name].iloc[0]) for name in METRICS}


@pytest.mark.parametrize("sequence", SEQUENCES)
def test_ground_truth_against_itself_is_perfect(shared_data, sequence):
    gt = _load_mot(_mot_root(shared_data) / sequence / "gt" / "gt.txt")
    summary = _summary(gt, gt)
    assert summary["mota"] == 1.0 and summary["idf1"] == 1.0
    assert summary["num_switches"] == summary["num_misses"] == summary["num_false_positives"] == 0
    assert summary["num_objects"] == len(gt)


# Computed once and checked by hand: MOTA = 1 - (misses + false positives + switches) / objects,
# e.g. TUD-Campus 1 - (150 + 13 + 7) / 359 = 0.52646.
EXPECTED = {
    "TUD-Campus": {
        "num_objects": 359,
        "num_misses": 150,
        "num_false_positives": 13,
        "num_switches": 7,
    },
    "TUD-Stadtmitte": {
        "num_objects": 1156,
        "num_misses": 452,
        "num_false_positives": 45,
        "num_switches": 7,
    },
}


@pytest.mark.parametrize("sequence", SEQUENCES)
def test_sample_tracker_output_gives_known_counts(shared_data, sequence):
    root = _mot_root(shared_data)
    gt = _load_mot(root / sequence / "gt" / "gt.txt")
    summary = _summary(gt, _load_mot(root / "results" / f"{sequence}.txt"))
    expected = EXPECTED[sequence]
    for name, value in expected.items():
        assert summary[name] == value, name
    errors = expected["num_misses"] + expected["num_false_positives"] + expected["num_switches"]
    assert summary["mota"] == pytest.approx(1.0 - errors / expected["num_objects"])


@pytest.mark.parametrize("sequence", SEQUENCES)
def test_our_tracker_on_ground_truth_boxes(shared_data, sequence):
    """Perfect boxes in: MOTA close to 1, losing only the unconfirmed first frame of late tracks."""
    gt = _load_mot(_mot_root(shared_data) / sequence / "gt" / "gt.txt")
    tracker = ByteTracker(fps=25)
    rows = []
    for frame_id in range(1, int(gt[:, 0].max()) + 1):
        gt_rows = gt[gt[:, 0] == frame_id]
        out = tracker.update(_boxes_xyxy(gt_rows), np.ones(len(gt_rows)))
        # report the detection each track took (det_indices), so only association is measured
        for track_id, gt_row in zip(out.track_ids, gt_rows[out.det_indices], strict=True):
            rows.append([frame_id, track_id, *gt_row[2:6]])
    summary = _summary(gt, np.array(rows))
    # Seen once: Campus MOTA 0.992 (2 misses, 1 switch), Stadtmitte 0.997 (3 misses, 0 switches).
    assert summary["mota"] > 0.98
    assert summary["num_false_positives"] == 0
    assert summary["num_switches"] <= 1
